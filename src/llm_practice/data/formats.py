"""The format registry: name -> how to detect, read into and write from the canonical `Record`.

Detection tries the formats in registry order on a record's shape (its keys), so the more specific
shapes come first. `qianfan-kto` shares the DPO reader; it differs only in what it writes.

Each format also names the top-level keys it reads. A record that carries a key some format gives
meaning to (`label`, `score`, `weight`, `chosen`, ...) but the chosen format does not read is
reported by `ignored_fields`, so nothing that matters for a stage is dropped without a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigError
from . import alpaca, lfv1, openai, qianfan, sharegpt, text, trl
from .records import Record


@dataclass(frozen=True)
class DatasetFormat:
    name: str
    summary: str
    detect: Callable[[Any], bool]
    to_canonical: Callable[[Any], Record]
    # (record, note(what, lossy=True), pairs mode) -> objects to write; raises Unrepresentable
    from_canonical: Callable[..., list]
    keys: frozenset = frozenset()  # top-level keys it reads (of each turn, for list records)


REGISTRY: dict[str, DatasetFormat] = {f.name: f for f in (
    DatasetFormat("qianfan", "Qianfan SFT / ranked: [{system, prompt, response, weight, score}]",
                  qianfan.detect_sft, qianfan.to_canonical_sft, qianfan.from_canonical_sft,
                  qianfan.SFT_KEYS),
    DatasetFormat("qianfan-dpo", "Qianfan DPO: [{system, user, chosen, rejected}]",
                  qianfan.detect_dpo, qianfan.to_canonical_dpo, qianfan.from_canonical_dpo,
                  qianfan.DPO_KEYS),
    DatasetFormat("qianfan-kto", "Qianfan KTO: [{system, user, chosen | rejected}]",
                  lambda obj: False, qianfan.to_canonical_dpo, qianfan.from_canonical_kto,
                  qianfan.DPO_KEYS),
    DatasetFormat("sharegpt", "sharegpt: {conversations: [{from, value}], system, tools, "
                  "chosen/rejected | kto_tag}", sharegpt.detect, sharegpt.to_canonical,
                  sharegpt.from_canonical, sharegpt.KEYS),
    DatasetFormat("lf-v1", "LLaMA-Factory v1: {messages: [{role, content: [{type, value}], "
                  "loss_weight}], tools} | {chosen_messages, rejected_messages}",
                  lfv1.detect, lfv1.to_canonical, lfv1.from_canonical, lfv1.KEYS),
    DatasetFormat("openai", "OpenAI messages: {messages: [{role, content, weight, tool_calls}], "
                  "tools, label | chosen/rejected}", openai.detect, openai.to_canonical,
                  openai.from_canonical, openai.KEYS),
    DatasetFormat("alpaca", "alpaca: {instruction, input, output | chosen+rejected, history, kto_tag}",
                  alpaca.detect, alpaca.to_canonical, alpaca.from_canonical, alpaca.KEYS),
    DatasetFormat("trl", "TRL: prompt+completion, prompt+chosen+rejected, prompt+completion+label",
                  trl.detect, trl.to_canonical, trl.from_canonical, trl.KEYS),
    DatasetFormat("prompt", "prompt set: {prompt} (Qianfan RL prompts, TRL prompt-only)",
                  text.detect_prompt, text.prompt_to_canonical, text.prompt_from_canonical,
                  text.PROMPT_KEYS),
    DatasetFormat("text", "plain text: one document per line, or {text}",
                  text.detect_text, text.text_to_canonical, text.text_from_canonical,
                  frozenset(text.TEXT_KEYS)),
)}

# keys that carry meaning for some stage: present but unread, they are reported
MEANINGFUL = frozenset().union(*(f.keys for f in REGISTRY.values())) - {
    "id", "meta", "metadata", "source", "url"} | {
    "score", "scores", "weight", "loss_weight", "completions", "labels", "reasoning", "thinking"}
IGNORED_HINT = {
    "completions": "TRL stepwise supervision (completions + labels) is not supported.",
    "labels": "TRL stepwise supervision (completions + labels) is not supported.",
    "score": "Only qianfan ranked data keeps scores (\"score\": [2, 1] on the last turn).",
    "weight": "Per-turn weights live on messages (openai \"weight\", lf-v1 \"loss_weight\") or "
              "qianfan turns.",
}


def ignored_fields(fmt: DatasetFormat, obj: Any) -> list[str]:
    """Keys in `obj` that carry meaning somewhere but that `fmt` does not read."""
    if isinstance(obj, dict):
        return sorted((set(obj) & MEANINGFUL) - fmt.keys)
    if isinstance(obj, list):
        found = {k for turn in obj if isinstance(turn, dict) for k in turn}
        return sorted((found & MEANINGFUL) - fmt.keys)
    return []


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
