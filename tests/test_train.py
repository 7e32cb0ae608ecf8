"""`llmp train` as a library: recipe checks before weights load, data shaping, every stage a few steps.

Stages train a tiny Llama built from a config (with the bundled model's real tokenizer) for two
steps and must end `finished` with a finite loss and moved trainable weights.
"""

from __future__ import annotations

import json
import math

import pytest

from llm_practice.errors import (ConfigError, DatasetFormatError, EngineUnsupportedError, MemoryBudgetError,
                                 ModelNotFoundError, RunFolderError)
from llm_practice.train import load_recipe, plan_run, train

from .train_helpers import DATA, RECIPES, assert_trained, build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama")


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --- recipe keys and overrides -------------------------------------------------------------------

def test_unknown_key_names_file_line_and_valid_keys(tmp_path):
    recipe = write(tmp_path / "r.yaml", "stage: sft\ndata: x.jsonl\nlearning_rat: 1e-4\n")
    with pytest.raises(ConfigError) as e:
        load_recipe(recipe)
    text = str(e.value)
    assert f"{recipe}:3" in text and "learning_rat" in text
    assert "Did you mean 'learning_rate'" in text and "finetuning" in text  # lists our keys too


def test_trl_settings_pass_through_and_overrides_win(tmp_path):
    recipe = write(tmp_path / "r.yaml", "stage: dpo\ndata: x.jsonl\nbeta: 0.3\ntrainer: {max_steps: 9}\n")
    r = load_recipe(recipe, ["max_steps=5", "loss_type=[ipo]", "finetuning=full", "learning_rate=1e-4"])
    assert r.trainer == {"beta": 0.3, "max_steps": 5, "loss_type": ["ipo"], "learning_rate": 1e-4}
    assert r.finetuning == "full" and r.name == "r"


def test_bad_values_and_overrides(tmp_path):
    recipe = write(tmp_path / "r.yaml", "stage: sft\ndata: x.jsonl\nfinetuning: qlorra\n")
    with pytest.raises(ConfigError, match=r"r.yaml:3: finetuning"):
        load_recipe(recipe)
    with pytest.raises(ConfigError, match="unknown key for stage sft"):
        load_recipe(None, ["stage=sft", "data=x", "nonsense=1"])
    with pytest.raises(ConfigError, match="unknown stage 'sfx'"):
        load_recipe(None, ["stage=sfx", "data=x"])
    with pytest.raises(ConfigError, match="set by llmp"):
        load_recipe(None, ["stage=sft", "data=x", "output_dir=/tmp/x"])
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_recipe(write(tmp_path / "bad.yaml", "stage: sft\n  data: [\n"))


def test_trl_settings_are_type_checked_before_loading(tmp_path):
    """TRL's configs take any value; `bf16=maybe` must not train with bf16 on."""
    base = ["stage=sft", "data=x.jsonl"]
    with pytest.raises(ConfigError) as e:
        load_recipe(None, [*base, "bf16=maybe"])
    assert "bf16: expects true or false" in str(e.value) and "'maybe'" in str(e.value)
    with pytest.raises(ConfigError, match=r"max_steps: expects an integer, got 'ten'"):
        load_recipe(None, [*base, "max_steps=ten"])
    with pytest.raises(ConfigError, match=r"max_steps: expects an integer, got true"):
        load_recipe(None, [*base, "max_steps=true"])
    with pytest.raises(ConfigError, match=r"lr_scheduler_type: expects one of linear, cosine"):
        load_recipe(None, [*base, "lr_scheduler_type=cosin"])
    recipe = write(tmp_path / "r.yaml", "stage: sft\ndata: x.jsonl\ntrainer:\n  packing: yes please\n")
    with pytest.raises(ConfigError, match=rf"{recipe}:3: packing: expects true or false"):
        load_recipe(recipe)
    r = load_recipe(None, [*base, "learning_rate=1e-4", "max_steps=1e2", "weight_decay=0", "bf16=true",
                           "lr_scheduler_type=cosine", "eval_steps=null"])
    assert r.trainer == {"learning_rate": 1e-4, "max_steps": 100, "weight_decay": 0.0, "bf16": True,
                         "lr_scheduler_type": "cosine", "eval_steps": None}
    assert type(r.trainer["max_steps"]) is int and type(r.trainer["weight_decay"]) is float


