"""LLaMA-Factory's alpaca format.

`{"instruction", "input", "output", "system", "history": [["q", "a"], ...]}`; the preference
variant has `"chosen"` and `"rejected"` instead of `output` (or a ranked list as `output`); KTO
adds `"kto_tag": true|false` (or `"label"`). Without `output` the sample is a prompt (PPO/GRPO).
Reasoning is spelled `<think>...</think>answer` inside `output`, as LLaMA-Factory documents.
"""

from __future__ import annotations

from .fields import (Note, alternating, assistant_turn, join_think, label_of, need_kind,
                     note_losses, text_field, type_name)
from .openai import pair_list
from .records import FieldProblem, Record, Turn, Unrepresentable

KEYS = frozenset({"instruction", "input", "output", "system", "history", "chosen", "rejected",
                  "kto_tag", "label"})

HISTORY_HINT = 'history is a list of [question, answer] pairs: "history": [["hi", "hello"]]'


def detect(obj) -> bool:
    return isinstance(obj, dict) and "instruction" in obj


def to_canonical(obj: dict) -> Record:
    rec = Record(system=text_field(obj, "system", "system", required=False))
    history = obj.get("history") or []
    if not isinstance(history, list):
        raise FieldProblem("history", f"must be a list, got {type_name(history)}", HISTORY_HINT)
    for i, pair in enumerate(history):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) and x.strip()
                                                                  for x in pair)):
            raise FieldProblem(f"history[{i}]", "must be a [question, answer] pair of non-empty "
                               f"strings, got {pair!r}"[:200], HISTORY_HINT)
        rec.turns += [Turn("user", pair[0]), assistant_turn(pair[1])]
    prompt = text_field(obj, "instruction", "instruction")
    extra = obj.get("input")
    if extra is not None and not isinstance(extra, str):
        raise FieldProblem("input", f"must be a string, got {type_name(extra)}")
    rec.turns.append(Turn("user", f"{prompt}\n{extra}" if extra and extra.strip() else prompt))
    output = obj.get("output")
    if "chosen" in obj or "rejected" in obj:
        hint = "Preference data needs both chosen and rejected answers."
        rec.answers = [text_field(obj, "chosen", "chosen", hint),
                       text_field(obj, "rejected", "rejected", hint)]
    elif isinstance(output, list):
        if not output or not all(isinstance(x, str) and x.strip() for x in output):
            raise FieldProblem("output", "must be a list of non-empty answers, best first",
                               'Ranked data looks like "output": ["best", "second"].')
        rec.answers = list(output)
    elif output is not None:
        rec.answers = [text_field(obj, "output", "output")]
    rec.label = label_of(obj)
    if rec.label is not None and not (rec.answers and len(rec.answers) == 1):
        raise FieldProblem("kto_tag", "needs exactly one answer in output",
                           "KTO samples label one answer as good (true) or bad (false).")
    if rec.answers and len(rec.answers) == 1 and rec.label is None:
        rec.turns.append(assistant_turn(rec.answers.pop()))
        rec.answers = None
    return rec


def _base(rec: Record, prompt_turns) -> dict:
    pairs = alternating(prompt_turns[:-1], "alpaca")
    if not prompt_turns or prompt_turns[-1].role != "user":
        raise Unrepresentable("alpaca needs a conversation that ends with the user's instruction")
    out = {"instruction": prompt_turns[-1].content, "input": ""}
    if rec.system:
        out["system"] = rec.system
    if pairs:
        out["history"] = [list(p) for p in pairs]
    return out


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "prompt", "ranked", "unpaired"), "alpaca")
    note_losses(rec, note, "alpaca")
    if rec.kind == "prompt":
        return [_base(rec, rec.turns)]
    if rec.kind == "conversation":
        turns = rec.conversation()
        if not turns or turns[-1].role != "assistant":
            raise Unrepresentable("alpaca needs the conversation to end with an answer")
        return [{**_base(rec, turns[:-1]), "output": join_think(turns[-1].content, turns[-1].reasoning)}]
    if rec.kind == "unpaired":
        return [{**_base(rec, rec.turns), "output": rec.answers[0], "kto_tag": rec.label}]
    return [{**_base(rec, rec.turns), "chosen": c, "rejected": r}
            for c, r in pair_list(rec, note, pairs)]
