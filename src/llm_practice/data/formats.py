"""The format registry: name -> how to detect, read into and write from the canonical `Record`.

Detection tries the formats in registry order on a record's shape (its keys), so the more specific
shapes come first. `qianfan-kto` shares the DPO reader; it differs only in what it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigError
from . import alpaca, openai, qianfan, sharegpt, text, trl
from .records import Record


@dataclass(frozen=True)
class DatasetFormat:
    name: str
    summary: str
    detect: Callable[[Any], bool]
    to_canonical: Callable[[Any], Record]
    # (record, note(loss), pairs mode) -> objects to write; raises Unrepresentable
    from_canonical: Callable[..., list]


REGISTRY: dict[str, DatasetFormat] = {f.name: f for f in (
    DatasetFormat("qianfan", "Qianfan SFT / ranked: [{system, prompt, response, weight, score}]",
                  qianfan.detect_sft, qianfan.to_canonical_sft, qianfan.from_canonical_sft),
    DatasetFormat("qianfan-dpo", "Qianfan DPO: [{system, user, chosen, rejected}]",
                  qianfan.detect_dpo, qianfan.to_canonical_dpo, qianfan.from_canonical_dpo),
    DatasetFormat("qianfan-kto", "Qianfan KTO: [{system, user, chosen | rejected}]",
                  lambda obj: False, qianfan.to_canonical_dpo, qianfan.from_canonical_kto),
    DatasetFormat("sharegpt", "sharegpt: {conversations: [{from, value}], system, tools}",
                  sharegpt.detect, sharegpt.to_canonical, sharegpt.from_canonical),
    DatasetFormat("openai", "OpenAI messages: {messages: [{role, content, weight}]}",
                  openai.detect, openai.to_canonical, openai.from_canonical),
    DatasetFormat("alpaca", "alpaca: {instruction, input, output | chosen+rejected, history}",
                  alpaca.detect, alpaca.to_canonical, alpaca.from_canonical),
    DatasetFormat("trl", "TRL: prompt+completion, prompt+chosen+rejected, prompt+completion+label",
                  trl.detect, trl.to_canonical, trl.from_canonical),
    DatasetFormat("prompt", "prompt set: {prompt} (Qianfan RL prompts, TRL prompt-only)",
                  text.detect_prompt, text.prompt_to_canonical, text.prompt_from_canonical),
    DatasetFormat("text", "plain text: one document per line, or {text}",
                  text.detect_text, text.text_to_canonical, text.text_from_canonical),
)}


def get_format(name: str) -> DatasetFormat:
    if name not in REGISTRY:
        raise ConfigError("--format/--to", f"unknown dataset format '{name}'",
                          f"Choose one of: {', '.join(REGISTRY)}.")
    return REGISTRY[name]


def detect_format(obj: Any) -> DatasetFormat | None:
    return next((f for f in REGISTRY.values() if f.detect(obj)), None)


def describe_shape(obj: Any) -> str:
    if isinstance(obj, dict):
        return "an object with keys " + ", ".join(sorted(map(str, obj))[:8])
    if isinstance(obj, list):
        inner = describe_shape(obj[0]) if obj else "nothing"
        return f"a list of {len(obj)} ({inner})"
    return f"a {type(obj).__name__}"
