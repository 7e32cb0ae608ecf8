"""A tiny Llama built from a config, with a real tokenizer: weights to exercise the training, evaluation
and export code in seconds, without a hub (tests, benchmarks' --tiny modes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_llama(out: Path, tokenizer: Any, *, hidden_size: int = 64, intermediate_size: int = 128,
               max_positions: int = 512, seed: int = 0) -> Path:
    """Save a 2-layer Llama (random weights from ``seed``) and ``tokenizer`` (a tokenizer or a folder to
    load one from, chat template included) into ``out``; llama.cpp's converter accepts it."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if isinstance(tokenizer, (str, Path)):
        tokenizer = AutoTokenizer.from_pretrained(tokenizer)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=intermediate_size,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=max_positions, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return Path(out)
