"""Packed and padding-free batches without flash-attention: attention one document at a time.

TRL's packing (BFD) and `padding_free` flatten a batch into one row of many documents and pass
their boundaries (`cu_seq_lens_q`) and per-document `position_ids`. FlashAttention's varlen
kernel uses the boundaries; without it (any CPU, or a GPU without flash-attn) transformers'
`sdpa` path builds a block-diagonal mask over the whole row and attends every token to every
token of the row, masked: for 8 packed rows of 256 tokens that is a 2048 x 2048 attention per
head and layer instead of a few 100 x 100 ones, which made packing slower per token than
padding (docs/benchmarks.md `## train`).

`use_document_attention(model)` registers `llmp_sdpa_varlen`: when the boundaries are there it
runs causal SDPA on each document's slice (the same result, exactly the cost of unpacked
documents); any other call (ordinary padded batches, generation) goes to transformers' own SDPA
with its own mask, so the model stays correct everywhere.
"""

from __future__ import annotations

NAME = "llmp_sdpa_varlen"


def document_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None,
                       cu_seq_lens_q=None, cu_seq_lens_k=None, **kwargs):
    """transformers' attention-function signature; query/key/value are (batch, heads, tokens, dim)."""
    import torch
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    if cu_seq_lens_q is None or query.shape[0] != 1 or query.shape[2] != key.shape[2]:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    groups = getattr(module, "num_key_value_groups", 1)
    key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    lengths = cu_seq_lens_q.diff().tolist()
    dropout = dropout if module.training else 0.0
    parts = [torch.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=dropout, scale=scaling, is_causal=True)
             for q, k, v in zip(query.split(lengths, 2), key.split(lengths, 2), value.split(lengths, 2))]
    return torch.cat(parts, dim=2).transpose(1, 2).contiguous(), None


def use_document_attention(model) -> bool:
    """Switch a model on SDPA to per-document attention; False (unchanged) for any other attention."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

    if getattr(model.config, "_attn_implementation", None) not in ("sdpa", NAME):
        return False
    AttentionInterface.register(NAME, document_attention)
    AttentionMaskInterface.register(NAME, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])
    model.set_attn_implementation(NAME)
    return True


def flattens_batches(args) -> bool:
    """Whether TRL's SFTTrainer will flatten each batch into one row (its own rule)."""
    return bool(args.padding_free or (args.packing and args.packing_strategy in ("bfd", "bfd_split")))
