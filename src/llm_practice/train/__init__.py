"""Training: pt, sft, rm, dpo, kto, grpo, rloo and ppo on TRL + PEFT + accelerate, one recipe per run.

    >>> from llm_practice.train import load_recipe, plan_run, train
    >>> plan = plan_run(load_recipe("recipes/sft-lora-demo.yaml", ["max_steps=5"]))
    >>> train(plan)

`recipe.py` (keys, overrides, the stage table), `session.py` (checks before weights load, the run),
one file per stage, `run.py` (the run folder contract), `rewards.py`, `launch.py` (--nproc).
"""

from .recipe import STAGES, Recipe, load_recipe
from .session import Plan, plan_run, train

__all__ = ["STAGES", "Plan", "Recipe", "load_recipe", "plan_run", "train"]
