"""Training recipes: one YAML file per run, `key=value` overrides, everything checked before weights load.

    >>> recipe = load_recipe("recipes/sft-lora-demo.yaml", ["max_steps=5", "learning_rate=1e-4"])
    >>> recipe.stage, recipe.trainer["max_steps"]
    ('sft', 5)

A recipe has our own keys (the fields of the stage's `Recipe` class: model, data, finetuning,
LoRA settings ...) and TRL's: any field of the stage's TRL config (`SFTConfig`, `DPOConfig` ...)
may sit at the top level or under `trainer:`; it is passed through unchanged. A key that is
neither is an error that lists the valid keys and points at the recipe's file:line.
Precedence: our defaults < the stage's TRL defaults < the YAML file < `key=value` overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
from functools import lru_cache
from importlib import import_module
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from .trl_types import SPEC_VERSION
from .trl_types import check as check_value

# stage -> (module, recipe class, run function, TRL config "module:Class")
STAGES: dict[str, tuple[str, str, str, str]] = {
    "pt": ("llm_practice.train.pt", "PtRecipe", "run_pt", "trl:SFTConfig"),
    "sft": ("llm_practice.train.sft", "SftRecipe", "run_sft", "trl:SFTConfig"),
    "rm": ("llm_practice.train.rm", "RmRecipe", "run_rm", "trl:RewardConfig"),
    "dpo": ("llm_practice.train.dpo", "DpoRecipe", "run_dpo", "trl:DPOConfig"),
    "kto": ("llm_practice.train.kto", "KtoRecipe", "run_kto", "trl:KTOConfig"),
    "grpo": ("llm_practice.train.grpo", "GrpoRecipe", "run_grpo", "trl:GRPOConfig"),
    "rloo": ("llm_practice.train.rloo", "RlooRecipe", "run_rloo", "trl:RLOOConfig"),
    "ppo": ("llm_practice.train.ppo", "PpoRecipe", "run_ppo", "trl.experimental.ppo:PPOConfig"),
}
# Keys we set ourselves from the run folder and the recipe; a recipe may not pass them to TRL.
MANAGED_TRL_KEYS = frozenset({"output_dir", "logging_dir", "resume_from_checkpoint", "disable_tqdm",
                              "seed", "max_length", "report_to", "use_cpu", "no_cuda"})
# TRL/Trainer fields every recipe may use even before TRL is imported (for `llmp train show`).


class Recipe(BaseModel):
    """Keys every stage shares. Stage files subclass it and declare only what they add."""

    model_config = ConfigDict(extra="forbid")

    stage: Literal["pt", "sft", "rm", "dpo", "kto", "grpo", "rloo", "ppo"]
    name: str | None = Field(None, description="run name (default: the recipe file's name)")
    model: str = Field("smollm2-135m-instruct", description="registered model, HF folder, PEFT folder or runs/NAME")
    data: str = Field(..., description="dataset file in any format `llmp data` reads")
    format: str = Field("auto", description="dataset format (auto-detected)")
    max_records: int | None = Field(None, ge=1, description="use only the first N records")
    finetuning: Literal["full", "lora", "qlora", "freeze"] = "lora"
    lora_rank: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    lora_target: str | list[str] = Field("all-linear", description="PEFT target_modules")
    freeze_trainable_layers: int = Field(2, ge=1, description="freeze: how many last blocks train")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    max_length: int = Field(512, ge=8, description="tokens per training sequence")
    seed: int = 42
    memory_check: Literal["refuse", "warn", "off"] = "refuse"
    trainer: dict[str, Any] = Field(default_factory=dict, description="TRL config fields, passed through")
    # where the recipe came from: not a recipe key
    source: str | None = Field(None, exclude=True)


def stage_entry(stage: str) -> tuple[str, str, str, str]:
    if stage not in STAGES:
        raise ConfigError("stage", f"unknown stage '{stage}'", f"Choose one of: {', '.join(STAGES)}.")
    return STAGES[stage]


def recipe_class(stage: str) -> type[Recipe]:
    module, cls, _, _ = stage_entry(stage)
    return getattr(import_module(module), cls)


def run_function(stage: str):
    module, _, fn, _ = stage_entry(stage)
    return getattr(import_module(module), fn)


def trl_fields(stage: str) -> frozenset[str]:
    """The field names of the stage's TRL config."""
    return frozenset(trl_field_types(stage))


@lru_cache(maxsize=None)
def trl_field_types(stage: str) -> dict[str, str | dict]:
    """The fields of the stage's TRL config and what each accepts (trl_types.describe).

    Importing a TRL config imports torch and transformers (seconds), so the fields are cached per
    TRL version under LLMP_HOME/cache: a typo'd key, a wrong value or a `--dry-run` answers
    without that import.
    """
    import json
    from importlib.metadata import PackageNotFoundError

    from ..settings import get_settings
    from .ppo_env import import_trl_config, trl_version
    from .trl_types import describe_fields

    spec = STAGES[stage][3]
    try:
        cache = get_settings().cache_dir / f"trl-field-types-v{SPEC_VERSION}-{trl_version(spec)}.json"
    except PackageNotFoundError:
        cache = None
    known: dict = {}
    if cache is not None and cache.is_file():
        try:
            known = json.loads(cache.read_text(encoding="utf-8"))
        except ValueError:
            known = {}
    if not isinstance(known.get(spec), dict):
        known[spec] = describe_fields(import_trl_config(spec))
        if cache is not None:
            from .run import atomic_write

            cache.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(cache, json.dumps(known))
    return known[spec]


