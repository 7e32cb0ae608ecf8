"""`llmp env`: what a bug report needs, without importing torch."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec

import click

from ..chat.engine import ENGINES, engine_installed
from ..settings import get_settings

PACKAGES = [
    "llm-practice", "torch", "transformers", "llama-cpp-python", "huggingface-hub", "gguf",
    "accelerate", "peft", "trl", "langchain-core", "fastapi", "gradio", "vllm",
]
OPTIONAL = {"vllm": "vllm", "deepspeed": "deepspeed", "peft": "peft", "trl": "trl", "gradio": "gradio"}


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _gpus() -> list[str]:
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def collect_env() -> dict:
    import psutil

    from ..chat import cpu_backend

    s = get_settings()
    mem = psutil.virtual_memory()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_backend.cpu_model(),
        "cpu_flags": cpu_backend.cpu_flags(),
        "llama_cpp_cpu": cpu_backend.in_use(),
        "cpu_cores": os.cpu_count(),
        "ram_total_gb": round(mem.total / 2**30, 1),
        "ram_available_gb": round(mem.available / 2**30, 1),
        "gpus": _gpus(),
        "LLMP_HOME": str(s.home),
        "HF_ENDPOINT": s.hf_endpoint + ("" if s.hf_endpoint_set else " (default)"),
        "LLMP_LANG": s.lang,
        "packages": {name: _version(name) for name in PACKAGES},
        "engines": {name: engine_installed(name) for name in ENGINES},
        "optional": {name: find_spec(mod) is not None for name, mod in OPTIONAL.items()},
    }


def _describe_cpu_backend(info: dict) -> str:
    variant = info.get("variant")
    if not variant:
        return info["build"]
    how = "probed at install" if variant.get("probed") else "not probed: run `make smoke`"
    return (f"{variant['name']} ({' '.join(variant['features']) or 'baseline'}; {how}), "
            f"{info['build']}, {info['variants']} variants")


@click.command(epilog="Example: llmp env --json > env.json")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def env(as_json: bool) -> None:
    """Show versions, CPU/GPU, RAM, LLMP_HOME, HF_ENDPOINT and which engines are installed."""
    data = collect_env()
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key in ("python", "platform", "cpu", "cpu_cores", "ram_total_gb", "ram_available_gb",
                "LLMP_HOME", "HF_ENDPOINT", "LLMP_LANG"):
        table.add_row(key, str(data[key]))
    table.add_row("cpu flags", " ".join(data["cpu_flags"]) or "unknown")
    table.add_row("llama.cpp CPU backend", _describe_cpu_backend(data["llama_cpp_cpu"]))
    table.add_row("gpus", ", ".join(data["gpus"]) or "none")
    for name, ver in data["packages"].items():
        table.add_row(name, ver or "[dim]not installed[/dim]")
    for name, ok in data["engines"].items():
        table.add_row(f"engine {name}", "installed" if ok else f"missing: {ENGINES[name].install}")
    for name, ok in data["optional"].items():
        table.add_row(f"optional {name}", "installed" if ok else "not installed")
    Console().print(table)
