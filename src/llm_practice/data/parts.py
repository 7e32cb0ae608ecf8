"""Message content given as a list of typed parts, tool calls, tool descriptions and reasoning.

Content is a string or a list of parts: OpenAI's `[{"type": "text", "text": ...}]` and
LLaMA-Factory v1's `[{"type": "text" | "reasoning" | "tool_call", "value": ...}]`. Text parts are
joined; reasoning parts stay apart from the answer (`Turn.reasoning`); tool_call parts become a
function call turn. Image, video, audio and file parts are refused by name: llmp trains on text.

Tool calls have one canonical spelling, LLaMA-Factory's `{"name", "arguments"}` (one object, or a
list for parallel calls) as JSON text, so every format that can hold calls reads and writes the
same thing. Tool descriptions are kept as normalised JSON text for the same reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .fields import type_name
from .records import FieldProblem

TEXT_PARTS = {"text", "input_text", "output_text"}
REASONING_PARTS = {"reasoning", "thinking"}
CALL_PARTS = {"tool_call"}
SUPPORTED = sorted(TEXT_PARTS | REASONING_PARTS | CALL_PARTS)
PART_HINT = ("Content parts look like {\"type\": \"text\", \"text\": \"...\"} (OpenAI) or {\"type\": "
             "\"text\", \"value\": \"...\"} (LLaMA-Factory v1); supported types: "
             + ", ".join(SUPPORTED) + ". Images, audio, video and files are not supported.")


@dataclass(slots=True)
class Content:
    text: str = ""
    reasoning: str | None = None
    calls: list[dict] = field(default_factory=list)


def parse_content(value, where: str) -> Content:
    """A string, a list of parts or null -> text, reasoning and tool calls."""
    if value is None or isinstance(value, str):
        return Content(value or "")
    if not isinstance(value, list):
        raise FieldProblem(where, f"must be a string or a list of parts, got {type_name(value)}",
                           PART_HINT)
    out = Content()
    texts, thoughts = [], []
    for j, part in enumerate(value):
        at = f"{where}[{j}]"
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise FieldProblem(at, f"must be an object, got {type_name(part)}", PART_HINT)
        kind = part.get("type", "text")
        body = part.get("value", part.get("text"))
        if kind not in SUPPORTED:
            raise FieldProblem(f"{at}.type", f"part type {kind!r} is not supported", PART_HINT)
        if not isinstance(body, str):
            raise FieldProblem(f"{at}.value", f"must be a string, got {type_name(body)}", PART_HINT)
        if kind in TEXT_PARTS:
            texts.append(body)
        elif kind in REASONING_PARTS:
            thoughts.append(body)
        else:
            out.calls += calls_from_text(body, at + ".value")
    out.text = "".join(texts)
    out.reasoning = "".join(thoughts) if thoughts else None
    return out


def calls_from_text(text: str, where: str) -> list[dict]:
    """JSON text of one call or a list of calls -> canonical `{"name", "arguments"[, "id"]}` list."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise FieldProblem(where, "is not JSON", 'A tool call is {"name": "...", "arguments": '
                           '{...}}, written as JSON text.') from None
    return [_call(c, where) for c in (value if isinstance(value, list) else [value])]


def _call(call, where: str) -> dict:
    if isinstance(call, dict) and isinstance(call.get("function"), dict):  # OpenAI tool_calls item
        out = {"name": call["function"].get("name"), "arguments": call["function"].get("arguments")}
        if call.get("id"):
            out["id"] = call["id"]
    elif isinstance(call, dict):
        out = {k: call[k] for k in ("name", "arguments", "id") if k in call}
    else:
        raise FieldProblem(where, f"a tool call must be an object, got {type_name(call)}",
                           '{"name": "...", "arguments": {...}}')
    if not isinstance(out.get("name"), str) or not out["name"]:
        raise FieldProblem(where, "a tool call needs a name", '{"name": "...", "arguments": {...}}')
    args = out.get("arguments", {})
    if isinstance(args, str):  # OpenAI sends arguments as JSON text
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            raise FieldProblem(where, "tool call arguments are not JSON",
                               "arguments is an object, or JSON text of one.") from None
    out["arguments"] = args
    return out


def calls_to_text(calls: list[dict]) -> str:
    return json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)


def parse_call_turn(text: str) -> list[dict]:
    """The calls of a canonical function_call turn (its content is always valid JSON)."""
    value = json.loads(text)
    return value if isinstance(value, list) else [value]


def normalize_call_text(text: str) -> str:
    """A sharegpt function_call value -> canonical JSON text (left alone if it is not JSON)."""
    try:
        return calls_to_text(calls_from_text(text, "value"))
    except FieldProblem:
        return text


def openai_tool_calls(text: str, json_arguments: bool) -> list[dict]:
    """Canonical calls -> OpenAI `tool_calls` (arguments as JSON text) or TRL's (as an object)."""
    out = []
    for call in parse_call_turn(text):
        args = call.get("arguments", {})
        item = {"type": "function", "function": {
            "name": call["name"],
            "arguments": json.dumps(args, ensure_ascii=False) if json_arguments else args}}
        if "id" in call:
            item = {"id": call["id"], **item}
        out.append(item)
    return out


def tools_text(value, where: str = "tools") -> str | None:
    """Tool descriptions (a list, an object or JSON text) -> normalised JSON text."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value  # free text: kept as it is
    return json.dumps(value, ensure_ascii=False)


def tools_value(text: str | None):
    """Canonical tools -> a JSON value (for formats that store a list), or the text itself."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
