"""Finished and unfinished runs under `LLMP_HOME/runs/` (for `llmp train list|show`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .model import run_folder
from .run import RunFolder


def list_runs() -> list[dict]:
    from ..settings import get_settings

    root = get_settings().runs_dir
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        info = RunFolder(folder).info()
        if info:
            out.append({"path": str(folder), **info})
    return out


def get_run(name: str) -> tuple[Path, dict]:
    folder = run_folder(name) or run_folder(f"runs/{name}")
    if folder is None:
        names = [r["name"] for r in list_runs()]
        raise ConfigError("NAME", f"no run named '{name}'",
                          f"Runs: {', '.join(names) or 'none yet'}. `llmp train list` shows them.")
    return folder, RunFolder(folder).info()
