"""TRL's dataset types: prompt-completion, preference and unpaired preference.

Standard (`"prompt": "text"`) or conversational (`"prompt": [{"role", "content"}]`).
Preference: `{"prompt", "chosen", "rejected"}`; the prompt may be implicit, when chosen and rejected
are whole conversations (or texts) sharing it, and is then their common prefix, as TRL's
`extract_prompt` finds it. Unpaired: `{"prompt", "completion", "label"}`. A conversational
completion may hold tool calls and tool results; the `tools` column holds the tool schemas.
Reasoning goes in an assistant message's `thinking` key. Language modeling (`{"text"}` /
`{"messages"}`) and prompt-only (`{"prompt"}`) live in `text.py` and `openai.py`. Stepwise
supervision (`completions` + `labels`, for process reward models) is not supported.
"""

from __future__ import annotations

from .fields import Note, assistant_turn, label_of, need_kind, note_losses, type_name
from .openai import answer_text, dump_messages, pair_list, parse_message, parse_messages
from .parts import tools_text, tools_value
from .records import FieldProblem, Record, Turn, Unrepresentable

HINT = ("TRL data: {\"prompt\": ..., \"completion\": ...}, {\"prompt\", \"chosen\", \"rejected\"} "
        "or {\"prompt\", \"completion\", \"label\"}; each value a string or a list of messages.")
KEYS = frozenset({"prompt", "completion", "chosen", "rejected", "label", "tools"})


def detect(obj) -> bool:
    return isinstance(obj, dict) and ("completion" in obj or ("chosen" in obj and "rejected" in obj)
                                      ) and not {"instruction", "conversations", "messages",
                                                 "chosen_messages"} & set(obj)


def _prompt(value) -> tuple[str | None, list[Turn]]:
    if isinstance(value, str):
        if not value.strip():
            raise FieldProblem("prompt", "is empty", "Fill in the text or drop the record.")
        return None, [Turn("user", value)]
    if isinstance(value, list):
        return parse_messages(value, "prompt")
    raise FieldProblem("prompt", f"must be a string or a list of messages, got {type_name(value)}", HINT)


def _completion(value) -> list[Turn]:
    """An SFT completion: a string, or assistant messages (tool calls and results allowed)."""
    if isinstance(value, str):
        if not value.strip():
            raise FieldProblem("completion", "is empty", "Fill in the text or drop the record.")
        return [assistant_turn(value)]
    if not isinstance(value, list) or not value:
        raise FieldProblem("completion", f"must be a string or a list of messages, got "
                           f"{type_name(value)}", HINT)
    turns = [parse_message(m, f"completion[{i}]") for i, m in enumerate(value)]
    if turns[0].role not in ("assistant", "function_call"):
        raise FieldProblem("completion[0].role", "must be assistant", HINT)
    return turns


def to_canonical(obj: dict) -> Record:
    if "prompt" not in obj:
        if "chosen" in obj and "rejected" in obj:
            return _implicit(obj)
        raise FieldProblem("prompt", "is missing", HINT)
    system, turns = _prompt(obj["prompt"])
    rec = Record(turns=turns, system=system, tools=tools_text(obj.get("tools")))
    if "chosen" in obj or "rejected" in obj:
        rec.answers = [answer_text(obj.get("chosen"), "chosen"),
                       answer_text(obj.get("rejected"), "rejected")]
        return rec
    rec.label = label_of(obj)
    if rec.label is not None:
        rec.answers = [answer_text(obj.get("completion"), "completion")]
    else:
        rec.turns += _completion(obj.get("completion"))
    return rec


def _implicit(obj: dict) -> Record:
    """Implicit prompt: chosen and rejected share it; it is their longest common prefix."""
    chosen, rejected = obj["chosen"], obj["rejected"]
    if isinstance(chosen, str) and isinstance(rejected, str):
        idx = 0
        while idx < min(len(chosen), len(rejected)) and chosen[idx] == rejected[idx]:
            idx += 1
        if idx and chosen[idx - 1] == " ":
            idx -= 1
        if not chosen[:idx].strip() or idx in (len(chosen), len(rejected)):
            raise FieldProblem("rejected", "shares no prompt with chosen, or equals it", HINT)
        return Record(turns=[Turn("user", chosen[:idx])], answers=[chosen[idx:], rejected[idx:]])
    system, chosen_turns = parse_messages(chosen, "chosen")
    other, rejected_turns = parse_messages(rejected, "rejected")
    if (system != other or chosen_turns[:-1] != rejected_turns[:-1]
            or chosen_turns[-1].role != "assistant" or rejected_turns[-1].role != "assistant"):
        raise FieldProblem("rejected", "must share every message with chosen except the last "
                           "assistant answer", HINT)
    return Record(turns=chosen_turns[:-1], system=system, tools=tools_text(obj.get("tools")),
                  answers=[answer_text(obj["chosen"][-1], "chosen[-1]"),
                           answer_text(obj["rejected"][-1], "rejected[-1]")])


def _messages(rec: Record, turns) -> list[dict]:
    return dump_messages(rec.system, turns, weights=False, json_arguments=False)


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "ranked", "unpaired"), "trl (use --to text or --to prompt)")
    note_losses(rec, note, "trl", tools=True, names=True)
    tools = {"tools": tools_value(rec.tools)} if rec.tools else {}
    if rec.kind == "conversation":
        turns = rec.conversation()
        if not turns or turns[-1].role != "assistant":
            raise Unrepresentable("prompt-completion needs a final answer")
        return [{"prompt": _messages(rec, turns[:-1]), "completion": _messages(Record(), turns[-1:]),
                 **tools}]
    prompt = _messages(rec, rec.turns)
    if rec.kind == "unpaired":
        return [{"prompt": prompt, "completion": [{"role": "assistant", "content": rec.answers[0]}],
                 "label": rec.label, **tools}]
    return [{"prompt": prompt, "chosen": [{"role": "assistant", "content": c}],
             "rejected": [{"role": "assistant", "content": r}], **tools}
            for c, r in pair_list(rec, note, pairs)]