def _yaml_lines(text: str) -> dict[str, int]:
    """Top-level key -> line number (1-based), from the YAML node tree."""
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _where(source: str, lines: dict[str, int], key: str) -> str:
    if key in lines:
        return f"{source}:{lines[key]}"
    return f"{source} (override {key}=...)" if source else f"override {key}=..."


def parse_override(text: str) -> tuple[str, Any]:
    import yaml

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override '{text}'", "is not key=value",
                          "Write overrides as key=value, e.g. max_steps=5 learning_rate=1e-4.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if key.startswith("trainer."):
        key = key[len("trainer."):]
    return key, value


def load_recipe(path: str | Path | None, overrides: list[str] | tuple[str, ...] = (),
                base: dict | None = None) -> Recipe:
    """Read a YAML recipe, apply `key=value` overrides, and validate every key."""
    import yaml

    data: dict[str, Any] = dict(base or {})
    lines: dict[str, int] = {}
    source = ""
    if path is not None:
        path = Path(path)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("RECIPE", f"{path} does not exist",
                              "Check the path; the demo recipes are in the repository's recipes/ "
                              "folder (e.g. recipes/sft-lora-demo.yaml).") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise ConfigError(where, f"is not valid YAML ({getattr(e, 'problem', e)})",
                              "Check the indentation and quoting near that line.") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(str(path), "a recipe is a YAML mapping of key: value",
                              "Start from one in recipes/, e.g. recipes/sft-lora-demo.yaml.")
        lines = _yaml_lines(text)
        data.update(loaded)
        data.setdefault("name", path.stem)
    overridden = set()
    for item in overrides:
        key, value = parse_override(item)
        data[key] = value
        lines.pop(key, None)
        overridden.add(key)
    stage = data.get("stage")
    if stage is None:
        raise ConfigError(f"{source or 'recipe'}: stage", "missing",
                          f"Add `stage: NAME` with NAME one of: {', '.join(STAGES)}.")
    if stage not in STAGES:
        raise ConfigError(f"{_where(source, lines, 'stage')}: stage", f"unknown stage '{stage}'",
                          f"Choose one of: {', '.join(STAGES)}.")
    cls = recipe_class(stage)
    ours = set(cls.model_fields) - {"source"}
    trainer = dict(data.pop("trainer", None) or {})
    if not isinstance(trainer, dict):
        raise ConfigError(f"{_where(source, lines, 'trainer')}: trainer", "must be a mapping of TRL settings")
    theirs = trl_fields(stage)
    for key in list(data):
        if key in ours:
            continue
        if key in theirs:
            trainer[key] = data.pop(key)
            continue
        _unknown(key, _where(source, lines, key), stage, ours, theirs)
    for key in trainer:
        if key not in theirs:
            _unknown(key, _where(source, lines, "trainer"), stage, ours, theirs)
        if key in MANAGED_TRL_KEYS:
            raise ConfigError(f"{_where(source, lines, key)}: {key}", "is set by llmp, not by the recipe",
                              "Use the recipe keys: name/--output pick the folder, seed and max_length are "
                              "recipe keys, --resume resumes.")
    types = trl_field_types(stage)
    data["trainer"] = {k: check_value(k, v, types[k], _where(source, lines, k if k in lines or k in overridden else "trainer"))
                       for k, v in trainer.items()}
    data["source"] = source or None
    try:
        return cls(**data)
    except ValidationError as e:
        err = e.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "recipe"
        raise ConfigError(f"{_where(source, lines, key)}: {key}",
                          f"{err['msg']} (got {err.get('input')!r})",
                          _field_hint(cls, key)) from None


def _field_hint(cls: type[Recipe], key: str) -> str:
    field = cls.model_fields.get(key)
    desc = f"{key}: {field.description}. " if field is not None and field.description else ""
    return f"{desc}`llmp train keys {cls.model_fields['stage'].default or ''}`".strip() + " lists every key."


def _unknown(key: str, where: str, stage: str, ours: set[str], theirs: dict) -> None:
    close = difflib.get_close_matches(key, [*ours, *theirs], n=1)
    guess = f"Did you mean '{close[0]}'? " if close else ""
    raise ConfigError(
        f"{where}: {key}", f"unknown key for stage {stage}",
        f"{guess}Recipe keys: {', '.join(sorted(ours))}. Any field of TRL's "
        f"{STAGES[stage][3].split(':')[1]} also works (e.g. learning_rate, max_steps, "
        f"num_train_epochs, per_device_train_batch_size); `llmp train keys {stage}` lists them all.",
    )


def resolved_yaml(recipe: Recipe) -> str:
    import yaml

    data = recipe.model_dump(exclude={"source"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def peek_stage(path: str | Path | None, overrides=()) -> str | None:
    """The recipe's stage, without validating anything (to pick the PPO environment)."""
    import yaml

    stage = None
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            stage = data.get("stage") if isinstance(data, dict) else None
        except (OSError, yaml.YAMLError):
            stage = None
    for item in overrides:
        key, _, value = item.partition("=")
        if key.strip() == "stage":
            stage = value.strip()
    return stage
