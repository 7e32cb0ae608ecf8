"""KTO: preference tuning from answers labelled good or bad, no pairs needed.

    llmp train recipes/kto-demo.yaml

Unpaired records (`label` true/false) train as they are; ranked records give their chosen answers
as good and their rejected answers as bad.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .data import build_dataset, ensure_chat_template
from .recipe import Recipe
from .session import RunContext, context_for


class KtoRecipe(Recipe):
    pairs: Literal["all", "adjacent"] = Field("all", description="which pairs a ranked list gives")


def run_kto(recipe: KtoRecipe, ctx: RunContext | None = None) -> dict:
    from trl import KTOConfig, KTOTrainer

    ctx = context_for(recipe, ctx)
    model, tokenizer, peft_config = ctx.load_model()
    ensure_chat_template(tokenizer)
    dataset = build_dataset("kto", ctx.plan.records, ctx.plan.extras, pairs=recipe.pairs)
    args = ctx.trl_args(KTOConfig)
    trainer = KTOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config, callbacks=ctx.callbacks())
    return ctx.finish(trainer, tokenizer)
