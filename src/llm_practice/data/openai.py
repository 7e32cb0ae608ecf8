"""OpenAI chat messages (also Qianfan's newer SFT shape and TRL's conversational language modeling).

`{"messages": [{"role": "system|user|assistant|tool", "content": ..., "weight": 0|1}], "tools"}`.
`weight` on an assistant message follows OpenAI fine-tuning: 0 leaves it out of the loss
(`loss_weight`, LLaMA-Factory v1's name, is read too). `content` may be a list of parts; an
assistant's reasoning comes from `thinking` (TRL), `reasoning_content` or `reasoning`, or a leading
`<think>...</think>`; tool calls from `tool_calls` (or the legacy `function_call`).

LLaMA-Factory treats this as sharegpt with OpenAI's tags, so its KTO and preference layouts apply:
`"label"` / `"kto_tag"` true|false labels the last assistant message (its KTO demo), and
`"chosen"` / `"rejected"` assistant messages answer a conversation that ends with the user.
Answers that are judged (labelled or ranked) are plain text: reasoning in them is kept inline as
`<think>...</think>answer`.
"""

from __future__ import annotations

from .fields import (Note, assistant_turn, join_think, label_of, need_kind, note_losses, type_name,
                     weight_field)
from .parts import (calls_from_text, calls_to_text, normalize_call_text, openai_tool_calls,
                    parse_content, tools_text, tools_value)
from .records import FieldProblem, Record, Turn, Unrepresentable, ranked_pairs

ROLE_OF = {"user": "user", "assistant": "assistant", "tool": "observation",
           "function": "observation", "function_call": "function_call",
           "observation": "observation"}
SYSTEM_ROLES = ("system", "developer")
REASONING_KEYS = ("thinking", "reasoning_content", "reasoning")
ROLE_HINT = "Roles are system (first only), user, assistant, and tool."
KEYS = frozenset({"messages", "tools", "label", "kto_tag", "chosen", "rejected"})


def detect(obj) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("messages"), list)


def _loss_weight(msg: dict, at: str, role: str) -> float:
    if "loss_weight" in msg and "weight" not in msg:
        msg = {**msg, "weight": msg["loss_weight"]}
    if role == "assistant":
        return weight_field(msg, f"{at}.weight")
    if msg.get("weight") not in (None, 0, 0.0):
        raise FieldProblem(f"{at}.loss_weight", f"training on {role} messages is not supported "
                           f"(got {msg['weight']!r})", "Only assistant turns carry a loss weight; "
                           "set it to 0 or remove it.")
    return 1.0


def _reasoning(msg: dict, parsed, at: str) -> str | None:
    found = [k for k in REASONING_KEYS if msg.get(k)]
    if len(found) + (parsed.reasoning is not None) > 1:
        raise FieldProblem(at, "has its reasoning twice", "Keep one reasoning field or part.")
    if found and not isinstance(msg[found[0]], str):
        raise FieldProblem(f"{at}.{found[0]}", "must be a string", "")
    return msg[found[0]] if found else parsed.reasoning


