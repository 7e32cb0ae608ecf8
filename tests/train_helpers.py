"""Shared pieces of the training tests: a tiny Llama built from a config with the bundled tokenizer."""

from __future__ import annotations

import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
RECIPES = ROOT / "recipes"


def bundled_folder() -> Path:
    """The bundled GGUF dequantised to an HF folder (cached for the test session in LLMP_CACHE)."""
    from llm_practice.chat.hf import dequantized_folder
    from llm_practice.models.registry import get_model

    return dequantized_folder(get_model("smollm2-135m-instruct").path)


def build_tiny_model(out: Path) -> Path:
    """A 2-layer Llama (hidden 32) with SmolLM2's real tokenizer and chat template: fast to train."""
    from transformers import AutoTokenizer

    from llm_practice.models.bundled import bundled_gguf_path
    from llm_practice.models.tiny import tiny_llama

    gguf = bundled_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    return tiny_llama(out, tokenizer, hidden_size=32, intermediate_size=64)


def tensors(folder: Path, name: str) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / name))


def assert_trained(run: Path, base: Path) -> dict:
    """run.json says finished with a finite loss, and the trainable weights moved."""
    import json

    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished", info
    loss = info["metrics"]["final_loss"]
    assert math.isfinite(loss), info["metrics"]
    final = run / "final"
    if info["kind"] == "adapter":
        weights = tensors(final, "adapter_model.safetensors")
        lora_b = [t for k, t in weights.items() if "lora_B" in k]
        assert lora_b and any(t.abs().sum() > 0 for t in lora_b), "LoRA B matrices are still zero"
    else:
        before, after = tensors(base, "model.safetensors"), tensors(final, "model.safetensors")
        shared = [k for k in after if k in before and after[k].shape == before[k].shape]
        assert shared
        assert any(not after[k].equal(before[k]) for k in shared), "no weight changed"
    return info
