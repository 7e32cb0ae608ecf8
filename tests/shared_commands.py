"""Run a long tutorial command once per test session; every workspace that runs the same command reuses it.

The tutorial's long steps (training at the demo recipes' sizes, evaluation, export) are the same command
on the zh and the en page, print English only (`llmp train`, `eval`, `export` have no translated
output) and read nothing but the repository and what earlier such steps wrote. A page marks them
``bash run shared``. The first workspace that reaches one runs it for real, in its own language's
environment; the output, the exit code and the files it wrote (under the work folder, LLMP_HOME
included) are kept. Any other workspace that reaches the same command text gets those files copied
in (large ones hard-linked) and checks its page's ``expect`` markers against the same output.
tests/test_train_learns.py trains recipes/sft-lora-demo.yaml through the same cache, so the suite
trains those demos (SFT, reward model) once for three users each.

The key is the command's text alone. That is sound because tests/test_tutorial.py checks that the
shared steps of the zh and en pages are the same commands in the same order, so a shared step always
finds the files of the same earlier shared steps, whichever language reached it first.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .tutorial_pages import ROOT

BIN = Path(sys.executable).parent
SFT_DEMO = "llmp train recipes/sft-lora-demo.yaml"  # chapter 6 and tests/test_train_learns.py
RM_DEMO = "llmp train recipes/rm-demo.yaml"  # chapter 8 and tests/test_train_learns.py
LINK_ABOVE = 1 << 20  # bytes: larger files (weights, optimizer states) are hard-linked, never rewritten in place


def learner_env(lang: str, work: Path, cache: Path) -> dict[str, str]:
    """The environment of a learner following the `lang` pages from `work` (the repository root for them)."""
    env = {**os.environ, "LLMP_HOME": str(work / "llmp-home"), "LLMP_CACHE": str(cache), "LLMP_LANG": lang,
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100", "HF_HUB_OFFLINE": "1"}
    for name in ("LLMP_DEBUG", "LLMP_THREADS", "LLMP_ENGINE"):
        env.pop(name, None)
    return env


def make_workspace(work: Path) -> Path:
    """A work folder that holds `examples/` and `recipes/`, as a learner's clone of the repository does."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("examples", "recipes"):
        if (ROOT / name).exists() and not (work / name).exists():
            (work / name).symlink_to(ROOT / name)
    return work


def run_shell(command: str, work: Path, env: dict[str, str], timeout: float) -> tuple[int, str]:
    """`command` in a shell from `work`: its exit code and its output (stdout, then stderr). It runs in
    its own process group, so a timeout or an interrupted test ends every process it started (killing
    only the shell would leave a training `llmp` running on)."""
    with subprocess.Popen(command, shell=True, cwd=work, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    return proc.returncode, out + err


@dataclass
class Result:
    command: str
    returncode: int
    output: str
    seconds: float
    ran_in: Path
    stash: Path  # a copy of what it wrote
    files: list[str] = field(default_factory=list)  # written by the command, relative to the work folder


def _snapshot(work: Path) -> dict[str, tuple[int, int]]:
    """Every regular file under `work` (symlinked folders such as examples/ are not followed)."""
    seen = {}
    for folder, _, names in os.walk(work):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink():
                continue
            stat = path.stat()
            seen[str(path.relative_to(work))] = (stat.st_size, stat.st_mtime_ns)
    return seen


def _place(source: Path, target: Path, paths: tuple[str, str] | None = None) -> None:
    """Copy `source` to `target`; a small text file gets the recording work folder's path replaced
    by this one's (run cards, registry entries), so each workspace points at its own files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        target.unlink()
    if source.stat().st_size > LINK_ABOVE:
        try:
            os.link(source, target)
            return
        except OSError:  # another file system
            pass
    if paths:
        try:
            text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if paths[0] in text:
                target.write_text(text.replace(*paths), encoding="utf-8")
                return
    shutil.copy2(source, target)


class SharedCommands:
    """One per test session (the `shared_commands` fixture in tests/conftest.py)."""

    def __init__(self, stash: Path):
        self.stash = stash
        self.results: dict[str, Result] = {}
        self.applied: dict[Path, set[str]] = {}

    def run(self, command: str, work: Path, env: dict[str, str], timeout: float = 1800) -> Result:
        """The result of `command`, with the files it wrote present in `work`."""
        done = self.applied.setdefault(work, set())
        result = self.results.get(command)
        if result is None:
            result = self.results[command] = self._record(command, work, env, timeout)
        elif command not in done:
            for rel in result.files:
                _place(result.stash / rel, work / rel, (str(result.ran_in), str(work)))
        done.add(command)
        return result

    def _record(self, command: str, work: Path, env: dict[str, str], timeout: float) -> Result:
        before = _snapshot(work)
        start = time.monotonic()
        code, output = run_shell(command, work, env, timeout)
        seconds = time.monotonic() - start
        written = sorted(rel for rel, sig in _snapshot(work).items() if before.get(rel) != sig)
        folder = self.stash / f"{len(self.results):02d}"
        for rel in written:
            _place(work / rel, folder / rel)
        return Result(command, code, output, seconds, work, folder, written)
