"""Post-pretraining (continued pretraining): next-token loss on every token of plain domain text.

    llmp train recipes/pt-demo.yaml

Runs TRL's `SFTTrainer` on `{"text"}` records (TRL's language-modeling type); `packing: true`
packs documents into full `max_length` rows.
"""

from __future__ import annotations

from .attention import flattens_batches, use_document_attention
from .data import build_dataset
from .recipe import Recipe
from .session import RunContext, context_for


class PtRecipe(Recipe):
    pass


def run_pt(recipe: PtRecipe, ctx: RunContext | None = None) -> dict:
    from trl import SFTConfig, SFTTrainer

    ctx = context_for(recipe, ctx)
    model, tokenizer, peft_config = ctx.load_model()
    dataset = build_dataset("pt", ctx.plan.records, ctx.plan.extras)
    args = ctx.trl_args(SFTConfig, dataset_text_field="text", completion_only_loss=False)
    if flattens_batches(args):
        use_document_attention(model)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config, callbacks=ctx.callbacks())
    return ctx.finish(trainer, tokenizer)