def test_trl_lists_are_checked_item_by_item_and_a_near_choice_is_suggested():
    base = ["stage=dpo", "data=x.jsonl"]
    with pytest.raises(ConfigError, match=r"loss_weights: expects a list \(each item a number\) or null, "
                                          r"got \[1, 'heavy'\]"):
        load_recipe(None, [*base, "loss_weights=[1, heavy]"])
    r = load_recipe(None, [*base, "loss_weights=[1, 2e-1]", "loss_type=ipo"])  # TRL wraps a lone loss_type
    assert r.trainer == {"loss_weights": [1.0, 0.2], "loss_type": "ipo"}
    with pytest.raises(ConfigError, match=r"Write lr_scheduler_type=cosine "):
        load_recipe(None, [*base, "lr_scheduler_type=cosin"])


# --- checks before weights load ------------------------------------------------------------------

def test_data_must_fit_the_stage(tiny):
    # ranked data is fine for sft (best answer); prompts only are not for rm: error names file:line
    plan = plan_run(load_recipe(None, ["stage=sft", f"data={DATA / 'rm_en.jsonl'}", f"model={tiny}"]))
    assert plan.kinds == {"ranked": 36}
    with pytest.raises(DatasetFormatError) as e:
        plan_run(load_recipe(None, ["stage=rm", f"data={DATA / 'rl_en.jsonl'}", f"model={tiny}"]))
    assert "rl_en.jsonl:1" in str(e.value) and "ranked answers" in str(e.value)


def test_model_folder_memory_and_qlora_are_checked_first(tiny, tmp_path):
    base = ["stage=sft", f"data={DATA / 'sft_en.jsonl'}"]
    with pytest.raises(ModelNotFoundError):
        plan_run(load_recipe(None, [*base, "model=no-such-model"]))
    with pytest.raises(ConfigError, match="no run 'missing'"):
        plan_run(load_recipe(None, [*base, "model=runs/missing"]))
    with pytest.raises(MemoryBudgetError, match="GB but this machine has"):
        plan_run(load_recipe(None, [*base, f"model={tiny}", "max_length=200000", "per_device_train_batch_size=4096"]))
    with pytest.raises(EngineUnsupportedError, match="QLoRA needs a CUDA GPU"):
        plan_run(load_recipe(None, [*base, f"model={tiny}", "finetuning=qlora"]))
    # a folder holding another run is never reused without --resume / --overwrite
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"name": "old", "stage": "sft", "status": "finished"}))
    with pytest.raises(RunFolderError, match="holds run 'old'"):
        plan_run(load_recipe(None, [*base, f"model={tiny}"]), output=out)
    with pytest.raises(RunFolderError, match="no checkpoint to resume"):
        plan_run(load_recipe(None, [*base, f"model={tiny}"]), output=out, resume=True)


def test_rl_rewards_are_checked(tiny):
    base = ["stage=grpo", f"data={DATA / 'rl_en.jsonl'}", f"model={tiny}"]
    with pytest.raises(ConfigError, match="need a reward"):
        plan_run(load_recipe(None, base))
    with pytest.raises(ConfigError, match="cannot import"):
        plan_run(load_recipe(None, [*base, "rewards=[{type: 'nope.mod:fn'}]"]))


def test_every_bundled_recipe_passes_dry_run():
    """Demo recipes and the 7B GPU recipes (sized from the catalog) plan without loading weights."""
    for path in sorted(RECIPES.glob("*.yaml")):
        if path.stem == "ppo-demo":  # needs the rm-demo run and TRL 1.12: covered in test_train_cli
            continue
        plan = plan_run(load_recipe(path))
        assert plan.records and plan.estimate.total > 0, path
        if "7b" in path.stem:
            assert any("not downloaded" in n for n in plan.notes)


# --- data shaping --------------------------------------------------------------------------------

def test_sft_masks_prompt_and_weight_zero_turns(tiny):
    from transformers import AutoTokenizer

    from llm_practice.data.records import Record, Turn
    from llm_practice.train.data import sft_example

    tok = AutoTokenizer.from_pretrained(tiny)
    rec = Record(turns=[Turn("user", "Q1"), Turn("assistant", "SKIPPED ANSWER", 0.0), Turn("user", "Q2"),
                        Turn("assistant", "TRAINED ANSWER")], system="SYSTEM PROMPT")
    ex = sft_example(tok, rec, 512)
    trained = tok.decode([i for i, m in zip(ex["input_ids"], ex["assistant_masks"]) if m])
    assert "TRAINED ANSWER" in trained
    for text in ("SKIPPED", "SYSTEM", "Q1", "Q2", "user"):
        assert text not in trained


def test_ranked_lists_give_all_pairs_and_skip_ties(tmp_path):
    from llm_practice.train.data import build_dataset, read_stage_records

    path = write(tmp_path / "rm.jsonl",
                 json.dumps([{"prompt": "p", "response": [["a"], ["b"], ["c"], ["d"]], "score": [3, 2, 2, 1]}]) + "\n")
    records, extras, _ = read_stage_records(path, "rm")
    rows = build_dataset("rm", records, extras).to_list()
    pairs = {(r["chosen"][-1]["content"], r["rejected"][-1]["content"]) for r in rows}
    assert pairs == {("a", "b"), ("a", "c"), ("a", "d"), ("b", "d"), ("c", "d")}  # b/c tie: not paired


