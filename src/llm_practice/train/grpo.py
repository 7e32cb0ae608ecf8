"""GRPO: sample a group of answers per prompt, reward them, push towards the better ones.

    llmp train recipes/grpo-demo.yaml num_generations=4

Needs prompts only. Rewards come from `reward_model: runs/RM` (an rm run) and/or `rewards:`
functions (see `rewards.py`); TRL's `GRPOTrainer` weighs and sums them.
"""

from __future__ import annotations

from pydantic import Field

from .data import build_dataset, ensure_chat_template
from .recipe import Recipe
from .rewards import RewardSpec, reward_functions
from .session import RunContext, context_for


class RlRecipe(Recipe):
    reward_model: str | None = Field(None, description="runs/NAME of an rm run (or a reward-model folder)")
    reward_model_weight: float = 1.0
    rewards: list[RewardSpec] = Field(default_factory=list, description="reward functions")


class GrpoRecipe(RlRecipe):
    pass


# Small defaults so a CPU demo samples short answers; a recipe's own values win.
RL_DEFAULTS = {"max_completion_length": 48, "num_generations": 4, "per_device_train_batch_size": 4,
               "generation_batch_size": None, "temperature": 1.0, "beta": 0.0}


def rl_trainer(trainer_cls, config_cls, recipe, ctx):
    from .model import torch_dtype

    model, tokenizer, peft_config = ctx.load_model()
    ensure_chat_template(tokenizer)
    dataset = build_dataset(recipe.stage, ctx.plan.records, ctx.plan.extras)
    funcs, classes, weights = reward_functions(recipe, torch_dtype(recipe.dtype))
    args = ctx.trl_args(config_cls, **{k: v for k, v in RL_DEFAULTS.items() if v is not None},
                        reward_weights=weights)
    trainer = trainer_cls(model=model, reward_funcs=funcs, args=args, train_dataset=dataset,
                          processing_class=tokenizer, reward_processing_classes=classes,
                          peft_config=peft_config, callbacks=ctx.callbacks())
    return trainer, tokenizer


def run_grpo(recipe: GrpoRecipe, ctx: RunContext | None = None) -> dict:
    from trl import GRPOConfig, GRPOTrainer

    ctx = context_for(recipe, ctx)
    trainer, tokenizer = rl_trainer(GRPOTrainer, GRPOConfig, recipe, ctx)
    return ctx.finish(trainer, tokenizer)
