"""Plain text for post-pretraining, and prompt-only sets for RL.

Text: one document per line in `.txt`, or `{"text": ...}` (LLaMA-Factory pt, TRL language
modeling). Prompts: `{"prompt": "..."}` per line (the Qianfan prompt set, TRL prompt-only), or a
list of messages; a `.txt` file read for an RL stage gives one prompt per line.
"""

from __future__ import annotations

from .fields import Note, text_field, type_name
from .openai import dump_messages, parse_messages
from .records import FieldProblem, Record, Turn, Unrepresentable

TEXT_KEYS = {"text", "id", "meta", "metadata", "source", "url"}
PROMPT_KEYS = frozenset({"prompt", "system"})


def detect_text(obj) -> bool:
    return isinstance(obj, str) or (isinstance(obj, dict) and "text" in obj and set(obj) <= TEXT_KEYS)


def text_to_canonical(obj) -> Record:
    if isinstance(obj, str):
        if not obj.strip():
            raise FieldProblem("text", "is empty", "Drop empty lines.")
        return Record(text=obj)
    return Record(text=text_field(obj, "text", "text"))


def text_from_canonical(rec: Record, note: Note, pairs: str) -> list:
    if rec.kind != "text":
        raise Unrepresentable(f"{rec.kind} records are not plain text (use --to openai or trl)")
    return [{"text": rec.text}]


def detect_prompt(obj) -> bool:
    return isinstance(obj, dict) and "prompt" in obj and not {
        "response", "completion", "chosen", "rejected", "instruction"} & set(obj)


def prompt_to_canonical(obj) -> Record:
    value = obj["prompt"]
    if isinstance(value, list):
        system, turns = parse_messages(value, "prompt")
        return Record(turns=turns, system=system)
    if not isinstance(value, str):
        raise FieldProblem("prompt", f"must be a string or a list of messages, got {type_name(value)}",
                           'A prompt set has one {"prompt": "..."} per line.')
    prompt = text_field(obj, "prompt", "prompt")
    return Record(turns=[Turn("user", prompt)], system=text_field(obj, "system", "system", required=False))


def prompt_from_canonical(rec: Record, note: Note, pairs: str) -> list:
    if rec.kind == "text":
        return [{"prompt": rec.text}]
    turns = rec.prompt_turns()
    if not turns:
        raise Unrepresentable("no user turn to use as a prompt")
    if rec.kind != "prompt":
        note("answers dropped (a prompt set holds prompts only)")
    if len(turns) == 1 and turns[0].role == "user":
        out = {"prompt": turns[0].content}
        if rec.system:
            out["system"] = rec.system
        return [out]
    return [{"prompt": dump_messages(rec.system, turns)}]
