"""What every benchmark records next to its numbers, and the rules every benchmark script follows.

A number without its machine is not worth much: serving with Q4_1 against F16 weights flips with
the CPU (an AMD EPYC with AVX-512 and an Intel Xeon with an AVX2 build disagree by 2x), and a
shared 2-core VM is noisy. So each section of docs/benchmarks.md opens with the CPU model, the
llama.cpp build and CPU variant in use, the library versions, the date and the load when it ran.

The convention (tests/test_benchmarks.py relies on it; a new script follows it to be covered):

- A benchmark script is any `benchmarks/*.py` except this module and files whose name starts
  with `_`. `make bench` runs them all (`make bench ONLY=serve` runs one), after installing the
  `bench` extra of pyproject.toml, which holds every peer the scripts compare against: add your
  peer's PyPI package there, one line with a comment naming your script.
- It calls `begin(peers, tiny)` before doing any work. `peers` maps what it compares against to
  the modules (or executables, prefixed `bin:`) that must be present; a missing one stops the
  script at once with one message that names it and the command that installs it, instead of
  a failure halfway through (exit code 3, which `make bench` reports as skipped; so does a
  script that measures input the user supplies, raising `MissingInputError` without it). `begin` also pins llama.cpp's CPU variant in the environment, so
  llmp and a raw llama-cpp-python peer (in this process or a child) run the same kernels.
- It accepts `--tiny` (`add_tiny_flag(parser)`): the same code paths on tiny sizes, finished in
  seconds, so the test can run every script on every `pytest` run. A tiny run writes its
  section only where `LLMP_BENCH_DOC` points (the test's temporary file), never to
  docs/benchmarks.md: its numbers measure nothing.
- It writes its section with `write_section(name, body, libraries=[...])`, which puts the
  machine header above the body; `LLMP_BENCH_DOC` points it at another file.

    python benchmarks/machine.py                 # the header for this machine
    python benchmarks/machine.py run [NAME ...]  # what `make bench [ONLY=...]` runs
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "benchmarks.md"
DOC_ENV = "LLMP_BENCH_DOC"
HEADER = (
    "# Benchmarks\n\nEach section is written by the script it names (`make bench` runs them all, "
    "`make bench ONLY=serve` one); each opens with the machine it ran on, so compare numbers only "
    "within a section or across sections from the same CPU.\n"
)
HELPERS = {"machine.py"}
INSTALL_HINT = "make bench   (or: .venv/bin/pip install -e '.[bench]')"
# Always shown: the interpreter's and llama.cpp's versions say what ran even for scripts that
# name no library of their own.
BASE_LIBRARIES = ["llama-cpp-python"]


def scripts() -> list[Path]:
    """Every benchmark script in benchmarks/, by the rule in this module's docstring."""
    return sorted(p for p in HERE.glob("*.py") if p.name not in HELPERS and not p.name.startswith("_"))


# Exit code of a script that cannot run here (a peer or its input is missing): `make bench`
# reports it as skipped, not failed.
CANNOT_RUN = 3


class MissingPeerError(SystemExit):
    """A peer a benchmark compares against is not installed: say which and how, do no work."""

    def __init__(self, script: str, missing: dict[str, list[str]]):
        lines = [f"{script}: cannot run, a peer it compares against is missing:"]
        lines += [f"  {peer}: needs {', '.join(needs)}" for peer, needs in missing.items()]
        lines.append(f"Install the benchmark peers with:\n  {INSTALL_HINT}")
        print("\n".join(lines), file=sys.stderr)
        super().__init__(CANNOT_RUN)


class MissingInputError(SystemExit):
    """A benchmark that measures data the user supplies was run without it."""

    def __init__(self, script: str, needs: str):
        print(f"{script}: cannot run without its input: {needs}", file=sys.stderr)
        super().__init__(CANNOT_RUN)


@dataclass
class Run:
    """The run in progress: when it started, how loaded the machine was then, tiny or not."""

    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    load: float = field(default_factory=lambda: os.getloadavg()[0])
    tiny: bool = False


