"""Supervised fine-tuning on conversations: the loss covers the answers only.

    llmp train recipes/sft-lora-demo.yaml max_steps=20

Each conversation is tokenized with the model's own chat template; `assistant_masks` is 1 on the
tokens of answers with `weight > 0` (system prompt, user turns, role headers and `weight: 0`
answers never train). TRL's `SFTTrainer` turns the mask into -100 labels, and packs or goes
padding-free when the recipe says `packing: true` / `padding_free: true` (attention then stays
within each document, see attention.py). Ranked data trains on
its best answer.
"""

from __future__ import annotations

from .attention import flattens_batches, use_document_attention
from .data import build_dataset, ensure_chat_template
from .recipe import Recipe
from .session import RunContext, context_for


class SftRecipe(Recipe):
    pass


def run_sft(recipe: SftRecipe, ctx: RunContext | None = None) -> dict:
    from trl import SFTConfig, SFTTrainer

    ctx = context_for(recipe, ctx)
    model, tokenizer, peft_config = ctx.load_model()
    ensure_chat_template(tokenizer)
    dataset = build_dataset("sft", ctx.plan.records, ctx.plan.extras, tokenizer, recipe.max_length)
    args = ctx.trl_args(SFTConfig)
    if args.padding_free and not args.packing:
        args.max_length = None  # the examples are cut to max_length above; TRL refuses to trust that
    if flattens_batches(args):
        use_document_attention(model)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config, callbacks=ctx.callbacks())
    return ctx.finish(trainer, tokenizer)
