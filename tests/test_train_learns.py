"""The demo recipes really teach the bundled SmolLM2-135M-Instruct (not a tiny model):

- recipes/sft-lora-demo.yaml: questions about the invented facts, phrased unlike any training
  question (examples/data/sft_facts_probe_en.jsonl), are answered right after training and not
  before (greedy, the transformers engine as `llmp chat --engine transformers`, the fact's key
  word in the answer);
- recipes/rm-demo.yaml: the reward model (freeze: the last 2 blocks and the score head, 1 epoch)
  ranks held-out pairs (the questions' other phrasings, examples/data/rm_heldout_en.jsonl, never
  trained on) far better than chance, after its training loss fell below chance's ln 2.

Both demos are trained by the commands the tutorial shows (chapter 6: `llmp train
recipes/sft-lora-demo.yaml`, chapter 8: `llmp train recipes/rm-demo.yaml`), through the session's
shared-command cache (tests/shared_commands.py): the suite trains each once for this test and both
tutorial pages (about 140 s and 160 s of CPU time).
"""

from __future__ import annotations

import json

import pytest

from .shared_commands import RM_DEMO, SFT_DEMO, learner_env, make_workspace
from .train_helpers import DATA

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """The test machine is shared: one torch thread is steadier than two."""
    monkeypatch.setenv("LLMP_THREADS", "1")
    from llm_practice.settings import get_settings

    get_settings.cache_clear()


def answers(model: str, engine: str | None, questions: list[str]) -> list[str]:
    from llm_practice.chat.engine import GenerationParams, load_engine
    from llm_practice.models.registry import get_model

    chat = load_engine(get_model(model), engine)
    params = GenerationParams(temperature=0, max_tokens=16)
    return [chat.chat([{"role": "user", "content": q}], params).text() for q in questions]


@pytest.mark.timeout(1800)  # minutes on 2 shared cores
def test_sft_demo_answers_held_out_questions_it_could_not_before(llmp_home, shared_cache, shared_commands):
    probes = [json.loads(line) for line in (DATA / "sft_facts_probe_en.jsonl").read_text().splitlines()]
    trained = {json.loads(line)["messages"][1]["content"] for line in (DATA / "sft_facts_en.jsonl").read_text().splitlines()}
    questions = [p["prompt"] for p in probes]
    assert not set(questions) & trained  # held out: no probe is a training question
    before = answers("smollm2-135m-instruct", "transformers", questions)
    assert sum(p["answer"].lower() in a.lower() for p, a in zip(probes, before)) == 0, before

    work = make_workspace(llmp_home.parent)  # LLMP_HOME is work/llmp-home, as on the tutorial pages
    trained_run = shared_commands.run(SFT_DEMO, work, learner_env("en", work, shared_cache))
    assert trained_run.returncode == 0, trained_run.output[-3000:]
    after = answers("runs/sft-lora-demo", None, questions)
    wrong = [(q, a) for q, p, a in zip(questions, probes, after) if p["answer"].lower() not in a.lower()]
    assert not wrong, wrong


@pytest.mark.timeout(1800)
def test_reward_demo_ranks_held_out_pairs_better_than_chance(llmp_home, shared_cache, shared_commands):
    from llm_practice.train.rm import pair_accuracy

    def prompts(name: str) -> set[str]:
        return {json.loads(line)[0]["prompt"] for line in (DATA / name).read_text().splitlines()}

    assert not prompts("rm_heldout_en.jsonl") & prompts("rm_en.jsonl")  # held out: no question was trained on
    work = make_workspace(llmp_home.parent)  # LLMP_HOME is work/llmp-home, as on the tutorial pages
    trained_run = shared_commands.run(RM_DEMO, work, learner_env("en", work, shared_cache))
    assert trained_run.returncode == 0, trained_run.output[-3000:]
    logged = [json.loads(line) for line in (llmp_home / "runs/rm-demo/metrics.jsonl").read_text().splitlines()]
    losses = [row["loss"] for row in logged if "loss" in row]
    # a pair the model cannot tell apart costs ln 2 = 0.69; the last steps must do clearly better
    assert len(losses) == 14 and sum(losses[-4:]) / 4 < 0.6, losses
    held_out = pair_accuracy("runs/rm-demo", DATA / "rm_heldout_en.jsonl")
    # 72 pairs; a coin reaches 54 right (0.75) with probability < 3e-5
    assert held_out["pairs"] == 72 and held_out["accuracy"] >= 0.75, held_out
