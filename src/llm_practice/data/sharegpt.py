"""LLaMA-Factory's sharegpt format.

`{"conversations": [{"from": "human|gpt|function_call|observation", "value": ...}], "system",
"tools"}`: human/observation at odd positions, gpt/function_call at even ones. The preference
variant ends with a human turn and adds `"chosen"` / `"rejected"` messages; KTO adds `kto_tag`
(`label` in LLaMA-Factory's own KTO demo). Reasoning is written into the answer as
`<think>...</think>answer`, as LLaMA-Factory documents, and read back apart. A per-message
`weight` / `loss_weight` has no place here and is reported, not dropped.
"""

from __future__ import annotations

from .fields import (Note, assistant_turn, join_think, label_of, need_kind, note_losses,
                     text_field, type_name)
from .openai import pair_list
from .parts import normalize_call_text, tools_text
from .records import FieldProblem, Record, Turn, Unrepresentable

KEYS = frozenset({"conversations", "system", "tools", "chosen", "rejected", "kto_tag", "label"})

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
    for key in ("weight", "loss_weight"):
        if msg.get(key) is not None:
            raise FieldProblem(f"{where}.{key}", "is not read by sharegpt and would be lost",
                               "Per-message loss weights live in openai (weight) or lf-v1 "
                               "(loss_weight) files: pass --format openai, or remove the field.")
    value = text_field(msg, "value", f"{where}.value")
    role = ROLE_OF[tag]
    if role == "assistant":
        return assistant_turn(value)
    return Turn(role, normalize_call_text(value) if role == "function_call" else value)


def to_canonical(obj: dict) -> Record:
    rec = Record(system=text_field(obj, "system", "system", required=False))
    rec.tools = tools_text(obj.get("tools"))
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
        rec.answers = [_answer(obj.get("chosen"), "chosen"), _answer(obj.get("rejected"), "rejected")]
    label = label_of(obj)
    if label is not None:
        if rec.answers:
            raise FieldProblem("kto_tag", "a chosen/rejected pair needs no label",
                               "Use either a pair or one labelled answer.")
        last = rec.turns[-1]
        if last.role != "assistant":
            raise FieldProblem("conversations", "must end with the gpt answer that kto_tag labels",
                               ROLE_HINT)
        rec.answers, rec.label = [join_think(last.content, last.reasoning)], label
        rec.turns.pop()
    return rec


def _answer(msg, where: str) -> str:
    turn = _message(msg, where)
    if turn.role != "assistant":
        raise FieldProblem(f"{where}.from", "must be gpt", "chosen and rejected are gpt messages.")
    return join_think(turn.content, turn.reasoning)


def _head(rec: Record, turns) -> dict:
    if rec.kind != "prompt" and turns and turns[0].role not in ASKS:
        raise Unrepresentable("sharegpt conversations must start with a human turn")
    out = {"conversations": [{"from": TAG_OF[t.role], "value": join_think(t.content, t.reasoning)}
                             for t in turns]}
    if rec.system:
        out["system"] = rec.system
    if rec.tools:
        out["tools"] = rec.tools
    return out


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "prompt", "ranked", "unpaired"), "sharegpt")
    note_losses(rec, note, "sharegpt", tools=True)
    if any(t.reasoning is not None for t in rec.turns if t.role == "function_call"):
        note("reasoning before function calls dropped (sharegpt has no place for it)")
    if rec.kind in ("conversation", "prompt"):
        return [_head(rec, rec.conversation())]
    if rec.kind == "unpaired":
        head = _head(rec, rec.turns + [Turn("assistant", rec.answers[0])])
        return [{**head, "kto_tag": rec.label}]
    return [{**_head(rec, rec.turns), "chosen": {"from": "gpt", "value": c},
             "rejected": {"from": "gpt", "value": r}} for c, r in pair_list(rec, note, pairs)]
