"""`llmp tour --quick`: every step this build has runs and succeeds, the others are skipped with a
reason, and the HTML report is self-contained and shows each step's command and output."""

from __future__ import annotations

import json
import re

import pytest

from llm_practice.cli.main import COMMANDS
from llm_practice.tour.runner import find_repo
from llm_practice.tour.steps import STEPS

from .conftest import run_llmp


def _expected_status(step) -> str:
    repo = find_repo()
    if any(name not in COMMANDS for name in step.needs):
        return "skipped"
    if any(not (repo / f).exists() for f in step.needs_files):
        return "skipped"
    return "ok"


def test_unknown_step_is_a_clear_error(tmp_path):
    done = run_llmp("tour", "--only", "chat,nope", "--out", str(tmp_path / "t"))
    assert done.returncode == 2
    assert "--only" in done.stderr and "nope" in done.stderr and "prompt-lint" in done.stderr


@pytest.mark.integration
@pytest.mark.timeout(1800)
def test_quick_tour_runs_every_step_this_build_has(tmp_path):
    out = tmp_path / "tour"
    done = run_llmp("tour", "--quick", "--lang", "en", "--out", str(out), timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    by_id = {s["id"]: s for s in report["steps"]}
    assert list(by_id) == [s.id for s in STEPS]
    for step in STEPS:
        got = by_id[step.id]
        want = _expected_status(step)
        if want == "ok" and not all(by_id[a]["status"] == "ok" for a in step.after):
            want = "skipped"
        assert got["status"] == want, (step.id, got["status"], got["reason"], got["output"][-2000:])
        if want == "skipped":
            assert got["reason"], step.id
        else:
            assert got["output"].startswith("$ llmp ") and got["seconds"] > 0
    assert report["summary"]["failed"] == 0
    assert by_id["chat"]["status"] == "ok" and "Paris" in by_id["chat"]["output"]

    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", page), "the report fetches nothing"
    for step in report["steps"]:
        assert step["title"] in page and step["commands"][0] in page.replace("&#x27;", "'")
    assert "<svg" in page  # the timing chart
    for i, step in enumerate(report["steps"], 1):  # the progress view: one line per step
        assert re.search(rf"\[\s*{i}/{len(STEPS)}\] {re.escape(step['title'])}", done.stdout), step["id"]
