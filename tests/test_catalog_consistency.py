"""The curated catalog (catalog/models.yaml) agrees with itself, with the hubs' spelling and
with the real config.json files kept in tests/fixtures/configs/ (issue #23)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from llm_practice.catalog.catalog import SOURCES, load_catalog

FIXTURES = Path(__file__).parent / "fixtures" / "configs"
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
RENAMED = {"hf": {"THUDM": "zai-org"}}  # old organisation names that only redirect now
ENTRIES = load_catalog()


def position_limit(config: dict) -> int | None:
    return config.get("max_position_embeddings") or config.get("seq_length")


def test_names_and_ids_are_unique_and_spelled_as_each_hub_spells_them():
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)
    for source in SOURCES:
        ids = [e.id_on(source) for e in ENTRIES if e.id_on(source)]
        assert len(set(ids)) == len(ids), f"an id is listed twice on {source}"
        orgs = defaultdict(set)
        for repo_id in ids:
            assert REPO_ID.match(repo_id) and "--" not in repo_id, repo_id
            org = repo_id.split("/")[0]
            assert org not in RENAMED.get(source, {}), f"{repo_id}: {org} is now {RENAMED[source][org]}"
            orgs[org.lower()].add(org)
        mixed = {k: v for k, v in orgs.items() if len(v) > 1}
        assert not mixed, f"one organisation, two spellings on {source}: {mixed}"


def test_the_ids_the_new_user_report_found_wrong_are_fixed():
    by_name = {e.name: e for e in ENTRIES}
    assert by_name["minicpm-2b-sft-bf16"].ids.modelscope == "OpenBMB/miniCPM-bf16"  # OpenBMB's README links it
    assert by_name["qwen1.5-7b-chat"].ids.modelscope == "Qwen/Qwen1.5-7B-Chat"
    assert by_name["chatglm3-6b"].ids.hf == "zai-org/chatglm3-6b"
    assert all(e.context == 32768 for e in ENTRIES if e.family.startswith("Qwen3"))  # the cards' native length


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_each_entry_names_its_source_marks_gating_and_fits_its_config(entry):
    if entry.ids.hf:  # the model card comes first
        assert entry.source[0] == f"https://huggingface.co/{entry.ids.hf}"
    assert set(entry.gated) <= {s for s in SOURCES if entry.id_on(s)}, "gated on a hub it is not on"
    if entry.license.lower().startswith(("llama", "gemma")):
        assert "hf" in entry.gated  # Meta's and Google's terms are accepted on the Hugging Face page
    limit = position_limit(entry.config)
    assert limit and entry.context <= limit, "context longer than the config's position limit"
    if entry.context != limit:
        assert entry.context_note, "context differs from config.json: say why in context_note"


FIXTURE_ENTRIES = [(e, FIXTURES / f"{e.ids.hf.split('/')[1]}.json") for e in ENTRIES
                   if e.ids.hf and (FIXTURES / f"{e.ids.hf.split('/')[1]}.json").is_file()]


def test_fixture_configs_cover_a_good_part_of_the_catalog():
    assert len(FIXTURE_ENTRIES) >= 10


@pytest.mark.parametrize("entry,path", FIXTURE_ENTRIES, ids=lambda x: getattr(x, "name", ""))
def test_entries_with_a_real_config_json_match_it(entry, path):
    real = json.loads(path.read_text(encoding="utf-8"))
    real = real.get("text_config", real) | {k: v for k, v in real.items() if k != "text_config"}
    differ = {k: (v, real[k]) for k, v in entry.config.items() if k in real and real[k] != v}
    assert not differ, f"catalog vs {path.name}: {differ}"
    limit = position_limit(real)
    assert entry.context <= limit
    if entry.context != limit:
        assert entry.context_note
