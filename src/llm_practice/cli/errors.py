"""One table that turns exceptions into CLI messages and exit codes.

A user mistake (`LlmpError`) prints its message and hint, never a traceback; `LLMP_DEBUG=1`
shows the traceback as well. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import traceback
from contextlib import contextmanager

import click

from ..errors import (
    EndpointError,
    PromptFileError,
    PromptNotFoundError,
    PromptVariableError,
    ConfigError,
    DatasetFormatError,
    DownloadError,
    DownloadInterruptedError,
    EngineMissingError,
    HubAuthError,
    HubUnreachableError,
    IntegrityError,
    RepoNotFoundError,
    RevisionNotFoundError,
    EngineUnsupportedError,
    LlmpError,
    ModelExistsError,
    ModelFormatError,
    ModelNotFoundError,
)
from ..i18n import t
from ..settings import get_settings

# exception class -> exit code (the first matching row wins; LlmpError is the fallback)
EXIT_CODES: list[tuple[type[LlmpError], int]] = [
    (ConfigError, 2),
    (ModelNotFoundError, 3),
    (ModelExistsError, 3),
    (ModelFormatError, 4),
    (DatasetFormatError, 4),
    (EngineMissingError, 5),
    (EngineUnsupportedError, 5),
    (RepoNotFoundError, 3),
    (RevisionNotFoundError, 3),
    (HubAuthError, 6),
    (HubUnreachableError, 7),
    (DownloadError, 8),
    (IntegrityError, 8),
    (DownloadInterruptedError, 130),
    (PromptFileError, 2),
    (PromptVariableError, 2),
    (PromptNotFoundError, 3),
    (EndpointError, 7),
    (LlmpError, 1),
]


def exit_code_for(error: LlmpError) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(error, cls))


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
