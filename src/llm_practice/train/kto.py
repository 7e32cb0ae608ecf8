"""KTO: preference tuning from answers labelled good or bad, no pairs needed.

    llmp train recipes/kto-demo.yaml

Unpaired records (`label` true/false) train as they are; ranked records give their chosen answers
as good and their rejected answers as bad.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .recipe import Recipe
from .session import RunContext, run_pair_stage


class KtoRecipe(Recipe):
    pairs: Literal["all", "adjacent"] = Field("all", description="which pairs a ranked list gives")


def run_kto(recipe: KtoRecipe, ctx: RunContext | None = None) -> dict:
    return run_pair_stage(recipe, ctx, "kto", "KTOConfig", "KTOTrainer")