def parse_message(msg, at: str) -> Turn | None:
    """One non-system message -> a Turn."""
    if not isinstance(msg, dict):
        raise FieldProblem(at, f"must be an object, got {type_name(msg)}", ROLE_HINT)
    role = msg.get("role")
    if role not in ROLE_OF:
        raise FieldProblem(f"{at}.role", f"unknown role {role!r}", ROLE_HINT)
    parsed = parse_content(msg.get("content"), f"{at}.content")
    weight = _loss_weight(msg, at, role)
    calls = list(parsed.calls)
    if msg.get("tool_calls"):
        if not isinstance(msg["tool_calls"], list):
            raise FieldProblem(f"{at}.tool_calls", f"must be a list, got {type_name(msg['tool_calls'])}",
                               '[{"type": "function", "function": {"name": ..., "arguments": ...}}]')
        calls += calls_from_text(_dumps(msg["tool_calls"]), f"{at}.tool_calls")
    if isinstance(msg.get("function_call"), dict):  # OpenAI's legacy single call
        calls += calls_from_text(_dumps(msg["function_call"]), f"{at}.function_call")
    reasoning = _reasoning(msg, parsed, at) if role in ("assistant", "function_call") else None
    if calls or role == "function_call":
        if parsed.text.strip() and calls:
            raise FieldProblem(f"{at}.content", "text next to tool calls in one message is not "
                               "supported", "Put the text in its own assistant message.")
        text = calls_to_text(calls) if calls else normalize_call_text(parsed.text)
        return Turn("function_call", text, weight, reasoning)
    if not parsed.text.strip():
        raise FieldProblem(f"{at}.content", "is empty", "Fill in the text or drop the record.")
    name = msg.get("name") if isinstance(msg.get("name"), str) else None
    call_id = msg.get("tool_call_id") if isinstance(msg.get("tool_call_id"), str) else None
    if role == "assistant":
        turn = assistant_turn(parsed.text, weight)
        if reasoning is not None:
            if turn.reasoning is not None:
                raise FieldProblem(at, "has its reasoning twice", "Keep one reasoning field or part.")
            turn.reasoning = reasoning
        turn.name = name
        return turn
    return Turn(ROLE_OF[role], parsed.text, weight, None, name, call_id)