_run: Run | None = None


def add_tiny_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tiny", action="store_true",
                        help="tiny sizes, done in seconds: checks the script works, measures "
                             f"nothing; writes only to ${DOC_ENV} if set")


def _present(need: str) -> bool:
    if need.startswith("bin:"):
        name = need[4:]
        return (Path(sys.executable).parent / name).exists() or shutil.which(name) is not None
    try:
        return find_spec(need) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module set to None
        return False


def missing_peers(peers: dict[str, list[str]]) -> dict[str, list[str]]:
    out = {}
    for peer, needs in peers.items():
        gone = [n.removeprefix("bin:") + (" (command)" if n.startswith("bin:") else "")
                for n in needs if not _present(n)]
        if gone:
            out[peer] = gone
    return out


def begin(peers: dict[str, list[str]] | None = None, tiny: bool = False) -> Run:
    """Check the peers (stop before any work if one is missing), pin llama.cpp's CPU variant."""
    global _run
    missing = missing_peers(peers or {})
    if missing:
        raise MissingPeerError(Path(sys.argv[0]).name, missing)
    pin_llama_variant()
    _run = Run(tiny=tiny)
    return _run


def pin_llama_variant() -> None:
    """Make every llama.cpp in this run, llmp's and the peers', load llmp's chosen CPU variant."""
    if "GGML_BACKEND_PATH" in os.environ or find_spec("llama_cpp") is None:
        return
    from llm_practice.chat import cpu_backend

    choice = cpu_backend.chosen_variant()
    if choice is not None:
        os.environ["GGML_BACKEND_PATH"] = choice["path"]


# -- what the header says -------------------------------------------------------------------------

