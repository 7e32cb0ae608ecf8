"""One conversion from a pydantic `ValidationError` to our `ConfigError`, naming the flag or field.

    try:
        options = EstimateOptions(**values)
    except ValidationError as e:
        raise config_error(e, hint="See `llmp estimate --help`.") from None
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from pydantic import ValidationError


def config_error(error: "ValidationError", *, flags: bool = True, rename: dict[str, str] | None = None,
                 hint: str | None = None, show_input: bool = False) -> ConfigError:
    """The first problem of `error` as a ConfigError: the field as a CLI flag (`--max-chars`) when
    `flags`, else its dotted path; `rename` maps a field to the name the user knows (an argument)."""
    first = error.errors()[0]
    loc = [str(p) for p in first.get("loc", ())]
    if not loc:
        field = "options"
    elif rename and loc[0] in rename:
        field = rename[loc[0]]
    else:
        field = "--" + loc[0].replace("_", "-") if flags else ".".join(loc)
    problem = first["msg"]
    if show_input and "input" in first:
        problem += f" (got {first['input']!r})"
    return ConfigError(field, problem + ("" if problem.endswith(".") else "."), hint)
