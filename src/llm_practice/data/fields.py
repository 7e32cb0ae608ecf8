"""Small field checks shared by the format modules; each raises `FieldProblem` with a hint."""

from __future__ import annotations

from typing import Any, Callable

from .records import FieldProblem, Record, Unrepresentable

Note = Callable[[str], None]


def text_field(obj: dict, key: str, where: str, hint: str = "", required: bool = True
               ) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise FieldProblem(where, "is missing", hint)
        return None
    if not isinstance(value, str):
        raise FieldProblem(where, f"must be a string, got {type_name(value)}", hint)
    if not value.strip():
        raise FieldProblem(where, "is empty", hint or "Fill in the text or drop the record.")
    return value


def weight_field(obj: dict, where: str) -> float:
    value = obj.get("weight", 1)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise FieldProblem(where, f"must be a number from 0 to 1, got {value!r}",
                           "Use 0 to leave this answer out of the loss, 1 (the default) to train on it.")
    return float(value)


def label_field(obj: dict, key: str, where: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise FieldProblem(where, f"must be true or false, got {value!r}",
                       "true marks a desirable answer, false an undesirable one.")


def type_name(value: Any) -> str:
    names = {str: "a string", list: "a list", dict: "an object", int: "a number",
             float: "a number", bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def need_kind(rec: Record, kinds: tuple[str, ...], target: str) -> None:
    if rec.kind not in kinds:
        raise Unrepresentable(f"{rec.kind} records cannot be written as {target}")


def alternating(turns, target: str) -> list[tuple[str, str]]:
    """(user, assistant) pairs of a plain chat; function calls cannot go into pair formats."""
    if any(t.role not in ("user", "assistant") for t in turns):
        raise Unrepresentable(f"{target} has no place for function calls or tool results")
    pairs = []
    for i in range(0, len(turns) - 1, 2):
        if turns[i].role != "user" or turns[i + 1].role != "assistant":
            raise Unrepresentable(f"{target} needs strictly alternating user/assistant turns")
        pairs.append((turns[i].content, turns[i + 1].content))
    return pairs


def note_weights(turns, note: Note, target: str) -> None:
    if any(t.weight != 1 for t in turns):
        note(f"per-turn loss weights dropped ({target} has no weight field)")
