"""Direct preference optimisation on (prompt, chosen, rejected): no reward model, no sampling.

    llmp train recipes/dpo-demo.yaml loss_type=ipo

`loss_type` is TRL's (sigmoid, ipo, hinge, ... as the installed TRL lists them) and passes
through; ranked lists of three or more answers give every ordered pair. With LoRA the frozen
base is the reference model (no second copy); with full tuning TRL keeps a reference copy.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .data import build_dataset, ensure_chat_template
from .recipe import Recipe
from .session import RunContext, context_for


class DpoRecipe(Recipe):
    pairs: Literal["all", "adjacent"] = Field("all", description="which pairs a ranked list gives")


def run_dpo(recipe: DpoRecipe, ctx: RunContext | None = None) -> dict:
    from trl import DPOConfig, DPOTrainer

    ctx = context_for(recipe, ctx)
    model, tokenizer, peft_config = ctx.load_model()
    ensure_chat_template(tokenizer)
    dataset = build_dataset("dpo", ctx.plan.records, ctx.plan.extras, pairs=recipe.pairs)
    args = ctx.trl_args(DPOConfig)
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config, callbacks=ctx.callbacks())
    return ctx.finish(trainer, tokenizer)
