"""The tutorial (docs/tutorial/{zh,en}) runs: every ``bash run`` block of every page, in order.

Each block's command runs in a shell from a work folder that holds `examples/` and `recipes/`,
as a learner runs it from the repository root; a page fails when a command exits with another code
than the page says, or when the real output misses one of the page's ``expect`` markers (the
substance of the shown output: key lines, names, numbers that do not depend on the machine).
The pages of one language share one LLMP_HOME, so a later chapter sees the runs and knowledge
bases of an earlier one; both languages share the answer caches.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .tutorial_pages import ROOT, TUTORIAL, missing, pages, steps

BIN = Path(sys.executable).parent
LANGS = ("zh", "en")
ALL_PAGES = [(lang, page) for lang in LANGS for page in pages(lang)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, shared_cache) -> dict[str, Path]:
    """One work folder and one LLMP_HOME per language for the whole module."""
    spaces = {}
    for lang in LANGS:
        work = tmp_path_factory.mktemp(f"tutorial-{lang}")
        for name in ("examples", "recipes"):
            if (ROOT / name).exists():
                (work / name).symlink_to(ROOT / name)
        spaces[lang] = work
    return spaces


def _env(lang: str, work: Path, cache: Path) -> dict[str, str]:
    env = {**os.environ, "LLMP_HOME": str(work / "llmp-home"), "LLMP_CACHE": str(cache), "LLMP_LANG": lang,
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100", "HF_HUB_OFFLINE": "1"}
    env.pop("LLMP_DEBUG", None)
    return env


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


@pytest.mark.integration
@pytest.mark.parametrize(("lang", "page"), ALL_PAGES, ids=[f"{lang}/{p.stem}" for lang, p in ALL_PAGES])
def test_page_commands_run(lang, page, workspace, shared_cache):
    work = workspace[lang]
    for step in steps(page):
        done = subprocess.run(step.command, shell=True, cwd=work, env=_env(lang, work, shared_cache),
                              capture_output=True, text=True, timeout=600)
        output = done.stdout + done.stderr
        assert done.returncode == step.exit_code, (
            f"{step.where}: `{step.command}` exited {done.returncode}, the page says {step.exit_code}\n{output[-3000:]}")
        lost = missing(step.expects, output)
        assert not lost, f"{step.where}: the output no longer shows {lost}\n{output[-3000:]}"
