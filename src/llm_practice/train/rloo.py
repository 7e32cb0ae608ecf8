"""RLOO: REINFORCE with a leave-one-out baseline over each prompt's sampled answers.

    llmp train recipes/rloo-demo.yaml

Same inputs as grpo (prompts, a reward model and/or reward functions); TRL's `RLOOTrainer`.
"""

from __future__ import annotations

from .grpo import RlRecipe, rl_trainer
from .session import RunContext, context_for


class RlooRecipe(RlRecipe):
    pass


def run_rloo(recipe: RlooRecipe, ctx: RunContext | None = None) -> dict:
    from trl import RLOOConfig, RLOOTrainer

    ctx = context_for(recipe, ctx)
    trainer, tokenizer = rl_trainer(RLOOTrainer, RLOOConfig, recipe, ctx)
    return ctx.finish(trainer, tokenizer)
