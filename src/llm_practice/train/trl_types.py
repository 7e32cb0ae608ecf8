"""What each TRL setting accepts, so a recipe's value is checked before any weights load.

TRL's configs are dataclasses that do not check their values: `bf16=maybe` (the string "maybe")
would switch bf16 on, `max_steps=ten` would fail minutes later. `describe(type)` turns a field's
declared type into a small JSON-able spec, cached with the field names (recipe.trl_fields):

    >>> describe(bool | None)
    {'types': ['bool', 'null'], 'choices': []}

`check(key, value, spec)` returns the value (an integral float for an int field becomes an int,
an int for a float field a float, "1e-4" a number) or raises ConfigError naming the key, the value
and what the field takes. Types a recipe value cannot be checked against (dicts, lists, classes)
are "any" and pass unchanged.
"""

from __future__ import annotations

import enum
import re
import types
import typing

from ..errors import ConfigError

_SIMPLE = {bool: "bool", int: "int", float: "float", str: "str", type(None): "null"}
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def describe(tp) -> dict:
    """A declared type as {"types": [bool|int|float|str|null|any ...], "choices": [literal values]}."""
    kinds: set[str] = set()
    choices: list = []
    enums: list = []

    def walk(t) -> None:
        origin = typing.get_origin(t)
        if origin in (typing.Union, types.UnionType):
            for arg in typing.get_args(t):
                walk(arg)
        elif origin is typing.Literal:
            choices.extend(typing.get_args(t))
        elif t in _SIMPLE:
            kinds.add(_SIMPLE[t])
        elif isinstance(t, type) and issubclass(t, enum.Enum):
            enums.append(t)
            choices.extend(m.value for m in t)
        else:
            kinds.add("any")

    walk(tp)
    if enums:  # `SchedulerType | str`: transformers turns the string into the enum, or refuses it
        kinds.discard("str")
    return {"types": sorted(kinds), "choices": [c for c in choices if isinstance(c, (bool, int, float, str))]}


def describe_fields(config_cls) -> dict[str, dict]:
    """Every field of a TRL config dataclass -> its spec (a field whose type cannot be read: any)."""
    import dataclasses

    try:
        hints = typing.get_type_hints(config_cls)
    except Exception:  # an annotation that does not resolve: check nothing rather than refuse
        hints = {}
    return {f.name: describe(hints[f.name]) if f.name in hints else {"types": ["any"], "choices": []}
            for f in dataclasses.fields(config_cls)}


def expected(spec: dict) -> str:
    words = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "a string", "null": "null"}
    parts = [words[k] for k in ("bool", "int", "float", "str") if k in spec["types"]]
    if "int" in spec["types"] and "float" in spec["types"]:
        parts.remove("an integer")
    if spec["choices"]:
        parts.append("one of " + ", ".join(_yaml(c) for c in spec["choices"]))
    if "null" in spec["types"]:
        parts.append("null")
    return " or ".join(parts) or "a value"


def _yaml(value) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def check(key: str, value, spec: dict | None, where: str):
    """The value to pass to TRL, or ConfigError(where: key) saying what the field takes."""
    if spec is None or "any" in spec["types"]:
        return value
    kinds, choices = spec["types"], spec["choices"]
    if isinstance(value, str) and "str" not in kinds and _FLOAT.match(value.strip()):
        value = float(value) if "float" in kinds or not re.fullmatch(r"[+-]?\d+", value.strip()) else int(value)
    if any(_same(value, c) for c in choices):
        return value
    if value is None:
        if "null" in kinds:
            return value
    elif isinstance(value, bool):
        if "bool" in kinds:
            return value
    elif isinstance(value, int):
        if "int" in kinds:
            return value
        if "float" in kinds:
            return float(value)
    elif isinstance(value, float):
        if "float" in kinds:
            return value
        if "int" in kinds and value.is_integer():
            return int(value)
    elif isinstance(value, str):
        if "str" in kinds:
            return value
    shown = "null" if value is None else _yaml(value) if isinstance(value, bool) else repr(value)
    raise ConfigError(f"{where}: {key}", f"expects {expected(spec)}, got {shown}",
                      f"Write {key}={_example(spec)} (TRL does not check its settings: a wrong value would "
                      "train with something you did not ask for, or fail after the model loads).")


def _example(spec: dict) -> str:
    kinds = spec["types"]
    if "bool" in kinds:
        return "true"
    if spec["choices"]:
        return _yaml(spec["choices"][0])
    return {"int": "8", "float": "0.0001", "str": "VALUE"}.get(next((k for k in ("int", "float", "str") if k in kinds),
                                                                    "str"), "VALUE")
