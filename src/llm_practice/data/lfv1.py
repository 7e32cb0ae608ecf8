"""LLaMA-Factory v1's samples: messages whose content is a list of typed parts.

SFT: `{"messages": [{"role": "system|user|assistant|tool", "content": [{"type": "text" |
"reasoning" | "tool_call", "value": ...}], "loss_weight": 0.0|1.0}], "tools": "<JSON text>"}`.
DPO: `{"chosen_messages": [...], "rejected_messages": [...]}`, two whole conversations that share
every message but the last assistant answer. `loss_weight` on an assistant message is the turn's
loss weight; user, system and tool messages carry 0. v1 documents no KTO label field, so labelled
(unpaired) records cannot be written here.
"""

from __future__ import annotations

from .fields import Note, join_think, need_kind, note_losses
from .openai import answer_text, finish, need_calls_json, pair_list, parse_messages
from .parts import parse_call_turn, tools_text
from .records import FieldProblem, Record, Turn

KEYS = frozenset({"messages", "chosen_messages", "rejected_messages", "tools", "label", "kto_tag",
                  "chosen", "rejected"})
PAIR_HINT = ("chosen_messages and rejected_messages are the same conversation with a different "
             "last assistant answer.")


def _has_value_parts(messages) -> bool:
    return isinstance(messages, list) and any(
        isinstance(m, dict) and isinstance(m.get("content"), list)
        and any(isinstance(p, dict) and "value" in p for p in m["content"]) for m in messages)


def detect(obj) -> bool:
    return isinstance(obj, dict) and (
        "chosen_messages" in obj or "rejected_messages" in obj or _has_value_parts(obj.get("messages")))


def to_canonical(obj: dict) -> Record:
    if "messages" in obj:
        system, turns = parse_messages(obj["messages"], "messages")
        rec = Record(turns=turns, system=system, tools=tools_text(obj.get("tools")))
        return finish(rec, obj, answer_text, "messages")
    system, chosen = parse_messages(obj.get("chosen_messages"), "chosen_messages")
    other, rejected = parse_messages(obj.get("rejected_messages"), "rejected_messages")
    if system != other or chosen[:-1] != rejected[:-1]:
        raise FieldProblem("rejected_messages", "must share every message with chosen_messages "
                           "except the last assistant answer", PAIR_HINT)
    for side, turns in (("chosen_messages", chosen), ("rejected_messages", rejected)):
        last = turns[-1]
        if last.role != "assistant":
            raise FieldProblem(f"{side}[{len(turns) - 1 + (system is not None)}]",
                               "must end with an assistant answer (tool calls as the answer are "
                               "not supported)", PAIR_HINT)
        if last.weight != 1:
            raise FieldProblem(side, "a loss weight on a preference answer is not supported",
                               "Remove it.")
    return Record(turns=chosen[:-1], system=system, tools=tools_text(obj.get("tools")),
                  answers=[join_think(t[-1].content, t[-1].reasoning) for t in (chosen, rejected)])


def _message(t: Turn) -> dict:
    role = {"observation": "tool", "function_call": "assistant"}.get(t.role, t.role)
    parts = [{"type": "reasoning", "value": t.reasoning}] if t.reasoning is not None else []
    if t.role == "function_call":
        parts += [{"type": "tool_call", "value": _dumps(c)} for c in parse_call_turn(t.content)]
    else:
        parts.append({"type": "text", "value": t.content})
    return {"role": role, "content": parts,
            "loss_weight": t.weight if role == "assistant" else 0.0}


def _dumps(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _messages(rec: Record, turns) -> list[dict]:
    head = [{"role": "system", "content": [{"type": "text", "value": rec.system}],
             "loss_weight": 0.0}] if rec.system else []
    return head + [_message(t) for t in turns]


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "prompt", "ranked"), "lf-v1 (it has no KTO label field)")
    need_calls_json(rec, "tool_call parts")
    note_losses(rec, note, "lf-v1", weights=True, tools=True)
    tools = {"tools": rec.tools} if rec.tools else {}
    if rec.kind in ("conversation", "prompt"):
        return [{"messages": _messages(rec, rec.conversation()), **tools}]
    out = []
    for chosen, rejected in pair_list(rec, note, pairs):
        out.append({"chosen_messages": _messages(rec, [*rec.turns, Turn("assistant", chosen)]),
                    "rejected_messages": _messages(rec, [*rec.turns, Turn("assistant", rejected)]),
                    **tools})
    return out
