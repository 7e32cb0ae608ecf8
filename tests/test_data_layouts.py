"""Datasets as LLaMA-Factory, OpenAI and TRL users have them: KTO labels, content parts, reasoning,
loss weights, tool calls, v1 DPO pairs, dataset_info.json, and lossless-or-nothing conversion."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from llm_practice.cli.main import cli
from llm_practice.data.convert import convert_dataset
from llm_practice.data.formats import REGISTRY
from llm_practice.data.reader import DatasetSpec, read_dataset
from llm_practice.data.validate import iter_canonical, validate_dataset
from llm_practice.errors import ConfigError, LossyConversionError

from .conftest import run_llmp

DATA = Path(__file__).parent / "fixtures" / "data"
LAYOUTS = DATA / "layouts"
INFO = LAYOUTS / "dataset_info.json"


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def records(path, fmt="auto"):
    return [rec for _, rec in iter_canonical(path, fmt)]


def label_facts(recs) -> Counter:
    """(prompt, answer, label) of every labelled answer: what a KTO trainer learns from."""
    return Counter((tuple(t.content for t in r.turns), r.answers[0], r.label)
                   for r in recs if r.label is not None)


@pytest.mark.parametrize("name,fmt,kinds,labels", [
    ("kto_mixed.json", "openai", {"unpaired": 5}, {True: 3, False: 2}),
    ("sharegpt_kto.jsonl", "sharegpt", {"unpaired": 2}, {True: 1, False: 1}),
    ("lf_v1_sft.jsonl", "lf-v1", {"conversation": 3}, {}),
    ("lf_v1_dpo.jsonl", "lf-v1", {"ranked": 2}, {}),
    ("openai_tools.jsonl", "openai", {"conversation": 2}, {}),
    ("trl_tools.jsonl", "trl", {"conversation": 2}, {}),
])
def test_layouts_are_detected_with_their_labels(name, fmt, kinds, labels):
    report = validate_dataset(LAYOUTS / name)
    assert report.ok and report.format == fmt, report.problems[:2]
    assert dict(report.kinds) == kinds
    assert dict(Counter(r.label for r in records(LAYOUTS / name) if r.label is not None)) == labels


def test_llama_factory_kto_labels_are_kept_and_never_flipped(tmp_path):
    """The reported bug: the KTO demo read as OpenAI messages lost its labels, and converting it
    to qianfan-kto wrote every answer as desirable."""
    src = LAYOUTS / "kto_mixed.json"
    assert invoke("data", "validate", src, "--stage", "kto").exit_code == 0
    out = tmp_path / "kto.jsonl"
    result = invoke("data", "convert", src, out, "--to", "qianfan-kto")
    assert result.exit_code == 0, result.output
    assert "KTO labels: 3 true / 2 false in, 3 true / 2 false out" in result.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [("chosen" in r[-1], r[-1].get("chosen", r[-1].get("rejected"))) for r in rows] == [
        (True, "Red is a primary colour."), (False, "Purple, obviously."), (True, "蓝色。"),
        (False, "It is 12."), (True, "<think>Define wet first.</think>Water makes things wet.")]
    assert rows[3][0] == {"user": "Hi", "assistant": "Hello!"}
    assert label_facts(records(out, "qianfan-kto")) == label_facts(records(src))


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_labels_survive_tabular_and_json_files(suffix, tmp_path):
    out = tmp_path / f"kto{suffix}"
    assert invoke("data", "convert", LAYOUTS / "kto_mixed.json", out, "--to", "openai").exit_code == 0
    assert label_facts(records(out)) == label_facts(records(LAYOUTS / "kto_mixed.json"))


def test_a_conversion_never_invents_a_label(tmp_path):
    out = tmp_path / "kto.jsonl"
    refused = invoke("data", "convert", DATA / "openai.jsonl", out, "--to", "qianfan-kto")
    assert refused.exit_code == 4 and not out.exists()
    assert "2 records cannot be written: conversations have no KTO label" in refused.output
    lossy = invoke("data", "convert", DATA / "openai.jsonl", out, "--to", "qianfan-kto", "--lossy")
    assert lossy.exit_code == 0 and out.read_text(encoding="utf-8") == ""


# source file -> targets that hold everything in it (a round trip gives the same records)
LOSSLESS = {
    "layouts/kto_mixed.json": {"qianfan-kto", "sharegpt", "openai", "alpaca", "trl"},
    "layouts/sharegpt_kto.jsonl": {"qianfan-kto", "sharegpt", "openai", "alpaca", "trl"},
    "layouts/lf_v1_sft.jsonl": {"lf-v1", "openai"},
    "layouts/lf_v1_dpo.jsonl": {"qianfan", "qianfan-dpo", "sharegpt", "lf-v1", "openai", "alpaca", "trl"},
    "layouts/openai_tools.jsonl": {"openai"},
    "layouts/trl_tools.jsonl": {"openai", "trl"},
    "qianfan_sft.jsonl": {"qianfan", "lf-v1", "openai"},
    "qianfan_rm.jsonl": {"qianfan"},
    "trl_unpaired.jsonl": {"qianfan-kto", "sharegpt", "openai", "alpaca", "trl"},
    "sharegpt.json": {"sharegpt", "lf-v1", "openai", "trl"},
}


@pytest.mark.parametrize("source", sorted(LOSSLESS))
def test_every_pair_of_formats_is_lossless_or_stops(source, tmp_path):
    src = DATA / source
    before = records(src)
    facts = label_facts(before)
    for target in REGISTRY:
        out = tmp_path / f"{target}.jsonl"
        try:
            report = convert_dataset(src, out, target)
        except LossyConversionError as e:
            assert target not in LOSSLESS[source], (source, target, str(e))
            assert not out.exists() and e.read == len(before)
            assert e.losses or e.skipped
            report = convert_dataset(src, out, target, lossy=True)
            written = label_facts(records(out, target)) if out.read_text(encoding="utf-8") else Counter()
            if not any(r.kind == "ranked" for r in before):
                assert not written - facts, (source, target)  # no label invented or flipped
            if target in ("sharegpt", "openai", "alpaca", "trl", "qianfan-kto"):
                assert written & facts == facts, (source, target)  # every label that fits is kept
            continue
        assert target in LOSSLESS[source], (source, target, report.losses, report.skipped)
        assert records(out, target) == before, (source, target)
        labels = Counter(r.label for r in before if r.label is not None)
        assert report.labels_in == labels and report.labels_out == labels, (source, target)


def test_trl_implicit_prompt_and_qianfan_fields_in_the_wrong_place(tmp_path):
    implicit = tmp_path / "implicit.jsonl"
    implicit.write_text(json.dumps({"chosen": "The sky is blue.", "rejected": "The sky is green."}) + "\n")
    (rec,) = records(implicit)
    assert (rec.turns[0].content, rec.answers) == ("The sky is", [" blue.", " green."])
    misplaced = tmp_path / "q.jsonl"
    misplaced.write_text(json.dumps([{"prompt": "a", "response": "b", "score": [1]},
                                     {"prompt": "c", "response": [["d"], ["e"]]}]) + "\n"
                         + json.dumps([{"prompt": "c", "response": [["d"], ["e"]], "weight": 0}]) + "\n")
    result = invoke("data", "validate", misplaced)
    assert "q.jsonl:1: [0].score: is only read on the last turn." in result.output
    assert "q.jsonl:2: [0].weight: is not read for ranked answers." in result.output


def test_parts_reasoning_loss_weights_and_tool_calls_of_lf_v1():
    first, second, third = records(LAYOUTS / "lf_v1_sft.jsonl")
    assert first.system == "You are careful."
    assert (first.turns[-1].content, first.turns[-1].reasoning) == ("51", "17 * 3 = 51.")
    assert [t.weight for t in second.turns] == [1.0, 0.0, 1.0, 1.0]
    call = third.turns[1]
    assert call.role == "function_call" and call.reasoning == "Two cities, two calls."
    assert json.loads(call.content) == [{"name": "get_weather", "arguments": {"city": "Paris"}},
                                        {"name": "get_weather", "arguments": {"city": "Rome"}}]
    assert json.loads(third.tools)[0]["function"]["name"] == "get_weather"


def test_reasoning_and_tool_calls_written_in_each_formats_spelling(tmp_path):
    openai_out, sharegpt_out = tmp_path / "o.jsonl", tmp_path / "s.jsonl"
    assert invoke("data", "convert", LAYOUTS / "lf_v1_sft.jsonl", openai_out, "--to", "openai").exit_code == 0
    rows = [json.loads(x) for x in openai_out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["messages"][-1] == {"role": "assistant", "content": "51", "thinking": "17 * 3 = 51."}
    assert rows[1]["messages"][1] == {"role": "assistant", "content": "Hi!", "weight": 0}
    calls = rows[2]["messages"][1]["tool_calls"]
    assert calls[0] == {"type": "function", "function": {"name": "get_weather",
                                                         "arguments": '{"city": "Paris"}'}}
    refused = invoke("data", "convert", LAYOUTS / "lf_v1_sft.jsonl", sharegpt_out, "--to", "sharegpt")
    assert refused.exit_code == 4
    assert "1 records: per-turn loss weights dropped (sharegpt has no weight field)" in refused.output
    assert "1 records: reasoning before function calls dropped" in refused.output
    assert invoke("data", "convert", LAYOUTS / "lf_v1_sft.jsonl", sharegpt_out, "--to", "sharegpt",
                  "--lossy").exit_code == 0
    first = json.loads(sharegpt_out.read_text(encoding="utf-8").splitlines()[0])
    assert first["conversations"][1] == {"from": "gpt", "value": "<think>17 * 3 = 51.</think>51"}


def test_v1_dpo_pairs_become_trl_preference(tmp_path):
    out = tmp_path / "pref.jsonl"
    assert invoke("data", "convert", LAYOUTS / "lf_v1_dpo.jsonl", out, "--to", "trl").exit_code == 0
    second = json.loads(out.read_text(encoding="utf-8").splitlines()[1])
    assert second["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert second["prompt"][-1] == {"role": "user", "content": "2+2?"}
    assert (second["chosen"], second["rejected"]) == ([{"role": "assistant", "content": "4"}],
                                                      [{"role": "assistant", "content": "22"}])
    assert invoke("data", "validate", out, "--stage", "dpo").exit_code == 0


@pytest.mark.parametrize("name,fmt,expected", [
    ("unsupported.jsonl", "auto", "unsupported.jsonl:1: messages[0].content[1].type: part type "
     "'image_url' is not supported."),
    ("unsupported.jsonl", "sharegpt", "unsupported.jsonl:2: label: must be true or false, got 'yes'."),
    ("unread_fields.jsonl", "auto", "unread_fields.jsonl:1: score: field not read by alpaca: the data "
     "would be lost."),
    ("unread_fields.jsonl", "auto", "unread_fields.jsonl:2: weight: field not read by alpaca"),
    ("trl_stepwise.jsonl", "auto", "trl_stepwise.jsonl:1: completions, labels: fields not read by "
     "prompt: the data would be lost. TRL stepwise supervision"),
])
def test_unsupported_and_unread_fields_are_reported_with_the_line(name, fmt, expected):
    result = invoke("data", "validate", LAYOUTS / name, "--format", fmt)
    assert result.exit_code == 4 and expected in result.output, result.output


def test_unread_fields_stop_a_conversion_unless_lossy(tmp_path):
    out = tmp_path / "o.jsonl"
    refused = invoke("data", "convert", LAYOUTS / "unread_fields.jsonl", out, "--to", "openai")
    assert refused.exit_code == 4 and not out.exists()
    assert "1 records: field score not read by the source format (first on line 1;" in refused.output
    lossy = invoke("data", "convert", LAYOUTS / "unread_fields.jsonl", out, "--to", "openai", "--lossy")
    assert lossy.exit_code == 0
    assert "1 records: field score not read by the source format" in lossy.output


def test_dataset_info_entries_read_through_their_column_mapping(tmp_path):
    ok = invoke("data", "validate", "--dataset-info", INFO, "kto_demo", "--stage", "kto")
    assert ok.exit_code == 0 and "5 valid (unpaired 5)" in ok.output
    qa = records(*DatasetSpec(dataset_info=INFO, name="qa_kto").source())
    assert [(r.system, r.turns[-1].content, r.answers, r.label) for r in qa] == [
        ("Be exact.", "Largest planet?", ["Jupiter."], True),
        (None, "Smallest planet?\nin the solar system", ["Pluto."], False)]
    pt = list(read_dataset(DatasetSpec(dataset_info=INFO, name="pt_demo"), stage="pt"))
    assert [r.text for r in pt] == ["The first document is about rivers and the sea.",
                                    "The second one is about mountains."]
    pref = invoke("data", "validate", "--dataset-info", INFO, "pref_sharegpt", "--stage", "dpo")
    assert pref.exit_code == 0, pref.output
    out = tmp_path / "kto.jsonl"
    converted = invoke("data", "convert", "--dataset-info", INFO, "kto_demo", out, "--to", "trl")
    assert converted.exit_code == 0 and "3 true / 2 false out" in converted.output
    stats = invoke("data", "stats", "--dataset-info", INFO, "qa_kto", "--json")
    assert json.loads(stats.output)["labels"] == {"true": 1, "false": 1}


def test_dataset_info_mistakes_name_the_entry(tmp_path):
    hub = invoke("data", "validate", "--dataset-info", INFO, "on_the_hub")
    assert hub.exit_code == 2 and "on_the_hub: reads from hf_hub_url" in hub.output
    missing = invoke("data", "validate", "--dataset-info", INFO, "nope")
    assert missing.exit_code == 2 and "no dataset named 'nope'" in missing.output and "kto_demo" in missing.output
    both = invoke("data", "validate", LAYOUTS / "kto_mixed.json", "--dataset-info", INFO, "kto_demo")
    assert both.exit_code == 2
    info = json.loads(INFO.read_text())
    info["kto_untagged"] = {**info["kto_demo"], "columns": {"messages": "messages"},
                            "file_name": str(LAYOUTS / "kto_mixed.json")}
    info["with_images"] = {"file_name": "x.json", "columns": {"images": "images"}}
    mine = tmp_path / "dataset_info.json"
    mine.write_text(json.dumps(info))
    untagged = invoke("data", "validate", "--dataset-info", mine, "kto_untagged")
    assert untagged.exit_code == 4
    assert "kto_mixed.json:2: label: field not read by dataset_info:kto_untagged" in untagged.output
    images = invoke("data", "validate", "--dataset-info", mine, "with_images")
    assert images.exit_code == 2 and "images" in images.output
    with pytest.raises(ConfigError):
        DatasetSpec(path=LAYOUTS / "kto_mixed.json", dataset_info=INFO, name="kto_demo").source()


def test_lossy_refusal_in_a_real_process(tmp_path):
    out = tmp_path / "x.jsonl"
    result = run_llmp("data", "convert", str(DATA / "qianfan_rm.jsonl"), str(out), "--to", "trl")
    assert result.returncode == 4 and not out.exists()
    assert "answer scores dropped (trl has no score field)" in result.stderr
    assert "Traceback" not in result.stderr
