"""`llmp data`: formats, validation with line numbers, conversion, stats, split, preview."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from llm_practice.cli.main import cli
from llm_practice.data.formats import REGISTRY
from llm_practice.data.validate import iter_canonical, validate_dataset

from .conftest import run_llmp

FIXTURES = Path(__file__).parent / "fixtures" / "data"
VALID = {
    "qianfan_sft.jsonl": ("qianfan", {"conversation": 3}),
    "qianfan_rm.jsonl": ("qianfan", {"ranked": 3}),
    "qianfan_dpo.jsonl": ("qianfan-dpo", {"ranked": 2}),
    "qianfan_kto.jsonl": ("qianfan-dpo", {"unpaired": 2}),
    "prompts.jsonl": ("prompt", {"prompt": 2}),
    "prompts.csv": ("prompt", {"prompt": 2}),
    "alpaca.json": ("alpaca", {"conversation": 2}),
    "alpaca_pref.jsonl": ("alpaca", {"ranked": 1, "unpaired": 1}),
    "sharegpt.json": ("sharegpt", {"conversation": 2}),
    "sharegpt_pref.jsonl": ("sharegpt", {"ranked": 1}),
    "openai.jsonl": ("openai", {"conversation": 2}),
    "trl_pref.jsonl": ("trl", {"ranked": 3}),
    "trl_unpaired.jsonl": ("trl", {"unpaired": 2}),
    "trl_completion.jsonl": ("trl", {"conversation": 1}),
    "pt.txt": ("text", {"text": 2}),
}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def records(path, fmt="auto"):
    return [rec for _, rec in iter_canonical(path, fmt)]


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_fixtures_are_detected_and_pass(name):
    fmt, kinds = VALID[name]
    result = invoke("data", "validate", str(FIXTURES / name))
    assert result.exit_code == 0, result.output
    assert f"format {fmt} (detected)" in result.output
    assert "0 with problems" in result.output
    assert dict(validate_dataset(FIXTURES / name).kinds) == kinds


@pytest.mark.parametrize("name,expected", [
    ("broken_json.jsonl", ["broken_json.jsonl:2: (json): bad JSON (Expecting ',' delimiter"]),
    ("broken_array.json", ["broken_array.json:4: (json): bad JSON (Expecting ',' delimiter); "
                           "the rest of the file cannot be read."]),
    ("wrong_types.jsonl", [
        "wrong_types.jsonl:1: [0].response: must be a string or a list of [answer] lists, got a number.",
        "wrong_types.jsonl:2: [0].weight: must be a number from 0 to 1, got 'yes'. Use 0 to leave",
        "wrong_types.jsonl:3: [0].prompt: must be a string, got a list.",
        "wrong_types.jsonl:4: [0].score: must be a list of 2 numbers (one per answer), got [1].",
    ]),
    ("empty_answers.jsonl", ["empty_answers.jsonl:1: output: is empty.",
                             "empty_answers.jsonl:2: instruction: is empty."]),
    ("sharegpt_bad_roles.json", [
        "sharegpt_bad_roles.json:2: conversations[0].from: is 'gpt' at position 1, expected human or observation.",
        "sharegpt_bad_roles.json:3: conversations[1].from: unknown role 'bot'. Use one of human",
        "sharegpt_bad_roles.json:4: conversations[1].from: is 'human' at position 2, expected gpt",
    ]),
])
def test_broken_fixtures_report_file_line_field_and_hint(name, expected):
    result = invoke("data", "validate", str(FIXTURES / name))
    assert result.exit_code == 4
    for line in expected:
        assert line in result.output
    assert "Traceback" not in result.output
    assert "with problems" in result.output.splitlines()[-1]


@pytest.mark.parametrize("name,stage,problem", [
    ("one_answer_ranked.jsonl", "rm",
     "one_answer_ranked.jsonl:2: (record): the reward model needs two or more ranked answers"),
    ("qianfan_sft.jsonl", "grpo", "qianfan_sft.jsonl:1: (record): RL needs prompts only"),
    ("qianfan_rm.jsonl", "sft", "qianfan_rm.jsonl:1: (record): sft needs conversations"),
    ("openai.jsonl", "pt", "openai.jsonl:1: (record): pt trains on plain text"),
    ("qianfan_sft.jsonl", "dpo", "qianfan_sft.jsonl:2: (record): dpo needs a chosen and a rejected"),
])
def test_stage_checks(name, stage, problem):
    result = invoke("data", "validate", str(FIXTURES / name), "--stage", stage)
    assert result.exit_code == 4
    assert problem in result.output


@pytest.mark.parametrize("name,stage", [
    ("qianfan_rm.jsonl", "rm"), ("trl_pref.jsonl", "dpo"), ("qianfan_kto.jsonl", "kto"),
    ("prompts.csv", "grpo"), ("prompts.jsonl", "ppo"), ("pt.txt", "pt"), ("sharegpt.json", "sft"),
])
def test_stage_accepts_fitting_data(name, stage):
    result = invoke("data", "validate", str(FIXTURES / name), "--stage", stage)
    assert result.exit_code == 0, result.output


def test_forced_format_and_unknown_format(tmp_path):
    result = invoke("data", "validate", str(FIXTURES / "alpaca_pref.jsonl"), "--format", "sharegpt")
    assert result.exit_code == 4 and "looks like alpaca, but this file is read as sharegpt" in result.output
    assert "format sharegpt (given)" in result.output
    bad = invoke("data", "validate", str(FIXTURES / "alpaca.json"), "--format", "yaml-ish")
    assert bad.exit_code == 2 and "unknown dataset format 'yaml-ish'" in bad.output
    assert "sharegpt" in bad.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert invoke("data", "validate", str(empty)).exit_code == 4


@pytest.mark.parametrize("name", sorted(VALID))
def test_round_trip_through_canonical_form(name, tmp_path):
    """Writing records in their own format and reading them back gives the same records."""
    fmt = VALID[name][0]
    target = "qianfan-kto" if name == "qianfan_kto.jsonl" else fmt
    out = tmp_path / ("out.txt" if fmt == "text" else "out.jsonl")
    result = invoke("data", "convert", str(FIXTURES / name), str(out), "--to", target)
    assert result.exit_code == 0, result.output
    before, after = records(FIXTURES / name), records(out, fmt)
    if name in ("qianfan_rm.jsonl",):  # ranked lists stay ranked in qianfan: identical
        assert before == after
    elif fmt in ("alpaca", "sharegpt", "trl") and any(len(r.answers or []) > 2 for r in before):
        pytest.fail("fixture unexpectedly has 3+ answers")
    else:
        assert before == after


def test_qianfan_to_openai_and_back_keeps_system_and_weights(tmp_path):
    out, back = tmp_path / "o.jsonl", tmp_path / "q.jsonl"
    assert invoke("data", "convert", str(FIXTURES / "qianfan_sft.jsonl"), str(out), "--to", "openai").exit_code == 0
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["messages"][0] == {"role": "system", "content": "你是一个乐于助人的助手。"}
    assert first["messages"][-1] == {"role": "assistant", "content": "巴黎。", "weight": 0}
    assert invoke("data", "convert", str(out), str(back), "--to", "qianfan").exit_code == 0
    assert records(back) == records(FIXTURES / "qianfan_sft.jsonl")
    line = json.loads(back.read_text(encoding="utf-8").splitlines()[0])
    assert line[1] == {"prompt": "法国的首都是哪里？", "response": [["巴黎。"]], "weight": 0.0}


def test_llama_factory_alpaca_history_to_sharegpt(tmp_path):
    out = tmp_path / "s.json"
    result = invoke("data", "convert", str(FIXTURES / "alpaca.json"), str(out), "--to", "sharegpt")
    assert result.exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data[0] == {
        "conversations": [
            {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello! Ready to translate."},
            {"from": "human", "value": "Translate to French\nGood morning"},
            {"from": "gpt", "value": "Bonjour"}],
        "system": "You are a translator."}


def test_sharegpt_function_calls_survive_openai_round_trip_but_not_alpaca(tmp_path):
    out = tmp_path / "a.jsonl"
    refused = run_llmp("data", "convert", str(FIXTURES / "sharegpt.json"), str(out), "--to", "alpaca")
    assert refused.returncode == 4 and not out.exists()
    assert "1 records cannot be written: alpaca has no place for function calls" in refused.stderr
    assert "(2 records read); nothing was written" in refused.stderr and "--lossy" in refused.stderr
    result = invoke("data", "convert", str(FIXTURES / "sharegpt.json"), str(out), "--to", "alpaca",
                    "--lossy")
    assert result.exit_code == 0
    assert "1 records skipped: alpaca has no place for function calls" in result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    out2 = tmp_path / "s2.jsonl"
    assert invoke("data", "convert", str(FIXTURES / "sharegpt.json"), str(out2), "--to", "sharegpt").exit_code == 0
    assert records(out2) == records(FIXTURES / "sharegpt.json")


def test_ranked_lists_become_pairs_with_ties_skipped(tmp_path):
    all_pairs, adjacent = tmp_path / "all.jsonl", tmp_path / "adj.jsonl"
    refused = invoke("data", "convert", str(FIXTURES / "qianfan_rm.jsonl"), str(all_pairs),
                     "--to", "alpaca")
    assert refused.exit_code == 4 and not all_pairs.exists()
    assert "1 records: answer pairs with equal scores skipped (1)" in refused.output
    result = invoke("data", "convert", str(FIXTURES / "qianfan_rm.jsonl"), str(all_pairs),
                    "--to", "alpaca", "--lossy")
    assert result.exit_code == 0
    assert "Converted 3 records (qianfan) into 6 alpaca records" in result.output
    assert "1 records: answer pairs with equal scores skipped (1)" in result.output
    rows = [json.loads(x) for x in all_pairs.read_text(encoding="utf-8").splitlines()]
    assert [(r["chosen"], r["rejected"]) for r in rows if r["instruction"] == "Pick a pet"] == [
        ("A cat, calm and clean.", "A dog."), ("A cat, calm and clean.", "A goldfish.")]
    assert rows[0]["history"] == [["Hi", "Hello!"]] and rows[0]["system"] == "Answer briefly."
    invoke("data", "convert", str(FIXTURES / "qianfan_rm.jsonl"), str(adjacent), "--to", "qianfan-dpo",
           "--pairs", "adjacent", "--lossy")
    pairs = [json.loads(x)[-1] for x in adjacent.read_text(encoding="utf-8").splitlines()]
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [
        ("Hangzhou, for Longjing tea.", "Hangzhou."), ("Hangzhou.", "No idea."), ("2", "11"),
        ("A cat, calm and clean.", "A dog.")]


def test_sft_to_prompt_set_and_kto(tmp_path):
    prompts = tmp_path / "p.jsonl"
    result = invoke("data", "convert", str(FIXTURES / "qianfan_rm.jsonl"), str(prompts), "--to",
                    "prompt", "--lossy")
    assert result.exit_code == 0 and "answers dropped" in result.output
    assert invoke("data", "validate", str(prompts), "--stage", "grpo").exit_code == 0
    kto = tmp_path / "k.jsonl"
    assert invoke("data", "convert", str(FIXTURES / "trl_pref.jsonl"), str(kto), "--to", "qianfan-kto").exit_code == 4
    assert invoke("data", "convert", str(FIXTURES / "trl_pref.jsonl"), str(kto), "--to", "qianfan-kto",
                  "--lossy").exit_code == 0
    assert dict(validate_dataset(kto, "qianfan-kto").kinds) == {"unpaired": 6}


@pytest.mark.parametrize("suffix", [".json", ".csv", ".xlsx", ".parquet"])
def test_every_file_type_round_trips(suffix, tmp_path):
    for name in ("qianfan_rm.jsonl", "sharegpt.json", "openai.jsonl"):
        fmt = VALID[name][0]
        out = tmp_path / f"{Path(name).stem}{suffix}"
        assert invoke("data", "convert", str(FIXTURES / name), str(out), "--to", fmt).exit_code == 0
        assert records(out) == records(FIXTURES / name), (name, suffix)


def test_json_array_is_streamed_with_line_numbers(tmp_path):
    big = tmp_path / "big.json"
    items = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(3000)]
    items[2500]["output"] = ""
    big.write_text(json.dumps(items, indent=2), encoding="utf-8")
    report = validate_dataset(big)
    assert report.records == 3000 and report.problem_count == 1
    text = big.read_text().splitlines()
    line = report.problems[0].line
    assert text[line - 1].strip() == "{" and '"q2500"' in text[line]


def test_validate_does_not_import_torch_or_pandas():
    code = (
        "import sys\nfrom llm_practice.cli.main import main\n"
        f"try:\n    main(['data', 'validate', {str(FIXTURES / 'qianfan_rm.jsonl')!r}, '--stage', 'rm'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print('HEAVY', [m for m in ('torch', 'transformers', 'pandas', 'numpy') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_real_process_exit_codes():
    ok = run_llmp("data", "validate", str(FIXTURES / "qianfan_rm.jsonl"), "--stage", "rm")
    assert ok.returncode == 0 and "3 valid (ranked 3)" in ok.stdout
    bad = run_llmp("data", "convert", str(FIXTURES / "wrong_types.jsonl"), "/tmp/never.jsonl", "--to", "openai")
    assert bad.returncode == 4
    assert "wrong_types.jsonl:1: field '[0].response' must be a string" in bad.stderr
    assert "llmp data validate" in bad.stderr and not Path("/tmp/never.jsonl").exists()


def test_stats_and_histogram(tmp_path):
    png = tmp_path / "len.png"
    result = invoke("data", "stats", str(FIXTURES / "qianfan_rm.jsonl"), "--json", "--plot", str(png))
    assert result.exit_code == 0
    stats = json.loads(result.output)
    assert stats["records"] == 3 and stats["kinds"] == {"ranked": 3}
    assert stats["user_turns"] == {"1": 2, "2": 1} and stats["system_prompts"] == 1
    assert stats["unit"] == "characters" and stats["length"]["min"] == len("1+1?" "2" "11")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stats_with_the_bundled_tokenizer():
    result = run_llmp("data", "stats", str(FIXTURES / "pt.txt"), "--tokenizer", "smollm2-135m-instruct", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["unit"] == "tokens"
    assert 10 < stats["length"]["min"] < 100  # the English sentence: ~20 tokens, not 85 characters
    bad = invoke("data", "stats", str(FIXTURES / "pt.txt"), "--tokenizer", "no-such-model")
    assert bad.exit_code == 2 and "--tokenizer" in bad.output


def test_split_keeps_every_record_once(tmp_path):
    src = tmp_path / "sft.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"q{i}", "output": "a"}) + "\n" for i in range(50)))
    result = invoke("data", "split", str(src), "--val", "0.2", "--seed", "3")
    assert result.exit_code == 0
    train = (tmp_path / "sft.train.jsonl").read_text().splitlines()
    val = (tmp_path / "sft.val.jsonl").read_text().splitlines()
    assert len(val) == 10 and len(train) == 40
    assert sorted(train + val) == sorted(src.read_text().splitlines())


def test_preview_shows_roles_and_ranked_answers():
    result = invoke("data", "preview", str(FIXTURES / "qianfan_rm.jsonl"), "-n", "1", "--no-pager")
    assert result.exit_code == 0
    assert "system: Answer briefly." in result.output
    assert "answer #1 score 2: Hangzhou, for Longjing tea." in result.output
    assert "line 1 · ranked" in result.output


def test_every_data_subcommand_help_has_an_example():
    for sub in ("validate", "convert", "stats", "split", "preview", "prepare-pt", "formats"):
        result = invoke("data", sub, "--help")
        assert result.exit_code == 0 and "Example: llmp data" in result.output, sub


def test_minified_json_array_on_one_line(tmp_path):
    path = tmp_path / "one_line.json"
    path.write_text(json.dumps([{"instruction": f"q{i}", "output": "a" * 50} for i in range(30000)]))
    assert path.stat().st_size > 2**20  # bigger than one read chunk
    report = validate_dataset(path)
    assert report.records == 30000 and report.ok and report.format == "alpaca"


def test_formats_list_matches_registry():
    result = invoke("data", "formats")
    assert [line.split()[0] for line in result.output.splitlines()] == list(REGISTRY)


def test_examples_validate_for_their_stage():
    examples = Path(__file__).parents[1] / "examples" / "data"
    stages = {"sft": "sft", "rm": "rm", "dpo": "dpo", "rl": "grpo", "pt": "pt"}
    checked = 0
    for path in sorted(examples.glob("*.jsonl")):
        # *_probe_* files are held-out questions with answers: a prompt set (RL, keyword reward)
        stage = "grpo" if "_probe" in path.stem else stages[path.stem.split("_")[0]]
        report = validate_dataset(path, stage=stage)
        assert report.ok, (path, report.problems[:3])
        checked += 1
    assert checked >= 10


def test_function_calls_that_are_not_json_are_refused_by_openai_and_lf_v1():
    from llm_practice.data import lfv1, openai
    from llm_practice.data.records import Record, Turn, Unrepresentable

    rec = Record(turns=[Turn("user", "Weather in Paris?"), Turn("function_call", "get_weather Paris"),
                        Turn("observation", "18C"), Turn("assistant", "18C in Paris.")])
    for module, written_as in ((openai, "tool_calls"), (lfv1, "tool_call parts")):
        with pytest.raises(Unrepresentable) as refused:
            module.from_canonical(rec, lambda what, lossy=True: None, "all")
        assert str(refused.value) == ("function calls that are not JSON {name, arguments} cannot "
                                      f"be written as {written_as}")
