"""Which weights a recipe starts from, and loading them for full, LoRA, QLoRA or freeze tuning.

`model:` may be a registered model (the bundled GGUF is dequantised once to safetensors, see
`chat/hf.py`), a Hugging Face folder, a PEFT LoRA folder (its base comes from adapter_config.json),
`runs/NAME` (an earlier run: chain pt -> sft -> rm -> RL), or a catalog name that is not
downloaded yet (enough for `--dry-run` and the memory estimate, not for training).
`resolve_model` reads only small files; `load_model` is the first thing that touches weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, EngineUnsupportedError, ModelFormatError


@dataclass(frozen=True)
class BaseModelRef:
    spec: str  # what the recipe said
    name: str  # registry name or path, for run.json
    folder: Path | None  # HF folder with the (base) weights; None until a GGUF is dequantised
    gguf: Path | None = None  # registered GGUF to dequantise on load
    adapter: Path | None = None  # LoRA folder applied (and merged) on top of `folder`
    catalog: str | None = None  # a catalog model that is not downloaded

    @property
    def base_path(self) -> Path:
        if self.folder is None and self.gguf is not None:
            from ..chat.hf import dequantized_folder

            return dequantized_folder(self.gguf)
        if self.folder is None:
            raise ConfigError("model", f"'{self.spec}' is a catalog model that is not downloaded",
                              f"Download it first: `llmp download {self.catalog}`.")
        return self.folder


def run_root() -> Path:
    from ..settings import get_settings

    return get_settings().runs_dir


def run_folder(spec: str) -> Path | None:
    from ..settings import get_settings

    candidates = [Path(spec).expanduser()]
    if spec.startswith("runs/"):
        candidates.append(get_settings().runs_dir / spec[len("runs/"):])
    return next((c for c in candidates if (c / "run.json").is_file()), None)


def resolve_model(spec: str) -> BaseModelRef:
    """Find the weights without loading them; clear errors for every way this can fail."""
    run = run_folder(spec)
    if run is not None:
        info = json.loads((run / "run.json").read_text(encoding="utf-8"))
        if info.get("status") != "finished" or not (run / "final").is_dir():
            raise ConfigError("model", f"run '{run}' has status {info.get('status')!r} and no final model",
                              f"Finish it first: `llmp train {run / 'recipe.yaml'} --resume`.")
        if info.get("kind") == "adapter":
            return BaseModelRef(spec, info.get("base_model", spec), Path(info["base_path"]),
                                adapter=run / "final")
        return BaseModelRef(spec, info.get("base_model", spec), run / "final")
    if spec.startswith("runs/") and not Path(spec).exists():
        raise ConfigError("model", f"there is no run '{spec[5:]}' under {run_root()}",
                          "Train it first (e.g. `llmp train recipes/rm-demo.yaml`); `llmp train list` shows the runs.")
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "adapter_config.json").is_file():
        cfg = json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
        base = cfg.get("base_model_name_or_path")
        if not base or not Path(base).is_dir():
            raise ModelFormatError(path, f"its base model {base!r} is not a folder on this machine",
                                   "Set base_model_name_or_path in adapter_config.json to the base model's folder.")
        return BaseModelRef(spec, base, Path(base), adapter=path.resolve())
    if path.is_dir():
        from ..models.registry import detect_format

        detect_format(path)
        return BaseModelRef(spec, str(path.resolve()), path.resolve())
    if path.is_file() and path.suffix.lower() == ".gguf":
        return BaseModelRef(spec, str(path.resolve()), None, gguf=path.resolve())
    from ..errors import ModelNotFoundError
    from ..models.registry import list_models

    models = list_models()
    for info in models:
        if spec in (info.name, *info.aliases):
            if info.format == "gguf":
                return BaseModelRef(spec, info.name, None, gguf=info.path)
            return BaseModelRef(spec, info.name, info.path)
    from ..catalog.catalog import find_entry

    entry = find_entry(spec)
    if entry is not None:
        return BaseModelRef(spec, entry.name, None, catalog=entry.name)
    raise ModelNotFoundError(spec, [m.name for m in models])


def model_shape(ref: BaseModelRef):
    """The parameter shape for the memory estimate, from config.json, the GGUF header or the catalog."""
    from ..catalog import sources

    if ref.folder is not None:
        return sources.from_folder(ref.folder).shape
    if ref.gguf is not None:
        return sources.from_gguf(ref.gguf).shape
    from ..catalog.catalog import find_entry
    from ..catalog.params import count_parameters

    entry = find_entry(ref.catalog or ref.spec)
    return count_parameters(entry.config).with_total(entry.params, "catalog")


def torch_dtype(name: str):
    import torch

    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, name)


def check_qlora(finetuning: str) -> None:
    """QLoRA quantises the base to 4 bits with bitsandbytes, whose kernels need a CUDA GPU."""
    if finetuning != "qlora":
        return
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise EngineUnsupportedError(
            "qlora", "this machine", "QLoRA needs a CUDA GPU (bitsandbytes 4-bit kernels), and none was found.",
            "Use finetuning: lora on CPU (same adapters, full-precision base), or run on a GPU machine.")
    if importlib.util.find_spec("bitsandbytes") is None:
        from ..errors import EngineMissingError

        raise EngineMissingError("bitsandbytes", "pip install bitsandbytes", "QLoRA quantises the base to 4 bits with it")


def load_model(ref: BaseModelRef, recipe, *, head: str = "causal", num_labels: int = 1):
    """Load base weights (merging a chained LoRA run) and apply the recipe's fine-tuning method.

    Returns (model, tokenizer, peft_config): LoRA/QLoRA hand the `LoraConfig` to the TRL trainer,
    which wraps the model itself; full and freeze return the model with `requires_grad` set.
    """
    from ..chat.hf import quiet_transformers

    folder = ref.base_path
    with quiet_transformers():
        import torch
        from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

        dtype = torch_dtype(recipe.dtype)
        kwargs: dict = {"dtype": dtype}
        if recipe.finetuning == "qlora":
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype)
        cls = AutoModelForSequenceClassification if head == "score" else AutoModelForCausalLM
        if head == "score":
            kwargs["num_labels"] = num_labels
        tokenizer = AutoTokenizer.from_pretrained(ref.adapter or folder)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = cls.from_pretrained(folder, **kwargs)
        if ref.adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, ref.adapter).merge_and_unload()
        if getattr(model.config, "pad_token_id", None) is None:
            model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer, _apply_finetuning(model, recipe, head)


def _apply_finetuning(model, recipe, head: str):
    if recipe.finetuning in ("lora", "qlora"):
        from peft import LoraConfig

        if recipe.finetuning == "qlora":
            from peft import prepare_model_for_kbit_training

            prepare_model_for_kbit_training(model)
        return LoraConfig(r=recipe.lora_rank, lora_alpha=recipe.lora_alpha, lora_dropout=recipe.lora_dropout,
                          target_modules=recipe.lora_target, bias="none",
                          task_type="SEQ_CLS" if head == "score" else "CAUSAL_LM")
    if recipe.finetuning == "freeze":
        freeze_layers(model, recipe.freeze_trainable_layers, head)
    return None


def freeze_layers(model, trainable_layers: int, head: str) -> None:
    """Train only the last N transformer blocks (and a reward model's score head)."""
    blocks = _blocks(model)
    if blocks is None:
        raise ModelFormatError(getattr(model.config, "_name_or_path", "model"),
                               "freeze tuning could not find the transformer blocks (model.layers)",
                               "Use finetuning: lora or full for this architecture.")
    for p in model.parameters():
        p.requires_grad_(False)
    for block in list(blocks)[-trainable_layers:]:
        for p in block.parameters():
            p.requires_grad_(True)
    if head == "score" and hasattr(model, "score"):
        for p in model.score.parameters():
            p.requires_grad_(True)


def _blocks(model):
    for path in ("model.layers", "transformer.h", "model.decoder.layers", "gpt_neox.layers"):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None
