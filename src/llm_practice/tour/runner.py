"""Run the tour's steps as real `llmp` child processes and record what each did.

The tour works in its own folder (default `./llmp-tour/`): a fresh LLMP_HOME under it keeps its runs,
knowledge bases and exports apart from yours, while LLMP_CACHE stays yours so the bundled model is
dequantised once. Library code: it reports progress through a callback and never prints.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..settings import get_settings
from .steps import STEPS, TourStep

MAX_OUTPUT_CHARS = 20_000


@dataclass
class StepResult:
    id: str
    title: str
    chapter: str
    status: str  # ok | failed | skipped
    reason: str = ""
    commands: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    plots: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TourConfig:
    out: Path
    lang: str = "en"
    quick: bool = False
    available: frozenset[str] = frozenset()  # the top-level `llmp` commands of this build
    repo: Path | None = None  # holds examples/ and recipes/
    only: tuple[str, ...] = ()


def find_repo() -> Path | None:
    """The source checkout holding examples/ and recipes/ (the tour's data), if there is one."""
    here = Path(__file__).resolve()
    for folder in (Path.cwd(), *here.parents):
        if (folder / "examples" / "tutorial").is_dir():
            return folder
    return None


def _llmp() -> list[str]:
    script = Path(sys.executable).parent / "llmp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "llm_practice"]


def _render(command: tuple[str, ...], repo: Path | None) -> list[str]:
    names = {"examples": str(repo / "examples") if repo else "examples",
             "recipes": str(repo / "recipes") if repo else "recipes"}
    return [part.format(**names) for part in command]


def _shown(argv: list[str], repo: Path | None) -> str:
    text = " ".join(f"'{a}'" if (" " in a or "?" in a) else a for a in argv)
    return text.replace(f"{repo}/", "") if repo else text


def _skip_reason(step: TourStep, config: TourConfig, results: dict[str, StepResult]) -> str:
    missing = [name for name in step.needs if name not in config.available]
    if missing:
        return f"`llmp {missing[0]}` is not part of this build yet"
    for need in step.needs_files:
        if config.repo is None or not (config.repo / need).exists():
            return f"{need} not found (run the tour from a source checkout)"
    for before in step.after:
        if before in results and results[before].status != "ok":
            return f"needs the '{before}' step, which was {results[before].status}"
    return ""


def run_step(step: TourStep, config: TourConfig, results: dict[str, StepResult]) -> StepResult:
    result = StepResult(id=step.id, title=step.title.get(config.lang, step.title["en"]), chapter=step.chapter,
                        status="skipped")
    argvs = [_render(c, config.repo) for c in step.command_lines(config.quick)]
    result.commands = ["llmp " + _shown(a, config.repo) for a in argvs]
    reason = _skip_reason(step, config, results)
    if reason:
        result.reason = reason
        return result
    home = config.out / "home"
    env = {**os.environ, "LLMP_HOME": str(home), "LLMP_CACHE": str(get_settings().cache_dir),
           "LLMP_LANG": config.lang, "HF_HUB_OFFLINE": "1", "COLUMNS": "100"}
    started = time.perf_counter()
    chunks = []
    result.status = "ok"
    for argv, shown in zip(argvs, result.commands):
        done = subprocess.run(_llmp() + argv, cwd=config.out, env=env, capture_output=True, text=True)
        chunks.append(f"$ {shown}\n{done.stdout}{done.stderr}")
        if done.returncode != 0:
            result.status, result.reason = "failed", f"`{shown}` exited with code {done.returncode}"
            break
    result.seconds = round(time.perf_counter() - started, 2)
    output = "\n".join(chunks)
    output = "\n".join(line for line in output.splitlines() if not line.startswith("~llama_context"))
    result.output = output[-MAX_OUTPUT_CHARS:]
    if result.status == "ok" and not re.search(step.expect, output):
        result.status, result.reason = "failed", f"the output does not show /{step.expect}/"
    result.plots = [str(home / p) for p in step.plots if (home / p).is_file()]
    return result


MARKER = ".llmp-tour"


def fresh_home(out: Path) -> Path:
    """The tour's own LLMP_HOME, emptied: each tour starts from nothing (no run or knowledge base left
    from a previous tour). Only a folder the tour made (it holds the marker file) is ever removed."""
    home = out / "home"
    if home.exists():
        if not (home / MARKER).is_file():
            raise ConfigError("--out", f"{home} exists and was not made by `llmp tour`; it is left as it is",
                              "Pick another --out folder.")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text("made by llmp tour; removed by the next tour in this folder\n", encoding="utf-8")
    return home


def run_tour(config: TourConfig, on_start: Callable[[int, TourStep], None] = lambda i, s: None,
             on_done: Callable[[int, StepResult], None] = lambda i, r: None) -> list[StepResult]:
    config.out.mkdir(parents=True, exist_ok=True)
    fresh_home(config.out)
    results: dict[str, StepResult] = {}
    for index, step in enumerate(STEPS):
        if config.only and step.id not in config.only:
            continue
        on_start(index, step)
        results[step.id] = run_step(step, config, results)
        on_done(index, results[step.id])
    return list(results.values())
