"""Rewards for the RL stages (grpo, rloo, ppo): a reward model from an `rm` run and/or functions.

    rewards:
      - {type: keyword, column: answer}        # 1.0 when the record's `answer` is in the completion
      - {type: regex, pattern: "^[A-Z].*\\.$"}  # 1.0 when the completion matches
      - {type: length, target: 30, weight: 0.5} # 1 - |words - target| / target, floored at -1
      - {type: "my_pkg.rewards:brevity"}        # any function (prompts, completions, **columns) -> floats

Functions follow TRL's reward-function contract, so TRL sums them (with `weight`s) itself.
"""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError


class RewardSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(..., description="length | regex | keyword | module:function")
    weight: float = 1.0
    target: int = Field(30, ge=1, description="length: the word count that scores 1.0")
    pattern: str | None = Field(None, description="regex: a Python regular expression")
    keywords: list[str] = Field(default_factory=list, description="keyword: words that earn reward")
    column: str | None = Field(None, description="keyword: a data column holding the expected text")


def _text(completion) -> str:
    if isinstance(completion, list):  # conversational: [{"role": "assistant", "content": ...}]
        return " ".join(m.get("content", "") for m in completion if isinstance(m, dict))
    return str(completion)


def _length(spec: RewardSpec):
    def length_reward(prompts, completions, **kwargs) -> list[float]:
        return [max(-1.0, 1.0 - abs(len(_text(c).split()) - spec.target) / spec.target) for c in completions]
    return length_reward


def _regex(spec: RewardSpec):
    try:
        pattern = re.compile(spec.pattern or "", re.DOTALL)
    except re.error as e:
        raise ConfigError("rewards: pattern", f"{spec.pattern!r} is not a valid regular expression ({e})") from None

    def regex_reward(prompts, completions, **kwargs) -> list[float]:
        return [1.0 if pattern.search(_text(c)) else 0.0 for c in completions]
    return regex_reward


def _keyword(spec: RewardSpec):
    if not spec.keywords and not spec.column:
        raise ConfigError("rewards: keyword", "needs keywords: [...] or column: NAME",
                          "e.g. {type: keyword, column: answer} rewards completions that contain the record's answer.")
    words = [w.lower() for w in spec.keywords]

    def keyword_reward(prompts, completions, **kwargs) -> list[float]:
        expected = kwargs.get(spec.column) if spec.column else None
        out = []
        for i, c in enumerate(completions):
            text = _text(c).lower()
            wanted = [*words, *([str(expected[i]).lower().rstrip(".")] if expected is not None else [])]
            out.append(sum(w in text for w in wanted) / len(wanted))
        return out
    return keyword_reward


BUILTIN: dict[str, Callable[[RewardSpec], Callable]] = {"length": _length, "regex": _regex, "keyword": _keyword}


def reward_function(spec: RewardSpec) -> Callable:
    if spec.type in BUILTIN:
        return BUILTIN[spec.type](spec)
    module, sep, name = spec.type.partition(":")
    if not sep:
        raise ConfigError("rewards: type", f"unknown reward '{spec.type}'",
                          f"Use one of {', '.join(BUILTIN)} or module:function for your own.")
    try:
        fn = getattr(import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ConfigError("rewards: type", f"cannot import {spec.type} ({e})",
                          "The module must be importable (on PYTHONPATH) and define that function.") from None
    if not callable(fn):
        raise ConfigError("rewards: type", f"{spec.type} is not a function")
    return fn


def check_rewards(recipe) -> None:
    """Validation before weights load: every function imports, a reward model resolves."""
    if not recipe.rewards and not recipe.reward_model:
        raise ConfigError("rewards", "the RL stages need a reward",
                          "Add reward_model: runs/RM-RUN (an rm run) and/or rewards: [{type: keyword, column: answer}].")
    for spec in recipe.rewards:
        reward_function(spec)
    if recipe.reward_model:
        from .model import resolve_model

        resolve_model(recipe.reward_model)


def load_reward_model(spec: str, dtype) -> tuple[Any, Any]:
    """The sequence-classification model of an rm run (a LoRA run is merged into its base)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .model import resolve_model

    ref = resolve_model(spec)
    model = AutoModelForSequenceClassification.from_pretrained(ref.base_path, num_labels=1, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(ref.adapter or ref.base_path)
    if ref.adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, ref.adapter).merge_and_unload()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer


def reward_functions(recipe, dtype) -> tuple[list, list, list[float]]:
    """(reward_funcs, their processing classes, weights) in TRL's shape."""
    funcs, classes, weights = [], [], []
    if recipe.reward_model:
        model, tok = load_reward_model(recipe.reward_model, dtype)
        funcs.append(model)
        classes.append(tok)
        weights.append(recipe.reward_model_weight)
    for spec in recipe.rewards:
        funcs.append(reward_function(spec))
        classes.append(None)
        weights.append(spec.weight)
    return funcs, classes, weights
