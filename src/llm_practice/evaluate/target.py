"""What `llmp eval MODEL` evaluates: a registered model, a GGUF file, an HF folder, or a run.

Scoring by log-likelihood needs logits, so every model is scored through transformers: a GGUF
file through its dequantised safetensors copy (the same cache the transformers chat engine
uses), a LoRA run as its base folder plus the PEFT adapter. Generated answers (`--task qa`) go
through the `ChatEngine` the model would chat with, or through an OpenAI-compatible endpoint
(`remote_target`: `llmp serve`, vLLM, Ollama, a cloud API), which serves text but no logits.

`fingerprint` names the exact weights (path, sizes and mtimes of the weight files, adapter),
so cached results are never reused for another model; for an endpoint it names the URL and the
model name (weights changed behind the same name are not seen: use --no-cache).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ModelNotFoundError
from ..models.registry import ModelInfo, detect_format, get_model, remote_model
from ..models.runs import RunInfo, load_run, run_folder


@dataclass(frozen=True)
class EvalModel:
    label: str  # what the user typed, shown in reports
    info: ModelInfo  # what a ChatEngine loads (the base model for a LoRA run)
    adapter: Path | None = None
    run: RunInfo | None = None
    api_key: str | None = None  # for an endpoint

    def hf_folder(self) -> Path:
        """The Hugging Face folder whose weights are scored (created once for a GGUF file)."""
        if self.info.format == "remote":
            raise ConfigError("--base-url", f"{self.label} is served at {self.info.url}, which answers with "
                              "text but no log-likelihoods, and --task ppl and mcq score log-likelihoods.",
                              "Use --task qa with --base-url, or evaluate the local model (drop --base-url).")
        if self.info.format == "gguf":
            from ..chat.hf import dequantized_folder

            return dequantized_folder(self.info.path)
        return self.info.path

    @property
    def fingerprint(self) -> str:
        if self.info.format == "remote":
            parts = ["remote", self.info.url, self.info.name]
            return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:20]
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


def remote_target(spec: str, base_url: str, api_key: str | None = None) -> EvalModel:
    """MODEL as the endpoint at `base_url` serves it; checked now (the server lists its models)."""
    from ..chat.remote import connect

    engine = connect(base_url, spec or None, api_key)
    return EvalModel(f"{engine.model.name} @ {engine.base_url}", remote_model(engine.base_url, engine.model.name),
                     api_key=api_key)


def _from_run(spec: str) -> EvalModel:
    run = load_run(spec)
    if run.kind == "adapter":
        base = ModelInfo(name=run.base_model or run.model_folder.name, path=run.model_folder,
                         format="hf", source=f"run:{run.name}")
        return EvalModel(spec, base, adapter=run.adapter, run=run)
    info = ModelInfo(name=run.name, path=run.final, format="hf", source=f"run:{run.name}")
    return EvalModel(spec, info, run=run)
