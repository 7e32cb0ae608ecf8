"""The tutorial (docs/tutorial/{zh,en}) runs: every ``bash run`` block of every page, in order.

Each block's command runs in a shell from a work folder that holds `examples/` and `recipes/`,
as a learner runs it from the repository root; a page fails when a command exits with another code
than the page says, or when the real output misses one of the page's ``expect`` markers (the
substance of the shown output: key lines, names, numbers that do not depend on the machine).
The pages of one language share one LLMP_HOME, so a later chapter sees the runs and knowledge
bases of an earlier one; both languages share the answer caches. ``bash run shared`` steps (training,
evaluation, export) run once per session for both languages (tests/shared_commands.py); a page run
alone first brings in the shared steps of the chapters before it, so chapter 10 finds chapter 6's run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .shared_commands import SFT_DEMO, SharedCommands, learner_env, make_workspace, run_shell
from .tutorial_pages import TUTORIAL, missing, pages, steps

LANGS = ("zh", "en")
ALL_PAGES = [(lang, page) for lang in LANGS for page in pages(lang)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, shared_cache) -> dict[str, Path]:
    """One work folder and one LLMP_HOME per language for the whole module (removed after it: full
    fine-tuning runs keep gigabytes of checkpoints)."""
    spaces = {lang: make_workspace(tmp_path_factory.mktemp(f"tutorial-{lang}")) for lang in LANGS}
    yield spaces
    for work in spaces.values():
        shutil.rmtree(work, ignore_errors=True)


def test_both_languages_have_the_same_chapters():
    zh = [p.name for p in pages("zh")]
    en = [p.name for p in pages("en")]
    assert zh == en and len(zh) == 10, (zh, en)
    for (lang, page) in ALL_PAGES:
        text = page.read_text(encoding="utf-8")
        box = "与原教程不同之处" if lang == "zh" else "Where the tutorial differs"
        assert box in text, f"{page}: no '{box}' box"
        index = TUTORIAL / ("README_zh.md" if lang == "zh" else "README.md")
        assert f"({lang}/{page.name})" in index.read_text(encoding="utf-8"), f"{index} does not link {page.name}"
    for lang in LANGS:  # pictures the pages show exist
        for page in pages(lang):
            for image in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", page.read_text(encoding="utf-8")):
                assert (page.parent / image).resolve().is_file(), f"{page}: missing picture {image}"


def test_every_runnable_block_declares_its_substance():
    for _, page in ALL_PAGES:
        for step in steps(page):
            assert step.expects, f"{step.where}: a runnable block needs at least one <!-- expect: ... --> marker"
            assert step.shown.strip(), f"{step.where}: a runnable block shows its output in a ```text block"
            stale = missing(step.expects, step.shown)
            assert not stale, f"{step.where}: the page's own output does not match {stale}"


def test_shared_steps_are_the_same_in_both_languages():
    """A shared step runs once for both pages, so both must run the same commands in the same order."""
    shared = {lang: [s.command for p in pages(lang) for s in steps(p) if s.shared] for lang in LANGS}
    assert shared["zh"] == shared["en"], shared
    assert SFT_DEMO in shared["en"], "tests/test_train_learns.py shares this training run with chapter 6"


def test_a_shared_step_runs_once_and_every_workspace_gets_its_files(tmp_path):
    """What the zh page trained, the en page finds in its own LLMP_HOME, and the output both check is the same."""
    shared = SharedCommands(tmp_path / "stash")
    counter = tmp_path / "runs-counted"
    command = (f"echo x >> {counter}; mkdir -p llmp-home/runs/demo; echo weights > llmp-home/runs/demo/final.bin; "
               "echo $LLMP_HOME/runs/demo > llmp-home/runs/demo/card.md; echo finished")
    zh, en = (make_workspace(tmp_path / lang) for lang in ("zh", "en"))
    (zh / "before.txt").write_text("not written by the command")
    first = shared.run(command, zh, learner_env("zh", zh, tmp_path))
    second = shared.run(command, en, learner_env("en", en, tmp_path))
    assert counter.read_text() == "x\n"  # ran once
    assert first is second and first.output == "finished\n"
    assert first.files == ["llmp-home/runs/demo/card.md", "llmp-home/runs/demo/final.bin"]
    assert (en / "llmp-home/runs/demo/final.bin").read_text() == "weights\n"
    assert (en / "llmp-home/runs/demo/card.md").read_text() == f"{en}/llmp-home/runs/demo\n"  # its own path
    assert not (en / "before.txt").exists()


def test_a_step_that_runs_too_long_leaves_no_process_behind(tmp_path):
    """A shell does not pass a kill on to its children: the whole process group goes."""
    work = make_workspace(tmp_path / "work")
    with pytest.raises(subprocess.TimeoutExpired):
        run_shell("sleep 30.4242; echo late", work, learner_env("en", work, tmp_path), timeout=1)
    left = subprocess.run(["pgrep", "-f", "^sleep 30.4242"], capture_output=True, text=True).stdout.split()
    assert not left


@pytest.mark.integration
@pytest.mark.timeout(2400)  # a chapter with training steps, on 2 shared cores
@pytest.mark.parametrize(("lang", "page"), ALL_PAGES, ids=[f"{lang}/{p.stem}" for lang, p in ALL_PAGES])
def test_page_commands_run(lang, page, workspace, shared_cache, shared_commands):
    work = workspace[lang]
    env = learner_env(lang, work, shared_cache)
    for earlier in pages(lang)[:pages(lang).index(page)]:  # runs this chapter reads (no-ops in a full run)
        for step in (s for s in steps(earlier) if s.shared):
            shared_commands.run(step.command, work, env)
    for step in steps(page):
        if step.shared:
            done = shared_commands.run(step.command, work, env)
            code, output = done.returncode, done.output
        else:
            code, output = run_shell(step.command, work, env, timeout=600)
        assert code == step.exit_code, (
            f"{step.where}: `{step.command}` exited {code}, the page says {step.exit_code}\n{output[-3000:]}")
        lost = missing(step.expects, output)
        assert not lost, f"{step.where}: the output no longer shows {lost}\n{output[-3000:]}"
