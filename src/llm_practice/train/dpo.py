"""Direct preference optimisation on (prompt, chosen, rejected): no reward model, no sampling.

    llmp train recipes/dpo-demo.yaml loss_type=ipo

`loss_type` is TRL's (sigmoid, ipo, hinge, ... as the installed TRL lists them) and passes
through; ranked lists of three or more answers give every ordered pair. With LoRA the frozen
base is the reference model (no second copy); with full tuning TRL keeps a reference copy.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .recipe import Recipe
from .session import RunContext, run_pair_stage


class DpoRecipe(Recipe):
    pairs: Literal["all", "adjacent"] = Field("all", description="which pairs a ranked list gives")


def run_dpo(recipe: DpoRecipe, ctx: RunContext | None = None) -> dict:
    return run_pair_stage(recipe, ctx, "dpo", "DPOConfig", "DPOTrainer")
