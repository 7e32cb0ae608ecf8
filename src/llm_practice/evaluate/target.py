"""What `llmp eval MODEL` evaluates: a registered model, a GGUF file, an HF folder, or a run.

Scoring by log-likelihood needs logits, so every model is scored through transformers: a GGUF
file through its dequantised safetensors copy (the same cache the transformers chat engine
uses), a LoRA run as its base folder plus the PEFT adapter. Generated answers (`--task qa`) go
through the `ChatEngine` the model would chat with.

`fingerprint` names the exact weights (path, sizes and mtimes of the weight files, adapter),
so cached results are never reused for another model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelNotFoundError
from ..models.registry import ModelInfo, detect_format, get_model
from ..models.runs import RunInfo, load_run, run_folder


@dataclass(frozen=True)
class EvalModel:
    label: str  # what the user typed, shown in reports
    info: ModelInfo  # what a ChatEngine loads (the base model for a LoRA run)
    adapter: Path | None = None
    run: RunInfo | None = None

    def hf_folder(self) -> Path:
        """The Hugging Face folder whose weights are scored (created once for a GGUF file)."""
        if self.info.format == "gguf":
            from ..chat.hf import dequantized_folder

            return dequantized_folder(self.info.path)
        return self.info.path

    @property
    def fingerprint(self) -> str:
        parts = [self.info.format, str(self.info.path), *_stats(self.info.path)]
        if self.adapter is not None:
            parts += ["adapter", str(self.adapter), *_stats(self.adapter)]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:20]


def _stats(path: Path) -> list[str]:
    files = [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.suffix in (".safetensors", ".bin", ".json", ".gguf"))
    return [f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files]


def resolve_model(spec: str) -> EvalModel:
    """A registered name or alias, a run name or folder, a .gguf file or an HF folder."""
    try:
        return EvalModel(spec, get_model(spec))
    except ModelNotFoundError as missing:
        if run_folder(spec) is not None:
            return _from_run(spec)
        path = Path(spec).expanduser()
        if path.exists():
            fmt = detect_format(path.resolve())
            name = path.stem if fmt == "gguf" else path.name
            return EvalModel(spec, ModelInfo(name=name, path=path.resolve(), format=fmt, source="path"))
        raise missing


def _from_run(spec: str) -> EvalModel:
    run = load_run(spec)
    if run.kind == "adapter":
        base = ModelInfo(name=run.base_model or run.model_folder.name, path=run.model_folder,
                         format="hf", source=f"run:{run.name}")
        return EvalModel(spec, base, adapter=run.adapter, run=run)
    info = ModelInfo(name=run.name, path=run.final, format="hf", source=f"run:{run.name}")
    return EvalModel(spec, info, run=run)
