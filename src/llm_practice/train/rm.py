"""Reward model: a score head trained with the Bradley-Terry loss on ranked answers.

    llmp train recipes/rm-demo.yaml

A record ranks any number of answers best first (or by `score`); every strictly ordered pair
becomes a (chosen, rejected) example (`pairs: adjacent` keeps neighbours only) and answers with
equal scores are never paired. TRL's `RewardTrainer` trains `AutoModelForSequenceClassification`
with one label; the run is the `reward_model:` of a grpo/rloo/ppo recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from .data import build_dataset, ensure_chat_template
from .recipe import Recipe
from .session import RunContext, run_pair_stage


class RmRecipe(Recipe):
    pairs: Literal["all", "adjacent"] = Field("all", description="which pairs a ranked list gives")


def run_rm(recipe: RmRecipe, ctx: RunContext | None = None) -> dict:
    return run_pair_stage(recipe, ctx, "rm", "RewardConfig", "RewardTrainer", head="score")


def pair_accuracy(model: str, data: str | Path, pairs: str = "all") -> dict:
    """How often a reward model (`runs/NAME`, an rm run's folder) scores the better answer of a
    ranked pair higher, on any ranked data `llmp data` reads (e.g. held-out pairs)."""
    import torch

    from ..settings import get_settings
    from .data import read_stage_records
    from .rewards import load_reward_model

    if get_settings().threads:  # LLMP_THREADS, as the chat engines and the scorer honour it
        torch.set_num_threads(get_settings().threads)

    records, extras, _ = read_stage_records(Path(data), "rm")
    rows = build_dataset("rm", records, extras, pairs=pairs)
    scorer, tokenizer = load_reward_model(model, torch.float32)
    ensure_chat_template(tokenizer)

    texts = [tokenizer.apply_chat_template(c, tokenize=False) for c in [*rows["chosen"], *rows["rejected"]]]
    # a ranked list's answers sit in several pairs: score each once, similar lengths batched together
    unique = sorted(set(texts), key=lambda t: (len(t), t))
    tokenizer.padding_side = "right"  # right-padded batches score as single sequences do
    score: dict[str, float] = {}
    for i in range(0, len(unique), 8):
        batch = tokenizer(unique[i:i + 8], add_special_tokens=False, padding=True, return_tensors="pt")
        with torch.no_grad():
            score.update(zip(unique[i:i + 8], scorer(**batch).logits[:, 0].tolist()))
    chosen, rejected = [score[t] for t in texts[:len(rows)]], [score[t] for t in texts[len(rows):]]
    right = sum(c > r for c, r in zip(chosen, rejected))
    return {"pairs": len(rows), "correct": right, "accuracy": right / len(rows)}
