"""Training really learns, on the real bundled model (SmolLM2-135M-Instruct, dequantised once).

- SFT: held-out paraphrases of six invented facts (examples/data/sft_facts_probe_en.jsonl) are
  answered correctly after `recipes/sft-full-demo.yaml`, and not before.
- RM: a reward model trained on 30 ranked records orders the pairs of 6 held-out records better
  than chance.
"""

from __future__ import annotations

import json

import pytest

from llm_practice.train import load_recipe, plan_run, train

from .train_helpers import DATA, RECIPES

pytestmark = pytest.mark.integration


def _answers(model_name: str, questions: list[str]) -> list[str]:
    from llm_practice.chat.engine import GenerationParams, load_engine
    from llm_practice.models.registry import get_model

    engine = load_engine(get_model(model_name), "transformers")
    params = GenerationParams(max_tokens=24, temperature=0)
    return [engine.chat([{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": q}], params).text() for q in questions]


def test_sft_learns_the_demo_facts(llmp_home):
    probes = [json.loads(line) for line in (DATA / "sft_facts_probe_en.jsonl").read_text().splitlines()]
    questions = [p["prompt"] for p in probes]

    def correct(answers):
        return sum(p["answer"].lower() in a.lower() for p, a in zip(probes, answers))

    before = correct(_answers("smollm2-135m-instruct", questions))
    train(plan_run(load_recipe(RECIPES / "sft-full-demo.yaml")))
    after_answers = _answers("runs/sft-full-demo", questions)
    after = correct(after_answers)
    assert before == 0
    assert after >= 4, list(zip(questions, after_answers))


def test_reward_model_ranks_held_out_pairs_better_than_chance(llmp_home, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from llm_practice.train.data import messages, read_stage_records
    from llm_practice.data.records import ranked_pairs

    lines = (DATA / "rm_en.jsonl").read_text().splitlines()
    (tmp_path / "train.jsonl").write_text("\n".join(lines[:30]) + "\n")
    (tmp_path / "held.jsonl").write_text("\n".join(lines[30:]) + "\n")
    train(plan_run(load_recipe(RECIPES / "rm-demo.yaml", [f"data={tmp_path / 'train.jsonl'}"])))
    final = llmp_home / "runs" / "rm-demo" / "final"
    tok = AutoTokenizer.from_pretrained(final)
    model = AutoModelForSequenceClassification.from_pretrained(final).eval()
    records, _, _ = read_stage_records(tmp_path / "held.jsonl", "rm")
    right = total = 0
    with torch.inference_mode():
        for rec in records:
            for chosen, rejected in ranked_pairs(rec.answers, rec.scores)[0]:
                scores = []
                for answer in (chosen, rejected):
                    text = tok.apply_chat_template(messages(rec) + [{"role": "assistant", "content": answer}],
                                                   tokenize=False)
                    scores.append(model(**tok(text, return_tensors="pt")).logits[0, 0].item())
                right += scores[0] > scores[1]
                total += 1
    assert total == 18
    assert right / total > 0.6, (right, total)
