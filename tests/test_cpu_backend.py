"""The llama.cpp build runs on any x86-64 CPU: portable flags, a probed CPU variant, `llmp env`.

A native build (`-march=native`) compiled AMX kernels on a VM that advertised AMX but refused
it, and the first decode died with SIGILL. The Makefile builds every CPU variant instead, and
the install step probes them in child processes before it records one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llm_practice.chat import cpu_backend

from .conftest import run_llmp

ROOT = Path(__file__).resolve().parents[1]
# /proc/cpuinfo flag that proves each feature a variant is compiled for
CPUINFO_FLAG = {"SSE42": "sse4_2", "AVX": "avx", "F16C": "f16c", "FMA": "fma", "AVX2": "avx2",
                "BMI2": "bmi2", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi",
                "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16",
                "AVX_VNNI": "avx_vnni", "AMX_TILE": "amx_tile", "AMX_INT8": "amx_int8"}


def _make_var(name: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{name}\s*:?=\s*(.+)$", text, re.M)
    assert match, f"Makefile has no {name}"
    return match.group(1).strip()


def test_makefile_builds_portable_variants_as_documented():
    flags = _make_var("LLAMA_CMAKE")
    assert "-DGGML_NATIVE=OFF" in flags
    assert "-DGGML_BACKEND_DL=ON" in flags and "-DGGML_CPU_ALL_VARIANTS=ON" in flags
    for readme in ("README.md", "README_zh.md"):
        assert flags in (ROOT / readme).read_text(), f"{readme} does not state the build flags"
    pinned = _make_var("LLAMA_CPP")
    assert pinned in (ROOT / "pyproject.toml").read_text(), "pyproject pins another version"
    # the wheel is never taken from pip's cache, which ignores CMAKE_ARGS
    assert "--no-cache-dir" in (ROOT / "Makefile").read_text()


def _cpu_flags() -> set[str]:
    return set(cpu_backend.cpu_flags()) | {
        f for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")
        for f in line.split(":", 1)[1].split()}


@pytest.mark.integration
def test_env_names_a_variant_this_cpu_has_every_feature_of():
    result = run_llmp("env", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)["llama_cpp_cpu"]
    if info["build"] == "single":
        pytest.skip("llama-cpp-python was built without CPU variants (not by `make install`)")
    variant = info["variant"]
    assert variant["name"] in cpu_backend.VARIANT_FEATURES
    assert variant["probed"], "make install did not record a probed variant"
    flags = _cpu_flags()
    missing = [f for f in variant["features"] if CPUINFO_FLAG[f] not in flags]
    assert not missing, f"variant {variant['name']} needs {missing}, which this CPU lacks"
    table = run_llmp("env")
    assert variant["name"] in table.stdout and "llama.cpp CPU backend" in table.stdout


@pytest.mark.integration
def test_check_skips_a_variant_that_crashes_and_records_the_next(tmp_path):
    ranked = cpu_backend.ranked_variants()
    if len(ranked) < 2:
        pytest.skip("needs the all-variants build")
    record = tmp_path / "choice.json"
    best = Path(ranked[0].path).name
    proc = subprocess.run(
        [sys.executable, "-m", "llm_practice.chat.cpu_backend", "check", "--record", str(record)],
        capture_output=True, text=True, timeout=600,
        env={**__import__("os").environ, "LLMP_PROBE_FAIL": best},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"'{ranked[0].name}'" in proc.stdout and "SIGILL" in proc.stdout
    chosen = json.loads(record.read_text())
    assert chosen["name"] == ranked[1].name and chosen["probed"] is True

