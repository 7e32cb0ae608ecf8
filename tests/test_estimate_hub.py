"""`llmp estimate OWNER/NAME` against a local hub on 127.0.0.1: it reads config.json and the
safetensors headers through Range requests, and never the weights."""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import run_llmp
from .hubserver import LocalHub, dead_endpoint
from .test_estimate import CONFIGS, smollm2_tensors, write_safetensors

ONLINE = {"HF_HUB_OFFLINE": "0"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    config = (CONFIGS / "SmolLM2-135M-Instruct.json").read_bytes()
    single = root / "model.safetensors"
    write_safetensors(single, smollm2_tensors())
    # A sharded copy: two files and the index that maps tensors to them.
    tensors = smollm2_tensors()
    names = list(tensors)
    halves = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    for shard, part in halves.items():
        write_safetensors(root / shard, {n: tensors[n] for n in part})
    index = {"metadata": {"total_size": 2 * 134_515_008},
             "weight_map": {n: shard for shard, part in halves.items() for n in part}}
    with LocalHub(root / "served") as local:
        local.add_repo("HuggingFaceTB/SmolLM2-135M-Instruct",
                       {"config.json": config, "model.safetensors": single})
        local.add_repo("test/sharded", {"config.json": config,
                                        "model.safetensors.index.json": json.dumps(index).encode(),
                                        **{shard: root / shard for shard in halves}})
        local.add_repo("test/bin-only", {"config.json": config, "pytorch_model.bin": 4096})
        yield local


def estimate_json(*args, env=None):
    result = run_llmp("estimate", *args, "--json", env={**ONLINE, **(env or {})})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_hub_repo_reads_only_headers(hub):
    repo = "HuggingFaceTB/SmolLM2-135M-Instruct"
    data = estimate_json(repo, "--endpoint", hub.url)
    assert data["kind"] == "hub" and data["parameters"] == 134_515_008
    assert data["counted_from"] == "safetensors headers (hub)"
    weights = hub.repos[repo].files["model.safetensors"].size
    served = hub.served_bytes(repo, "model.safetensors")
    assert 0 < served <= 100_001 < weights // 1000  # one Range request for the header
    assert hub.served_bytes(repo, "config.json") == len((CONFIGS / "SmolLM2-135M-Instruct.json").read_bytes())


def test_hub_sharded_repo_via_hf_endpoint(hub):
    data = estimate_json("test/sharded", env={"HF_ENDPOINT": hub.url})
    assert data["parameters"] == 134_515_008
    for shard in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"):
        assert 0 < hub.served_bytes("test/sharded", shard) <= 100_001


def test_hub_repo_without_safetensors_counts_from_config(hub):
    data = estimate_json("test/bin-only", "--endpoint", hub.url)
    assert data["parameters"] == 134_515_008 and data["counted_from"] == "config"
    assert hub.served_bytes("test/bin-only", "pytorch_model.bin") == 0


def test_hub_errors_say_what_to_do(hub):
    missing = run_llmp("estimate", "nobody/nothing", "--endpoint", hub.url, env=ONLINE)
    assert missing.returncode == 3 and "nobody/nothing" in missing.stderr
    dead = run_llmp("estimate", "test/sharded", "--endpoint", dead_endpoint(), env=ONLINE)
    assert dead.returncode == 7 and "--endpoint" in dead.stderr
    offline = run_llmp("estimate", "test/sharded", "--endpoint", hub.url, env={"HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 1 and "HF_HUB_OFFLINE" in offline.stderr
    for result in (missing, dead, offline):
        assert "Traceback" not in result.stderr


def test_downloaded_folder_matches_hub_estimate(hub, tmp_path):
    folder = tmp_path / "SmolLM2-135M-Instruct"
    folder.mkdir()
    shutil.copy(CONFIGS / "SmolLM2-135M-Instruct.json", folder / "config.json")
    write_safetensors(folder / "model.safetensors", smollm2_tensors())
    local = estimate_json(str(folder))
    remote = estimate_json("HuggingFaceTB/SmolLM2-135M-Instruct", "--endpoint", hub.url)
    assert local["estimates"] == remote["estimates"]
