"""OpenAI chat messages (also Qianfan's newer SFT shape and TRL's conversational language modeling).

`{"messages": [{"role": "system|user|assistant|tool", "content": ..., "weight": 0|1}]}`.
`weight` on an assistant message follows OpenAI fine-tuning: 0 leaves it out of the loss.
"""

from __future__ import annotations

import json

from .fields import Note, need_kind, text_field, type_name, weight_field
from .records import FieldProblem, Record, Turn

ROLE_OF = {"user": "user", "assistant": "assistant", "tool": "observation",
           "function": "observation", "function_call": "function_call",
           "observation": "observation"}
ROLE_HINT = "Roles are system (first only), user, assistant, and tool."


def detect(obj) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("messages"), list)


def parse_messages(messages, where: str) -> tuple[str | None, list[Turn]]:
    """A list of chat messages -> (system prompt, turns). Also used by the TRL formats."""
    if not isinstance(messages, list) or not messages:
        raise FieldProblem(where, f"must be a non-empty list of messages, got {type_name(messages)}",
                           '[{"role": "user", "content": "..."}]')
    system, turns = None, []
    for i, msg in enumerate(messages):
        at = f"{where}[{i}]"
        if not isinstance(msg, dict):
            raise FieldProblem(at, f"must be an object, got {type_name(msg)}", ROLE_HINT)
        role = msg.get("role")
        content = msg.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            msg = {**msg, "content": content}
        if role == "system":
            if i:
                raise FieldProblem(f"{at}.role", "system may only be the first message", ROLE_HINT)
            system = text_field(msg, "content", f"{at}.content")
            continue
        if role not in ROLE_OF:
            raise FieldProblem(f"{at}.role", f"unknown role {role!r}", ROLE_HINT)
        if role == "assistant" and msg.get("tool_calls") and not content:
            turns.append(Turn("function_call", json.dumps(msg["tool_calls"], ensure_ascii=False)))
            continue
        weight = weight_field(msg, f"{at}.weight") if role == "assistant" else 1.0
        turns.append(Turn(ROLE_OF[role], text_field(msg, "content", f"{at}.content"), weight))
    if not turns:
        raise FieldProblem(where, "has only a system message", "Add the user's message.")
    if turns[0].role != "user":
        raise FieldProblem(f"{where}[{int(system is not None)}].role",
                           f"the first message after system must be from the user, got "
                           f"{messages[int(system is not None)].get('role')!r}", ROLE_HINT)
    return system, turns


def to_canonical(obj: dict) -> Record:
    system, turns = parse_messages(obj["messages"], "messages")
    tools = obj.get("tools")
    return Record(turns=turns, system=system,
                  tools=json.dumps(tools, ensure_ascii=False) if tools else None)


def dump_messages(system: str | None, turns, note: Note | None = None, weights=True) -> list[dict]:
    out = [{"role": "system", "content": system}] if system else []
    for t in turns:
        if t.role == "function_call":
            if note:
                note("function calls written as assistant messages")
            out.append({"role": "assistant", "content": t.content})
            continue
        msg = {"role": {"observation": "tool"}.get(t.role, t.role), "content": t.content}
        if weights and t.role == "assistant" and t.weight != 1:
            msg["weight"] = int(t.weight) if t.weight in (0, 1) else t.weight
        out.append(msg)
    return out


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "prompt"), "openai messages")
    out = {"messages": dump_messages(rec.system, rec.conversation(), note)}
    if rec.tools:
        try:
            out["tools"] = json.loads(rec.tools)
        except json.JSONDecodeError:
            note("tool descriptions that are not JSON dropped")
    return [out]
