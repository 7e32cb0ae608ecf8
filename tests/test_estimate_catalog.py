"""`llmp models catalog` and the verdict against this machine's memory."""

from __future__ import annotations

import json
import os
import re

import pytest

from llm_practice.catalog.catalog import load_catalog

from .conftest import run_llmp


def _published(text: str) -> float:
    number, unit = re.match(r"([\d.]+)\s*([MB])", text).groups()
    return float(number) * (1e6 if unit == "M" else 1e9)


def test_catalog_entries_match_their_published_sizes():
    entries = load_catalog()
    names = {e.name for e in entries}
    assert {"internlm2-chat-7b", "chatglm3-6b", "qwen1.5-7b-chat"} <= names  # the tutorial's
    assert len(names) == len(entries)
    for e in entries:
        assert e.ids.hf or e.ids.modelscope or e.ids.openxlab, e.name
        # published sizes are rounded to 2-3 significant figures
        assert e.params == pytest.approx(_published(e.published), rel=0.02), e.name


def test_catalog_filters_by_source_and_shows_that_id():
    data = json.loads(run_llmp("models", "catalog", "--source", "openxlab", "--json").stdout)
    names = [m["name"] for m in data["models"]]
    assert names and all("openxlab" in m["ids"] for m in data["models"])
    assert "internlm2-chat-7b" in names and "qwen2.5-7b-instruct" not in names
    table = run_llmp("models", "catalog", "--source", "modelscope", env={"COLUMNS": "200"}).stdout
    assert "ZhipuAI/chatglm3-6b" in table and "modelscope id" in table


def test_catalog_fits_on_this_machine():
    result = run_llmp("models", "catalog", "--fits", "--json")
    assert result.returncode == 0, result.stderr
    models = {m["name"]: m for m in json.loads(result.stdout)["models"]}
    small, big = models["smollm2-135m-instruct"]["fits"], models["qwen3-30b-a3b"]["fits"]
    assert small["chat"] and small["lora"] and small["full"]  # 135M fits anywhere we run tests
    assert not big["full"] and big["full_bytes"] > 400e9  # 30B full fine-tuning: ~0.5 TB


def test_verdict_uses_the_gpu_that_nvidia_smi_reports(tmp_path):
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'NVIDIA H200, 140000, 143771'\n")
    fake.chmod(0o755)
    path = f"{fake.parent}{os.pathsep}{os.environ['PATH']}"
    data = json.loads(run_llmp("estimate", "--params", "70b", "--json", env={"PATH": path}).stdout)
    assert data["machine"]["gpus"][0]["name"] == "NVIDIA H200"
    assert data["options"]["device"] == "gpu"
    verdict = data["verdict"]
    assert verdict.startswith("On this GPU") and "fits for chat at" in verdict
    assert "full fine-tuning needs about" in verdict and "(does not fit)" in verdict
