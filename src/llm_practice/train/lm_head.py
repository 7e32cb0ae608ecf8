"""TRL's fused LM head on CPU: score only the positions that train, in small vocabulary tiles.

TRL 1.16 computes the loss with a fused LM head (`trl.trainer.utils.add_fused_lm_head`) that
projects hidden states onto the vocabulary tile by tile. On Triton devices it scores only the
positions whose label is not -100; elsewhere it scores every position (a changing number of
positions would recompile kernels on devices such as Neuron) and masks the result. On CPU there
is nothing to recompile, and the masked positions are most of a batch: SFT masks the prompt
(and padding), so scoring them is pure waste. It also tiles the vocabulary 32,768 columns wide,
and its CPU path keeps several fp32 copies of a tile (exp, probabilities, gradient): for a packed
batch of 2,048 positions that is over 2 GB at the peak.

`compact_cpu_lm_head()` makes the head score only trained positions on CPU too and narrows the
tiles to 4,096 columns. Same loss and gradients; on one thread, 2,048 positions of which 45%
train: 10.6 -> 3.5 CPU-s per forward+backward, 2.2 GB -> 0.34 GB of extra peak memory
(docs/benchmarks.md `## train`).
"""

from __future__ import annotations

CPU_TILE_COLUMNS = 4096


def compact_cpu_lm_head() -> bool:
    """Patch TRL's fused LM head for CPU training (idempotent); False when TRL has no such head."""
    try:
        import trl.trainer.utils as trl_utils
        from trl.kernels.chunked_logprob import _use_triton
    except ImportError:
        return False
    if not hasattr(trl_utils, "_use_triton") or not hasattr(trl_utils, "_CHUNKED_LOGPROB_CHUNK_SIZE"):
        return False
    if getattr(trl_utils._use_triton, "llmp_compact", False):
        return True

    def compact_here(device) -> bool:
        # `add_fused_lm_head` asks this only to decide whether to score trained positions alone;
        # the kernels themselves ask their own module's `_use_triton`, so CPU keeps its torch path.
        return device.type == "cpu" or _use_triton(device)

    compact_here.llmp_compact = True
    trl_utils._use_triton = compact_here
    trl_utils._CHUNKED_LOGPROB_CHUNK_SIZE = min(trl_utils._CHUNKED_LOGPROB_CHUNK_SIZE, CPU_TILE_COLUMNS)
    return True
