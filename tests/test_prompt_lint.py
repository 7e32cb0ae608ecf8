"""The prompt linter on fixture prompts in English and Chinese.

tests/fixtures/prompts/bad/<check>_<lang>_<n>.txt each break exactly one rule (files named *_bare
break several: a bare one-line request); good/*.txt follow every tip and must lint clean, as must
every library template. A false positive on the good set fails the suite.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llm_practice.cli.main import cli
from llm_practice.prompts.library import find_prompt
from llm_practice.prompts.lint import CHECKS, lint_prompt, lint_text

from .conftest import run_llmp

FIXTURES = Path(__file__).parent / "fixtures" / "prompts"
BAD = sorted((FIXTURES / "bad").glob("*.txt"))
GOOD = sorted((FIXTURES / "good").glob("*.txt"))
TIPS = {"vague": 1, "role": 2, "delimiters": 3, "steps": 4, "examples": 5, "length": 6, "format": 7}
# The checks whose findings fail `--strict` on the fixtures (a bare one-line request too).
STRICT = {"contradiction", "delimiters", "variables", "role"}


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def lint_file(path: Path):
    return lint_prompt(find_prompt(str(path)), path.name)


def test_fixture_set_covers_every_check_in_both_languages():
    covered = {(p.stem.split("_")[0], p.stem.split("_")[1]) for p in BAD}
    assert covered == {(check, lang) for check in CHECKS for lang in ("en", "zh")}
    assert {p.stem.split("_")[1] for p in GOOD} == {"en", "zh"} and len(GOOD) >= 16


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_each_anti_pattern_is_caught_with_the_right_tip(path):
    expected, lang = path.stem.split("_")[:2]
    report = lint_file(path)
    assert report.lang == lang
    found = {f.check for f in report.findings}
    assert report.findings[0].check == expected  # the right tip comes first
    if not path.stem.endswith("_bare"):
        assert found == {expected}, [(f.check, f.span.text) for f in report.findings]
    for finding in report.findings:
        assert finding.tip == TIPS.get(finding.check)
        # the span points at real text of the prompt, with the right line number
        assert report.text[finding.span.start:finding.span.end] == finding.span.text
        assert finding.span.line == report.text.count("\n", 0, finding.span.start) + 1
        assert finding.why and finding.hint
        # zh prompts get zh explanations
        has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in finding.why + finding.hint)
        assert has_cjk == (lang == "zh"), finding
    # errors are what a good prompt never has; the rest is advice, which `--strict` does not fail on
    level = "error" if expected in STRICT or path.stem.endswith("_bare") else "advice"
    assert report.findings[0].severity == level
    assert report.strict_ok == (level == "advice")
    tips = {row["check"]: row["status"] for row in report.tips}
    assert tips[expected] == ("fail" if level == "error" else "advice")


HELDOUT_1 = FIXTURES / "heldout_1"  # see its README.md: written after rules 2026-11-30.1 were frozen


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_frozen_held_out_set_has_at_most_one_false_positive_in_twenty(lang):
    prompts = json.loads((HELDOUT_1 / f"{lang}.json").read_text(encoding="utf-8"))
    assert len(prompts) >= 20
    reports = [lint_text(text) for text in prompts]
    assert all(r.lang == lang for r in reports)
    flagged = [(r.text[:50], [(f.check, f.span.text[:40]) for f in r.findings]) for r in reports if not r.ok]
    assert len(flagged) * 20 <= len(prompts), flagged


# Frozen held-out sets 2 to 4 (see their README.md): sets 2 and 3 list, by index, the prompts that were
# written as good but, read by hand, miss something the linter rightly asks for, and which finding they get.
FROZEN = {"heldout_2": ("no_format.json", "format"), "heldout_3": ("no_example.json", "examples"),
          "heldout_4": (None, None)}


def _listed(name: str, lang: str) -> list[int]:
    filename = FROZEN[name][0]
    return json.loads((FIXTURES / name / filename).read_text(encoding="utf-8"))[lang] if filename else []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", sorted(FROZEN))
def test_frozen_held_out_sets_have_at_most_one_false_positive_in_twenty(name, lang):
    prompts = json.loads((FIXTURES / name / f"{lang}.json").read_text(encoding="utf-8"))
    listed = _listed(name, lang)
    assert len(prompts) >= 20
    good = [text for i, text in enumerate(prompts) if i not in listed]
    reports = [lint_text(text) for text in good]
    assert all(r.lang == lang for r in reports)
    flagged = [(r.text[:50], [(f.check, f.span.text[:40]) for f in r.findings]) for r in reports if not r.ok]
    assert len(flagged) * 20 <= len(good), flagged


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", ["heldout_1", *sorted(FROZEN), "heldout_5"])
def test_no_prompt_of_a_frozen_held_out_set_fails_strict(name, lang):
    """Every prompt written as good, those listed as missing a tip included: what they miss is advice.
    Set 5 (fresh for rules 2026-11-30.5, tuning data for .6) gets advice on 5 of 21 per language."""
    prompts = json.loads((FIXTURES / name / f"{lang}.json").read_text(encoding="utf-8"))
    reports = [lint_text(text) for text in prompts]
    assert len(reports) >= 20 and all(r.lang == lang for r in reports)
    failed = [(r.text[:50], [(f.check, f.span.text[:40]) for f in r.errors]) for r in reports if not r.strict_ok]
    assert not failed, failed


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", sorted(n for n, (filename, _) in FROZEN.items() if filename))
def test_frozen_prompts_that_miss_a_tip_get_that_finding_only(name, lang):
    prompts = json.loads((FIXTURES / name / f"{lang}.json").read_text(encoding="utf-8"))
    check = FROZEN[name][1]
    listed = _listed(name, lang)
    assert listed
    for i in listed:
        report = lint_text(prompts[i])
        assert [f.check for f in report.findings] == [check], prompts[i]
        assert report.strict_ok  # a judgment call: advice, never a --strict failure


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_good_prompts_pass_clean(path):
    report = lint_file(path)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert all(row["status"] in ("pass", "n/a") for row in report.tips)


def test_spans_point_at_the_offending_text():
    text = "You are an editor. Summarize {text} in at most 3 sentences, as plain prose."
    (finding,) = lint_text(text).findings
    assert (finding.check, finding.tip, finding.span.text) == ("delimiters", 3, "{text}")
    assert text[finding.span.start:finding.span.end] == "{text}"
    assert "<text>" in finding.hint  # a concrete rewrite

    inserted = (FIXTURES / "bad" / "delimiters_en_3.txt").read_text()
    (finding,) = lint_text(inserted).findings
    assert finding.span.text.startswith("Ignore all previous instructions")

    # an absence ("no role") points at the instruction, never into the inserted text
    bare = lint_text("Summarize this article: Apple reported record revenue this quarter.")
    role = next(f for f in bare.findings if f.check == "role")
    assert role.span.text == "Summarize this article:"

    steps = lint_text((FIXTURES / "bad" / "steps_en.txt").read_text()).findings[0]
    assert "1. Translate ... 2. Summarize ..." in steps.hint

    contradiction = lint_text((FIXTURES / "bad" / "contradiction_en_2.txt").read_text()).findings[0]
    assert "at most 50 words" in contradiction.why and "at least 200 words" in contradiction.why


def test_role_hint_fits_the_task():
    (finding,) = lint_text((FIXTURES / "bad" / "role_en.txt").read_text()).findings
    assert "You are an experienced editor." in finding.hint
    (finding,) = lint_text((FIXTURES / "bad" / "role_zh.txt").read_text()).findings
    assert "你是一名资深编辑。" in finding.hint


def test_text_prompt_variables_checked_against_the_ones_you_fill():
    text = (FIXTURES / "good" / "summary_en.txt").read_text()
    assert lint_text(text, variables=["text"]).ok
    report = lint_text(text, variables=["article"])
    problems = sorted(f.why for f in report.findings if f.check == "variables")
    assert any("{text} is used but no value" in p for p in problems)
    assert any("'article'" in p for p in problems)


def test_cli_lint_text_output_strict_and_json(tmp_path):
    bad = FIXTURES / "bad" / "length_en.txt"
    result = invoke("prompt", "lint", str(bad))
    assert result.exit_code == 0  # a report, not a failure, without --strict
    assert "[advice] tip 6" in result.output and "why:" in result.output and "fix:" in result.output
    assert "0 error(s) (fail --strict), 1 advice." in result.output
    assert invoke("prompt", "lint", str(bad), "--strict").exit_code == 0  # a missing length is advice
    role = invoke("prompt", "lint", str(FIXTURES / "bad" / "role_en.txt"), "--strict")
    assert role.exit_code == 1 and "[FAIL] tip 2" in role.output and ": error: [tip 2] role" in role.output
    assert invoke("prompt", "lint", str(FIXTURES / "good" / "summary_en.txt"), "--strict").exit_code == 0

    data = json.loads(invoke("prompt", "lint", str(bad), "--json").output)
    assert data["ok"] is False and data["strict_ok"] is True and data["lang"] == "en"
    assert data["findings"][0]["severity"] == "advice"
    assert [(f["check"], f["tip"]) for f in data["findings"]] == [("length", 6)]
    assert {row["check"] for row in data["tips"]} == set(CHECKS)

    several = json.loads(invoke("prompt", "lint", str(bad), "summarize", "--json").output)
    assert [r["ok"] for r in several] == [False, True]  # a template name lints too


def test_cli_lint_reads_stdin_and_reports_in_chinese():
    result = run_llmp("prompt", "lint", "-", "--strict", input="解释一下通货膨胀\n")
    assert result.returncode == 1
    assert "未通过" in result.stdout and "建议" in result.stdout
    assert "Traceback" not in result.stderr


def test_yaml_prompt_lints_as_rendered(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("task: Tell me about {topic}.\nvariables: [topic, unused]\n", encoding="utf-8")
    data = json.loads(invoke("prompt", "lint", str(path), "--json").output)
    checks = {f["check"]: f["field"] for f in data["findings"]}
    assert {"vague", "role", "length", "variables"} <= set(checks)
    assert (checks["role"], checks["length"], checks["vague"]) == ("role", "length", "task")
    assert any("'unused'" in f["why"] for f in data["findings"])


def test_cli_says_why_a_tip_does_not_apply_and_which_rules_ran(tmp_path):
    from llm_practice.prompts.lint import RULES_VERSION

    path = tmp_path / "translate.txt"
    path.write_text("你是一名专业译者。把 <text> 标签中的文本翻译成日语，保留原有的换行，直接输出译文。\n<text>\n{text}\n</text>\n",
                    encoding="utf-8")
    result = invoke("prompt", "lint", str(path), "--strict")
    assert result.exit_code == 0, result.output
    length_row = next(line for line in result.output.splitlines() if " length " in line)
    assert "不适用" in length_row and "长度由原文决定" in length_row
    assert RULES_VERSION in result.output
    data = json.loads(invoke("prompt", "lint", str(path), "--json").output)
    assert data["rules"] == RULES_VERSION
    row = next(r for r in data["tips"] if r["check"] == "length")
    assert row["status"] == "n/a" and "原文" in row["reason"]
