"""Every benchmark script still runs, and says which machine its numbers come from.

Each script in benchmarks/ (found by the rule in benchmarks/machine.py, so a script someone adds
is covered as soon as it takes `--tiny`) runs in tiny mode, seconds each, into a temporary docs
file: exit code 0, a section with the machine header and a table, docs/benchmarks.md untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import machine  # noqa: E402

SCRIPTS = machine.scripts()


def run_script(script: Path, doc: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess:
    """Run a benchmark script as `make bench` does, writing to `doc`; `prelude` runs first."""
    cmd = [sys.executable, str(script), *args]
    if prelude:
        cmd = [sys.executable, "-c", f"import runpy, sys\n{prelude}\nsys.argv = {[str(script), *args]!r}\n"
               f"runpy.run_path({str(script)!r}, run_name='__main__')\n"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, machine.DOC_ENV: str(doc)})


def test_scripts_are_found():
    names = {p.stem for p in SCRIPTS}
    assert {"chat_speed", "serve", "data", "download", "estimate_accuracy", "prompt_lint"} <= names
    assert "machine" not in names and not any(n.startswith("_") for n in names)


@pytest.mark.integration
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_benchmark_runs_tiny(script, tmp_path):
    doc = tmp_path / "benchmarks.md"
    real = machine.DOC.read_bytes()
    proc = run_script(script, doc, "--tiny")
    if proc.returncode == machine.CANNOT_RUN and "cannot run without its input" in proc.stderr:
        # Only rag.py has an input outside the repository (Debian's man pages, which `make test` installs,
        # so CI runs it). Skip only when this test sees them missing too, never to hide another failure.
        import rag

        assert script.stem == "rag" and rag.corpora_missing(), f"{script.name} says its input is missing:\n{proc.stderr}"
        pytest.skip(f"{proc.stderr.strip()} (make test installs them: `make manpages`)")
    assert proc.returncode == 0, f"{script.name} --tiny failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    text = doc.read_text(encoding="utf-8")
    from llm_practice.chat.cpu_backend import cpu_model

    assert f"- **CPU:** {cpu_model()}" in text
    assert "- **llama.cpp:** " in text and "- **Libraries:** Python " in text
    assert f"- **Run:** {datetime.now(timezone.utc):%Y-%m-%d}" in text
    assert "**Tiny run**" in text
    assert machine.table_rows(text), f"{script.name} wrote no table"
    assert machine.DOC.read_bytes() == real, f"{script.name} --tiny changed docs/benchmarks.md"


def test_missing_peer_stops_before_any_work(tmp_path):
    """serve.py without llama_cpp.server's deps: one message naming them and the fix, no run."""
    doc = tmp_path / "benchmarks.md"
    proc = run_script(ROOT / "benchmarks" / "serve.py", doc, "--tiny",
                      prelude="sys.modules['sse_starlette'] = None  # as if not installed")
    assert proc.returncode == machine.CANNOT_RUN
    assert "serve.py: cannot run, a peer it compares against is missing" in proc.stderr
    line = next(x for x in proc.stderr.splitlines() if "python -m llama_cpp.server: needs" in x)
    assert "sse_starlette" in line
    assert "pip install -e '.[bench]'" in proc.stderr and "make bench" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not doc.exists()


def test_unknown_script_name_lists_the_real_ones():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "machine.py"), "run", "sevre"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "no benchmark script named sevre" in proc.stderr and "serve" in proc.stderr


def test_per_cpu_table_keeps_other_machines(tmp_path, monkeypatch):
    """A serve run on one CPU replaces its own row and keeps the rows measured on other CPUs."""
    doc = tmp_path / "benchmarks.md"
    monkeypatch.setenv(machine.DOC_ENV, str(doc))
    headers = ["CPU", "date", "tokens/s"]
    machine.write_per_machine("scaling", "intro", headers, ["Intel Xeon, AVX2", "2026-11-28", "114"])
    machine.write_per_machine("scaling", "intro", headers, ["AMD EPYC, AVX-512", "2026-11-29", "131"])
    machine.write_per_machine("scaling", "intro", headers, ["AMD EPYC, AVX-512", "2026-11-30", "125"])
    rows = machine.table_rows(machine.read_section("scaling"))
    assert rows == [["Intel Xeon, AVX2", "2026-11-28", "114"], ["AMD EPYC, AVX-512", "2026-11-30", "125"]]
    assert doc.read_text().count("<!-- scaling:start -->") == 1
