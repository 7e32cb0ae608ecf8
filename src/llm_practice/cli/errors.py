"""How the CLI shows an exception: its message, hint and the exit code its class declares.

A user mistake (`LlmpError`) prints its message and hint, never a traceback; `LLMP_DEBUG=1`
shows the traceback as well. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import traceback
from contextlib import contextmanager

import click

from ..errors import LlmpError
from ..i18n import t
from ..settings import get_settings


def exit_code_for(error: LlmpError) -> int:
    """Each error class declares its own exit code (see `errors.py`)."""
    return error.exit_code


def render_error(error: LlmpError) -> str:
    lines = [f"{t('error')}: {error.message}"]
    if error.hint:
        lines.append(f"Hint: {error.hint}")
    if not get_settings().debug:
        lines.append(t("debug_hint"))
    return "\n".join(lines)


@contextmanager
def handle_errors():
    try:
        yield
    except LlmpError as error:
        if get_settings().debug:
            traceback.print_exc(file=sys.stderr)
        click.echo(render_error(error), err=True)
        raise click.exceptions.Exit(exit_code_for(error)) from None
