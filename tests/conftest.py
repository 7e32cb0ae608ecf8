"""Every test gets its own LLMP_HOME; no test touches the real home directory.

The dequantised-model cache (LLMP_CACHE) is shared by the whole session so the transformers
engine converts the bundled GGUF once per test run, not once per test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from llm_practice.settings import get_settings

BIN = Path(sys.executable).parent
# Two workers share the two cores, and a test's `llmp` may train or embed with torch's OpenMP threads while
# the other worker's does too. OpenMP threads that spin while they wait (libgomp's default) then burn the
# core the other worker needs; waiting passively costs a little alone and saves a lot when shared.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Tests press Ctrl-C (SIGINT) in the `llmp` they start. A shell runs a command it puts in the background
# (`make test &`) with SIGINT ignored, children inherit that, and their Ctrl-C would do nothing: give the
# test processes, and so what they start, the default handler back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# `pytest` runs the suite on two workers (pytest-xdist, `-n 2 --dist loadfile` in pyproject.toml): most
# tests wait on subprocesses, servers and browsers, so one process leaves a core idle. A test file is
# one unit of work, so its module-scoped servers and models start once, on one worker; the files that
# share the once-per-session tutorial commands (tests/shared_commands.py) are one unit together, so the
# demo runs train once. (xdist's own `loadgroup` marks do nothing on pytest 9: it renames node ids
# through an attribute pytest no longer reads.) The longest units go first, the rest in file order
# (`--no-loadscope-reorder`), so no worker is left alone with a long one at the end.
SHARED_UNITS = {"test_tutorial.py": "shared-commands", "test_train_learns.py": "shared-commands"}
LONGEST_FIRST = ("shared-commands", "test_tour.py", "test_benchmarks.py")


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the group of files sharing one cache."""
    path = nodeid.split("::", 1)[0]
    return SHARED_UNITS.get(Path(path).name, path)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(unit_of(item.nodeid)).name, len(rank)))  # stable


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist given on the command line: xdist's own
    from xdist.scheduler import LoadFileScheduling

    class UnitScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return UnitScheduling(config, log)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("llmp-cache")


@pytest.fixture(autouse=True)
def llmp_home(tmp_path, monkeypatch, shared_cache) -> Path:
    home = tmp_path / "llmp-home"
    monkeypatch.setenv("LLMP_HOME", str(home))
    monkeypatch.setenv("LLMP_CACHE", str(shared_cache))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LLMP_LANG", "en")
    for var in ("LLMP_DEBUG", "LLMP_ENGINE", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def run_llmp(*args: str, input: str | None = None, env: dict | None = None, timeout: float = 300
             ) -> subprocess.CompletedProcess:
    """Run the installed `llmp` console script as a user would. It runs in its own process group, so a
    timeout or an interrupted test ends every process it started too (`llmp tour` runs each step as a
    child `llmp`; killing only the tour would leave a training step running on)."""
    with subprocess.Popen([str(BIN / "llmp"), *args], stdin=subprocess.PIPE if input is not None else None,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, **(env or {})}, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory, shared_cache):
    """A real `llmp serve` with the web UI, two batch slots, for one test module."""
    from .servers import LiveServer

    with LiveServer("--parallel", "2", home=tmp_path_factory.mktemp("home"), cache=shared_cache) as live:
        yield live


@pytest.fixture(scope="session")
def shared_commands(tmp_path_factory):
    """Long tutorial commands (demo training runs, eval, export), run once per session: tests/shared_commands.py."""
    from .shared_commands import SharedCommands

    stash = tmp_path_factory.mktemp("shared-commands")
    yield SharedCommands(stash)
    shutil.rmtree(stash, ignore_errors=True)
