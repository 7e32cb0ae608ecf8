"""What each TRL setting accepts, so a recipe's value is checked before any weights load.

TRL's configs are dataclasses that do not check their values (`bf16=maybe` would switch bf16 on,
`max_steps=ten` fail minutes later). `describe` turns a field's declared type into JSON, cached with
the field names (recipe.trl_field_types) so checking needs no TRL import; `check` rebuilds the type
and lets pydantic validate the value in lax mode ("1e-4" becomes a float), or raises ConfigError:

    >>> describe(list[float] | None)
    {'union': [{'list': 'float'}, 'null']}
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import re
import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, StrictBool, TypeAdapter, ValidationError

from ..errors import ConfigError

SPEC_VERSION = 2  # in the cache file's name: a cache written by an older describe() is never read
_SIMPLE = {bool: "bool", int: "int", float: "float", str: "str", type(None): "null"}


def describe(tp) -> str | dict:
    """A declared type as JSON: "bool", "int", "float", "str", "null", "any",
    {"literal": [values]}, {"list": item}, {"dict": value} or {"union": [members]}."""
    origin, args = typing.get_origin(tp) or tp, typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if any(isinstance(a, type) and issubclass(a, enum.Enum) for a in args):
            args = [a for a in args if a is not str]  # `SchedulerType | str`: the str must name a member
        return {"union": sorted((describe(a) for a in args), key=lambda m: m == "null")}  # "... or null"
    if origin is Literal:
        return {"literal": [a for a in args if isinstance(a, (bool, int, float, str))]}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"literal": [m.value for m in tp]}
    if tp in _SIMPLE:
        return _SIMPLE[tp]
    if origin in (list, tuple, set, frozenset, Sequence):
        items = [a for a in args if a is not Ellipsis]  # tuple[float, float] is written as a YAML list
        return {"list": describe(Union[tuple(items)]) if items else "any"}
    if origin is dict:
        return {"dict": describe(args[1]) if args else "any"}
    return "any"


def describe_fields(config_cls) -> dict[str, str | dict]:
    """Every field of a TRL config dataclass -> its spec (a field whose type cannot be read: any)."""
    try:
        hints = typing.get_type_hints(config_cls)
    except Exception:  # an annotation that does not resolve: check nothing rather than refuse
        hints = {}
    return {f.name: describe(hints[f.name]) if f.name in hints else "any" for f in dataclasses.fields(config_cls)}


def _number(value):
    """Pydantic's lax mode, less what a recipe never means: true is not 1, and PyYAML (YAML 1.1)
    leaves `1e2` a string, which lax int does not parse."""
    if isinstance(value, bool):
        raise ValueError("true/false is not a number")
    if isinstance(value, str) and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", value.strip()):
        return float(value)
    return value


_TYPES = {"bool": StrictBool, "int": Annotated[int, BeforeValidator(_number)],  # lax bool takes 1, "yes"
          "float": Annotated[float, BeforeValidator(_number)], "str": str, "null": None, "any": Any}


def rebuild(spec):
    """The Python type a spec describes, for pydantic."""
    if isinstance(spec, str):
        return _TYPES[spec]
    if "literal" in spec:
        return Literal[tuple(spec["literal"])]
    if "list" in spec:  # one item too: TRL wraps a lone `loss_type: ipo` itself
        return Union[list[rebuild(spec["list"])], rebuild(spec["list"])]
    if "dict" in spec:
        return dict[Any, rebuild(spec["dict"])]
    return Union[tuple(rebuild(s) for s in spec["union"])]


def check(key: str, value, spec, where: str):
    """The value to pass to TRL, or ConfigError(where: key) saying what the field takes."""
    try:
        return TypeAdapter(rebuild(spec)).validate_python(value)
    except ValidationError:
        raise ConfigError(f"{where}: {key}", f"expects {expected(spec)}, got {_yaml(value, repr)}",
                          f"Write {key}={_example(spec, value)} (TRL does not check its settings: "
                          "a wrong value would train with something you did not ask for, or fail after the model "
                          "loads).") from None


_WORDS = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "a string", "null": "null"}


def expected(spec) -> str:
    if isinstance(spec, str):
        return _WORDS[spec]
    if "literal" in spec:
        return "one of " + ", ".join(_yaml(c) for c in spec["literal"])
    for kind, noun, part in (("list", "a list", "item"), ("dict", "a mapping", "value")):
        if kind in spec:
            return noun if spec[kind] == "any" else f"{noun} (each {part} {expected(spec[kind])})"
    return " or ".join(expected(m) for m in spec["union"])


def _example(spec, refused=None) -> str:
    """A value the field takes; of choices, the nearest to the one refused (lr_scheduler_type=cosin: cosine)."""
    if isinstance(spec, str):
        return {"bool": "true", "int": "8", "float": "0.0001"}.get(spec, "VALUE")
    if "literal" in spec:
        choices = [_yaml(c) for c in spec["literal"]]
        return (difflib.get_close_matches(_yaml(refused), choices, n=1) or choices)[0]
    if "list" in spec:
        return f"[{_example(spec['list'])}]"
    if "dict" in spec:
        return f"{{KEY: {_example(spec['dict'])}}}"
    return _example(spec["union"][0], refused)


def _yaml(value, quote=str) -> str:
    return "null" if value is None else ("true" if value else "false") if isinstance(value, bool) else quote(value)
