"""Merge a LoRA run into its base model (PEFT `merge_and_unload`) and save an HF folder.

The merged weights are saved as sharded safetensors (`max_shard_size`) with the tokenizer and
generation config, in the base model's dtype, so the folder loads anywhere transformers does and
converts to GGUF. A full or freeze run already holds a complete model folder in `final/`: it is
copied as it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..chat.hf import quiet_transformers
from ..models.runs import RunInfo


def merge_run(run: RunInfo, out: Path, max_shard_size: str = "2GB", dtype: str | None = None) -> Path:
    """Write the merged model into `out` (an empty or new folder) and return it."""
    out.mkdir(parents=True, exist_ok=True)
    if run.kind != "adapter":
        for item in run.final.iterdir():
            if item.is_file():
                shutil.copy2(item, out / item.name)
        return out
    with quiet_transformers():
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        base = AutoModelForCausalLM.from_pretrained(run.base_path, dtype=getattr(torch, dtype) if dtype else "auto")
        merged = PeftModel.from_pretrained(base, str(run.final)).merge_and_unload()
        merged.save_pretrained(out, max_shard_size=max_shard_size, safe_serialization=True)
        # the tokenizer saved with the adapter carries any chat template the run set
        source = run.final if (run.final / "tokenizer_config.json").is_file() else run.base_path
        AutoTokenizer.from_pretrained(source).save_pretrained(out)
    return out