def _cpuinfo() -> dict[str, str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor says it for all
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def simd_level(flags: set[str]) -> str:
    """The widest vector extension, the axis llama.cpp's CPU variants differ on."""
    for flag, name in (("amx_tile", "AMX"), ("avx512f", "AVX-512"), ("avx2", "AVX2"),
                       ("avx", "AVX"), ("sse4_2", "SSE4.2")):
        if flag in flags:
            return name
    return "baseline"


def cpu_description() -> str:
    """e.g. 'AMD EPYC (family 25 model 17), 2 cores, virtual machine, AVX-512'."""
    from llm_practice.chat.cpu_backend import cpu_model

    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    name = cpu_model()
    if "cpu family" in info and "model" in info:
        name += f" (family {info['cpu family']} model {info['model']})"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts = [name, f"{cores} cores"]
    if "hypervisor" in flags:
        parts.append("virtual machine")
    parts.append(simd_level(flags))
    return ", ".join(parts)


def llama_description() -> str:
    """The llama.cpp build and the CPU variant this run loads (cpu_backend.in_use())."""
    from llm_practice.chat.cpu_backend import in_use

    info = in_use()
    build = info.get("build", "unknown")
    variant = info.get("variant")
    if not variant:
        return build
    features = " ".join(variant.get("features") or []) or "baseline"
    how = "probed on this machine" if variant.get("probed") else "not probed"
    return (f"CPU variant `{variant['name']}` ({features}; {how}) of {info.get('variants', '?')} "
            f"built, {build}")


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def short_label() -> str:
    """One table cell naming this machine and llama.cpp variant (the per-CPU tables' key)."""
    from llm_practice.chat.cpu_backend import in_use

    variant = (in_use().get("variant") or {}).get("name", in_use().get("build", "?"))
    return f"{cpu_description()}; llama.cpp `{variant}`"


def header(libraries: list[str] | tuple[str, ...] = ()) -> str:
    run = _run or Run()
    libs = [f"Python {platform.python_version()}", f"llm-practice {version('llm-practice')}"]
    libs += [f"{d} {version(d)}" for d in dict.fromkeys([*BASE_LIBRARIES, *libraries])]
    cores = os.cpu_count() or 1
    busy = (f"load average {run.load:.1f} on {cores} cores when it started"
            + (" (shared machine: other work ran alongside, numbers are noisy)"
               if run.load > 0.5 * cores else ""))
    lines = [
        f"- **CPU:** {cpu_description()}",
        f"- **llama.cpp:** {llama_description()}",
        f"- **Libraries:** {', '.join(libs)}",
        f"- **Run:** {run.started:%Y-%m-%d %H:%M} UTC, {busy}",
    ]
    if run.tiny:
        lines.append("- **Tiny run** (`--tiny`): checks the script works; the numbers measure nothing")
    return "\n".join(lines) + "\n"


# -- writing docs/benchmarks.md -------------------------------------------------------------------

def doc_path() -> Path | None:
    """Where sections go: $LLMP_BENCH_DOC, else docs/benchmarks.md; None for a tiny run without it."""
    if os.environ.get(DOC_ENV):
        return Path(os.environ[DOC_ENV])
    return None if _run is not None and _run.tiny else DOC


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def _section_pattern(name: str) -> re.Pattern:
    start, end = _markers(name)
    return re.compile(rf"{re.escape(start)}\n(.*?){re.escape(end)}", re.S)


def read_section(name: str, path: Path | None = None) -> str | None:
    path = path or doc_path()
    if path is None or not path.exists():
        return None
    match = _section_pattern(name).search(path.read_text(encoding="utf-8"))
    return match.group(1) if match else None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_section(name: str, body: str, libraries: list[str] | tuple[str, ...] = (),
                  with_header: bool = True) -> Path | None:
    """Replace (or append) the section `name`, the machine header above `body`."""
    path = doc_path()
    if path is None:
        return None
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start, end = _markers(name)
    head = header(libraries) + "\n" if with_header else ""
    section = f"{start}\n## {name}\n\n{head}{body.strip()}\n{end}"
    pattern = _section_pattern(name)
    text = (pattern.sub(lambda _: section, text) if pattern.search(text)
            else text.rstrip() + "\n\n" + section)
    _write_atomic(path, text.rstrip() + "\n")
    return path


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def table_rows(markdown: str) -> list[list[str]]:
    """The data rows of the first Markdown table in `markdown`."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in markdown.splitlines() if line.startswith("|")]
    return rows[2:]


def write_per_machine(name: str, intro: str, headers: list[str], row: list) -> Path | None:
    """Keep one row per machine in section `name`: replace this machine's row, keep the others.

    For figures that depend on the CPU: a reader finds the row for a CPU like theirs.
    The first cell is the machine (`short_label()`); rows from other machines are kept as they are.
    """
    old = read_section(name)
    kept = [r for r in table_rows(old or "") if r and r[0] != str(row[0])]
    rows = [*kept, [str(c) for c in row]]
    return write_section(name, intro.strip() + "\n\n" + table(headers, rows), with_header=False)


# -- `make bench` ---------------------------------------------------------------------------------

def run_scripts(names: list[str]) -> int:
    """Run the named scripts (all if none) one after another; keep going past a failure."""
    available = {p.stem: p for p in scripts()}
    unknown = [n for n in names if n.removesuffix(".py") not in available]
    if unknown:
        print(f"no benchmark script named {', '.join(unknown)}; there are: "
              f"{', '.join(available)}", file=sys.stderr)
        return 2
    chosen = [available[n.removesuffix(".py")] for n in names] or list(available.values())
    failed, skipped = [], []
    for path in chosen:
        print(f"== {path.relative_to(HERE.parent)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(path)])
        outcome = {0: "ok", CANNOT_RUN: "SKIPPED (cannot run here, see above)"}.get(
            code, f"FAILED (exit {code})")
        print(f"== {path.name}: {outcome} in {time.monotonic() - started:.0f} s", flush=True)
        {0: [], CANNOT_RUN: skipped}.get(code, failed).append(path.name)
    if skipped:
        print(f"skipped: {', '.join(skipped)}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"]:
        return run_scripts(argv[1:])
    print(header(BASE_LIBRARIES), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
