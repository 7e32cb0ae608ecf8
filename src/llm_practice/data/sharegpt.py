"""LLaMA-Factory's sharegpt format.

`{"conversations": [{"from": "human|gpt|function_call|observation", "value": ...}], "system",
"tools"}`: human/observation at odd positions, gpt/function_call at even ones. The preference
variant ends with a human turn and adds `"chosen"` / `"rejected"` messages; KTO adds `kto_tag`.
"""

from __future__ import annotations

import json

from .fields import Note, label_field, need_kind, note_weights, text_field, type_name
from .records import FieldProblem, Record, Turn, Unrepresentable, ranked_pairs

ROLE_OF = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
           "function_call": "function_call", "observation": "observation"}
TAG_OF = {"user": "human", "assistant": "gpt", "function_call": "function_call",
          "observation": "observation"}
ASKS = ("user", "observation")
ROLE_HINT = ("Roles alternate: human or observation first (odd positions), then gpt or "
             "function_call (even positions).")


def detect(obj) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("conversations"), list)


def _message(msg, where: str) -> Turn:
    if not isinstance(msg, dict):
        raise FieldProblem(where, f"must be an object, got {type_name(msg)}",
                           '{"from": "human", "value": "..."}')
    tag = msg.get("from")
    if tag not in ROLE_OF:
        raise FieldProblem(f"{where}.from", f"unknown role {tag!r}",
                           f"Use one of {', '.join(ROLE_OF)} (a leading 'system' is allowed).")
    return Turn(ROLE_OF[tag], text_field(msg, "value", f"{where}.value"))


def to_canonical(obj: dict) -> Record:
    rec = Record(system=text_field(obj, "system", "system", required=False))
    tools = obj.get("tools")
    rec.tools = tools if isinstance(tools, str) or tools is None else json.dumps(tools, ensure_ascii=False)
    messages = obj["conversations"]
    if messages and isinstance(messages[0], dict) and messages[0].get("from") == "system":
        if rec.system is None:
            rec.system = text_field(messages[0], "value", "conversations[0].value")
        messages = messages[1:]
        offset = 1
    else:
        offset = 0
    if not messages:
        raise FieldProblem("conversations", "is empty", "Add at least one human turn.")
    for i, msg in enumerate(messages):
        turn = _message(msg, f"conversations[{i + offset}]")
        if (turn.role in ASKS) != (i % 2 == 0):
            want = "human or observation" if i % 2 == 0 else "gpt or function_call"
            raise FieldProblem(f"conversations[{i + offset}].from",
                               f"is {msg['from']!r} at position {i + 1}, expected {want}", ROLE_HINT)
        rec.turns.append(turn)
    if "chosen" in obj or "rejected" in obj:
        if rec.turns[-1].role not in ASKS:
            raise FieldProblem("conversations", "must end with a human turn in preference data",
                               "chosen and rejected answer the last human turn.")
        rec.answers = [_message(obj.get("chosen"), "chosen").content,
                       _message(obj.get("rejected"), "rejected").content]
    rec.label = label_field(obj, "kto_tag", "kto_tag")
    if rec.label is not None:
        if rec.turns[-1].role in ASKS:
            raise FieldProblem("conversations", "must end with the gpt answer that kto_tag labels",
                               ROLE_HINT)
        rec.answers = [rec.turns.pop().content]
    return rec


def _head(rec: Record, turns) -> dict:
    if rec.kind != "prompt" and turns and turns[0].role not in ASKS:
        raise Unrepresentable("sharegpt conversations must start with a human turn")
    out = {"conversations": [{"from": TAG_OF[t.role], "value": t.content} for t in turns]}
    if rec.system:
        out["system"] = rec.system
    if rec.tools:
        out["tools"] = rec.tools
    return out


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "prompt", "ranked", "unpaired"), "sharegpt")
    note_weights(rec.turns, note, "sharegpt")
    if rec.kind in ("conversation", "prompt"):
        return [_head(rec, rec.conversation())]
    if rec.kind == "unpaired":
        head = _head(rec, rec.turns + [Turn("assistant", rec.answers[0])])
        return [{**head, "kto_tag": rec.label}]
    found, ties = ranked_pairs(rec.answers, rec.scores, pairs)
    if ties:
        note(f"answer pairs with equal scores skipped ({ties})")
    if len(rec.answers) > 2:
        note(f"ranked lists of 3+ answers split into {pairs} pairs")
    return [{**_head(rec, rec.turns), "chosen": {"from": "gpt", "value": c},
             "rejected": {"from": "gpt", "value": r}} for c, r in found]