def test_builtin_rewards():
    from llm_practice.train.rewards import RewardSpec, reward_function

    keyword = reward_function(RewardSpec(type="keyword", column="answer"))
    done = [[{"role": "assistant", "content": "It is Velmarra."}], [{"role": "assistant", "content": "Paris"}]]
    assert keyword(None, done, answer=["Velmarra", "Velmarra"]) == [1.0, 0.0]
    assert reward_function(RewardSpec(type="regex", pattern=r"\.$"))(None, done) == [1.0, 0.0]
    length = reward_function(RewardSpec(type="length", target=3))(None, done)
    assert length[0] == 1.0 and length[1] < 1.0


# --- every stage trains --------------------------------------------------------------------------

STAGE_DATA = {"pt": ("pt_en.jsonl", "full"), "sft": ("sft_en.jsonl", "lora"), "rm": ("rm_en.jsonl", "full"),
              "dpo": ("dpo_en.jsonl", "lora"), "kto": ("dpo_en.jsonl", "freeze"),
              "grpo": ("rl_en.jsonl", "lora"), "rloo": ("rl_en.jsonl", "full")}


@pytest.mark.parametrize("stage", list(STAGE_DATA))
def test_stage_trains_a_few_steps(stage, tiny, llmp_home):
    data, tuning = STAGE_DATA[stage]
    overrides = [f"stage={stage}", f"data={DATA / data}", f"model={tiny}", "max_steps=2", f"finetuning={tuning}",
                 "per_device_train_batch_size=2", "max_length=64", f"name={stage}-tiny", "save_steps=1",
                 "freeze_trainable_layers=1"]
    if stage in ("grpo", "rloo"):
        overrides += ["rewards=[{type: keyword, column: answer}, {type: length, target: 5}]",
                      "num_generations=2", "max_completion_length=8"]
    events = []
    metrics = train(plan_run(load_recipe(None, overrides)), progress=events.append)
    run = llmp_home / "runs" / f"{stage}-tiny"
    info = assert_trained(run, tiny)
    assert math.isfinite(metrics["final_loss"]) and info["steps"] == 2
    assert events[-1]["step"] == 2 and events[-1]["max_steps"] == 2  # the progress bar's feed
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2]
    assert (run / "loss.png").stat().st_size > 1000 and (run / "recipe.yaml").is_file()
    assert f"stage: **{stage}**" in (run / "README.md").read_text()
    assert list((run / "checkpoints").glob("checkpoint-2"))
    if stage == "pt":
        assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    if stage == "rm":  # the held-out check of a reward model: every ordered pair of the 24 rankings scored
        from llm_practice.train.rm import pair_accuracy

        held_out = pair_accuracy(str(run), DATA / "rm_heldout_en.jsonl")
        assert held_out["pairs"] == 72 and held_out["accuracy"] == held_out["correct"] / 72


def test_a_lora_run_is_a_chat_model(tiny, llmp_home, monkeypatch):
    """`llmp chat runs/NAME`: the registry resolves the run to base + adapter; transformers loads it."""
    from llm_practice.chat.engine import GenerationParams, load_engine
    from llm_practice.models.registry import get_model

    import torch

    from llm_practice.settings import get_settings

    before = torch.get_num_threads()
    monkeypatch.setenv("LLMP_THREADS", "1")  # training honours it as chat and serve do
    get_settings.cache_clear()
    try:
        train(plan_run(load_recipe(None, ["stage=sft", f"data={DATA / 'sft_en.jsonl'}", f"model={tiny}",
                                          "max_steps=1", "name=chat-me", "max_length=64"])))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert json.loads((llmp_home / "runs" / "chat-me" / "run.json").read_text())["threads"] == 1
    info = get_model("runs/chat-me")
    assert info.adapter == llmp_home / "runs" / "chat-me" / "final" and info.path == tiny.resolve()
    engine = load_engine(info)
    assert engine.name == "transformers"
    text = engine.chat([{"role": "user", "content": "hi"}], GenerationParams(max_tokens=3, temperature=0)).text()
    assert isinstance(text, str)
    # a run can start the next one: chain sft -> dpo from the adapter run
    plan = plan_run(load_recipe(None, ["stage=dpo", f"data={DATA / 'dpo_en.jsonl'}", "model=runs/chat-me"]))
    assert plan.model.adapter == info.adapter
