"""Small field checks shared by the format modules; each raises `FieldProblem` with a hint."""

from __future__ import annotations

from typing import Any, Callable

from .records import FieldProblem, Record, Turn, Unrepresentable

Note = Callable[..., None]  # note(what, lossy=True): something the target format cannot hold
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
LABEL_KEYS = ("kto_tag", "label")  # LLaMA-Factory's column / TRL's and LLaMA-Factory's demo key


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
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"  # a CSV cell cannot hold a boolean
    if value is None or isinstance(value, bool):
        return value
    raise FieldProblem(where, f"must be true or false, got {value!r}",
                       "true marks a desirable answer, false an undesirable one.")


def label_of(obj: dict) -> bool | None:
    """A KTO label under either of its names; both present must agree."""
    found = [(k, label_field(obj, k, k)) for k in LABEL_KEYS if obj.get(k) is not None]
    if len({v for _, v in found}) > 1:
        raise FieldProblem("label", "kto_tag and label disagree", "Keep one of them.")
    return found[0][1] if found else None


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
        answer = turns[i + 1]
        pairs.append((turns[i].content, join_think(answer.content, answer.reasoning)))
    return pairs


def note_weights(turns, note: Note, target: str) -> None:
    if any(t.weight != 1 for t in turns):
        note(f"per-turn loss weights dropped ({target} has no weight field)")


def note_losses(rec: Record, note: Note, target: str, *, weights=False, tools=False,
                scores=False, names=False) -> None:
    """Note each thing `rec` carries that `target` cannot hold (a flag says it can)."""
    if not weights:
        note_weights(rec.turns, note, target)
    if not tools and rec.tools:
        note(f"tool descriptions dropped ({target} has no tools field)")
    if not scores and rec.scores is not None:
        note(f"answer scores dropped ({target} has no score field)")
    if not names and any(t.name or t.call_id for t in rec.turns):
        note(f"message names and tool call ids dropped ({target} has no field for them)")



def split_think(text: str) -> tuple[str, str | None]:
    """`<think>cot</think>answer` -> (answer, cot); other text -> (text, None).

    LLaMA-Factory's documented spelling of reasoning inside an answer (alpaca, sharegpt)."""
    if text.startswith(THINK_OPEN) and THINK_CLOSE in text:
        cot, _, answer = text[len(THINK_OPEN):].partition(THINK_CLOSE)
        return answer, cot
    return text, None


def join_think(text: str, reasoning: str | None) -> str:
    """The exact inverse of `split_think`: whitespace stays where the source had it."""
    return text if reasoning is None else f"{THINK_OPEN}{reasoning}{THINK_CLOSE}{text}"


def assistant_turn(text: str, weight: float = 1.0) -> Turn:
    answer, reasoning = split_think(text)
    return Turn("assistant", answer, weight, reasoning)