def _dumps(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def parse_messages(messages, where: str) -> tuple[str | None, list[Turn]]:
    """A list of chat messages -> (system prompt, turns). Also used by TRL and LLaMA-Factory v1."""
    if not isinstance(messages, list) or not messages:
        raise FieldProblem(where, f"must be a non-empty list of messages, got {type_name(messages)}",
                           '[{"role": "user", "content": "..."}]')
    system, turns = None, []
    for i, msg in enumerate(messages):
        at = f"{where}[{i}]"
        if isinstance(msg, dict) and msg.get("role") in SYSTEM_ROLES:
            if i:
                raise FieldProblem(f"{at}.role", "system may only be the first message", ROLE_HINT)
            system = parse_content(msg.get("content"), f"{at}.content").text
            if not system.strip():
                raise FieldProblem(f"{at}.content", "is empty", "Fill in the text or drop it.")
            _loss_weight(msg, at, "system")
            continue
        turns.append(parse_message(msg, at))
    if not turns:
        raise FieldProblem(where, "has only a system message", "Add the user's message.")
    if turns[0].role != "user":
        raise FieldProblem(f"{where}[{int(system is not None)}].role",
                           f"the first message after system must be from the user, got "
                           f"{messages[int(system is not None)].get('role')!r}", ROLE_HINT)
    return system, turns


def answer_text(value, where: str) -> str:
    """A preference answer: a string, one assistant message, or a list of assistant messages."""
    if isinstance(value, str):
        if not value.strip():
            raise FieldProblem(where, "is empty", "Fill in the answer or drop the record.")
        return value
    items = value if isinstance(value, list) else [value]
    if not items or value is None:
        raise FieldProblem(where, "is missing", "Give the answer as an assistant message.")
    texts = []
    for i, msg in enumerate(items):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        turn = parse_message(msg, at)
        if turn.role != "assistant":
            raise FieldProblem(f"{at}.role", "must be an assistant message (tool calls in a "
                               "preference answer are not supported)", "")
        if turn.weight != 1:
            raise FieldProblem(at, "a loss weight in a preference answer is not supported",
                               "Remove it.")
        texts.append(join_think(turn.content, turn.reasoning))
    return "".join(texts)


def finish(rec: Record, obj: dict, answers_of, where: str) -> Record:
    """Apply a record's KTO label or chosen/rejected answers (LLaMA-Factory's layouts)."""
    label = label_of(obj)
    if "chosen" in obj or "rejected" in obj:
        if rec.turns[-1].role not in ("user", "observation"):
            raise FieldProblem(where, "must end with the user's turn in preference data",
                               "chosen and rejected answer the last user turn.")
        rec.answers = [answers_of(obj.get("chosen"), "chosen"), answers_of(obj.get("rejected"), "rejected")]
        if label is not None:
            raise FieldProblem("label", "a chosen/rejected pair needs no label",
                               "Use either a pair or one labelled answer.")
    elif label is not None:
        last = rec.turns[-1]
        if last.role != "assistant":
            raise FieldProblem(where, "must end with the assistant answer that the label judges",
                               "KTO data: a conversation ending with one answer, and label true|false.")
        if last.weight != 1:
            raise FieldProblem(where, "a loss weight on a labelled answer is not supported",
                               "Remove it: the label says how the answer counts.")
        rec.answers, rec.label = [join_think(last.content, last.reasoning)], label
        rec.turns.pop()
    return rec


def to_canonical(obj: dict) -> Record:
    system, turns = parse_messages(obj["messages"], "messages")
    rec = Record(turns=turns, system=system, tools=tools_text(obj.get("tools")))
    return finish(rec, obj, answer_text, "messages")


def dump_turn(t: Turn, note: Note | None = None, json_arguments: bool = True,
              weight_key: str = "weight") -> dict:
    if t.role == "function_call":
        msg = {"role": "assistant", "tool_calls": openai_tool_calls(t.content, json_arguments)}
    else:
        msg = {"role": {"observation": "tool"}.get(t.role, t.role), "content": t.content}
    if t.reasoning is not None:
        msg["thinking"] = t.reasoning
    if t.name:
        msg["name"] = t.name
    if t.call_id:
        msg["tool_call_id"] = t.call_id
    if t.role in ("assistant", "function_call") and t.weight != 1 and weight_key:
        msg[weight_key] = int(t.weight) if t.weight in (0, 1) else t.weight
    return msg


def dump_messages(system: str | None, turns, note: Note | None = None, weights=True,
                  json_arguments: bool = True) -> list[dict]:
    out = [{"role": "system", "content": system}] if system else []
    out += [dump_turn(t, note, json_arguments, "weight" if weights else "") for t in turns]
    return out


def need_calls_json(rec: Record, written_as: str = "tool_calls") -> None:
    """Refuse a record whose function calls are not JSON {name, arguments}: the target format
    writes them as structured `written_as`, which plain text cannot become."""
    for t in rec.turns:
        if t.role == "function_call":
            try:
                calls_from_text(t.content, "function_call")
            except FieldProblem:
                raise Unrepresentable("function calls that are not JSON {name, arguments} cannot "
                                      f"be written as {written_as}") from None


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "prompt", "ranked", "unpaired"), "openai messages")
    need_calls_json(rec)
    note_losses(rec, note, "openai", weights=True, tools=True, names=True)
    head = {}
    if rec.tools:
        head["tools"] = tools_value(rec.tools)
    if rec.kind in ("conversation", "prompt"):
        return [{"messages": dump_messages(rec.system, rec.conversation()), **head}]
    if rec.kind == "unpaired":
        turns = [*rec.turns, Turn("assistant", rec.answers[0])]
        return [{"messages": dump_messages(rec.system, turns), **head, "label": rec.label}]
    found = pair_list(rec, note, pairs)
    messages = dump_messages(rec.system, rec.turns)
    return [{"messages": messages, "chosen": {"role": "assistant", "content": c},
             "rejected": {"role": "assistant", "content": r}, **head} for c, r in found]


def pair_list(rec: Record, note: Note, pairs: str) -> list[tuple[str, str]]:
    """Ranked answers -> (chosen, rejected) pairs, noting ties (a loss) and splits."""
    found, ties = ranked_pairs(rec.answers, rec.scores, pairs)
    if ties:
        note(f"answer pairs with equal scores skipped ({ties})")
    if len(rec.answers) > 2:
        note(f"ranked lists of 3+ answers split into {pairs} pairs", lossy=False)
    return found
