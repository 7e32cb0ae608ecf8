"""TRL's dataset types: prompt-completion, preference and unpaired preference.

Standard (`"prompt": "text"`) or conversational (`"prompt": [{"role", "content"}]`).
Preference: `{"prompt", "chosen", "rejected"}` (the prompt may be implicit: chosen and rejected
are then whole conversations sharing it). Unpaired: `{"prompt", "completion", "label"}`.
Language modeling (`{"text"}` / `{"messages"}`) and prompt-only (`{"prompt"}`) live in `text.py`
and `openai.py`.
"""

from __future__ import annotations

from .fields import Note, label_field, need_kind, note_weights, type_name
from .openai import dump_messages, parse_messages
from .records import FieldProblem, Record, Turn, Unrepresentable, ranked_pairs

HINT = ("TRL data: {\"prompt\": ..., \"completion\": ...}, {\"prompt\", \"chosen\", \"rejected\"} "
        "or {\"prompt\", \"completion\", \"label\"}; each value a string or a list of messages.")


def detect(obj) -> bool:
    return isinstance(obj, dict) and ("completion" in obj or ("chosen" in obj and "rejected" in obj)
                                      ) and "instruction" not in obj and "conversations" not in obj


def _part(value, where: str, role: str) -> tuple[str | None, list[Turn]]:
    if isinstance(value, str):
        if not value.strip():
            raise FieldProblem(where, "is empty", "Fill in the text or drop the record.")
        return None, [Turn(role, value)]
    if isinstance(value, list):
        if role == "assistant":  # a completion: assistant messages only, no user turn first
            turns = []
            for i, msg in enumerate(value):
                if not (isinstance(msg, dict) and isinstance(msg.get("content"), str)
                        and msg["content"].strip()):
                    raise FieldProblem(f"{where}[{i}].content", "must be a non-empty string", HINT)
                turns.append(Turn("assistant", msg["content"]))
            if not turns:
                raise FieldProblem(where, "is empty", HINT)
            return None, turns
        return parse_messages(value, where)
    raise FieldProblem(where, f"must be a string or a list of messages, got {type_name(value)}", HINT)


def _answer(value, where: str) -> str:
    return "".join(t.content for t in _part(value, where, "assistant")[1])


def to_canonical(obj: dict) -> Record:
    if "prompt" in obj:
        system, turns = _part(obj["prompt"], "prompt", "user")
    elif "chosen" in obj and isinstance(obj["chosen"], list) and isinstance(obj["rejected"], list):
        return _implicit(obj)
    else:
        raise FieldProblem("prompt", "is missing", HINT)
    rec = Record(turns=turns, system=system)
    if "chosen" in obj or "rejected" in obj:
        rec.answers = [_answer(obj.get("chosen"), "chosen"), _answer(obj.get("rejected"), "rejected")]
        return rec
    completion = _answer(obj.get("completion"), "completion")
    if "label" in obj:
        rec.label = label_field(obj, "label", "label")
        rec.answers = [completion]
    else:
        rec.turns.append(Turn("assistant", completion))
    return rec


def _implicit(obj: dict) -> Record:
    """Implicit prompt: chosen and rejected are whole conversations; the shared prefix is the prompt."""
    system, chosen = parse_messages(obj["chosen"], "chosen")
    _, rejected = parse_messages(obj["rejected"], "rejected")
    if chosen[:-1] != rejected[:-1] or chosen[-1].role != "assistant" or rejected[-1].role != "assistant":
        raise FieldProblem("rejected", "must share every message with chosen except the last "
                           "assistant answer", HINT)
    return Record(turns=chosen[:-1], system=system,
                  answers=[chosen[-1].content, rejected[-1].content])


def _prompt(rec: Record, turns) -> list[dict]:
    return dump_messages(rec.system, turns)


def from_canonical(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "ranked", "unpaired"), "trl (use --to text or --to prompt)")
    note_weights(rec.turns, note, "trl")
    if rec.tools:
        note("tool descriptions dropped")
    if rec.kind == "conversation":
        turns = rec.conversation()
        if not turns or turns[-1].role != "assistant":
            raise Unrepresentable("prompt-completion needs a final answer")
        return [{"prompt": _prompt(rec, turns[:-1]),
                 "completion": [{"role": "assistant", "content": turns[-1].content}]}]
    prompt = _prompt(rec, rec.turns)
    if rec.kind == "unpaired":
        return [{"prompt": prompt, "completion": [{"role": "assistant", "content": rec.answers[0]}],
                 "label": rec.label}]
    found, ties = ranked_pairs(rec.answers, rec.scores, pairs)
    if ties:
        note(f"answer pairs with equal scores skipped ({ties})")
    if len(rec.answers) > 2:
        note(f"ranked lists of 3+ answers split into {pairs} pairs")
    return [{"prompt": prompt, "chosen": [{"role": "assistant", "content": c}],
             "rejected": [{"role": "assistant", "content": r}]} for c, r in found]
