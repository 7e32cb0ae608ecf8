"""Every user-facing exception of llm-practice.

Each error carries the structured fields a caller may need (model name, path, line, flag) and a
`hint` that says what to do next. The CLI renders them through one table (`cli/errors.py`);
library code only raises. Unknown exceptions are bugs and keep their traceback.
"""

from __future__ import annotations

from pathlib import Path


class LlmpError(Exception):
    """Base class: a mistake the user can fix, with a hint for fixing it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class ConfigError(LlmpError, ValueError):
    """A bad option, flag or config value."""

    exit_code = 2

    def __init__(self, field: str, problem: str, hint: str | None = None):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}", hint)


class ModelNotFoundError(LlmpError, LookupError):
    def __init__(self, name: str, available: list[str]):
        self.name = name
        self.available = available
        local = ", ".join(available) if available else "none yet"
        super().__init__(
            f"Unknown model '{name}'. Local models: {local}.",
            "Add one with `llmp models import PATH --name NAME` (a .gguf file or a Hugging Face "
            "model folder), or download one with `llmp download REPO`. "
            "`llmp models list` shows what is here.",
        )


class ModelFormatError(LlmpError, ValueError):
    """A model file or folder that cannot be used: corrupt, truncated, or not a model."""

    def __init__(self, path: str | Path, problem: str, hint: str | None = None):
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"{self.path}: {problem}",
            hint
            or "The file may be truncated or corrupt. Download it again (`llmp download` resumes "
            "and verifies), or import a different file.",
        )


class ModelExistsError(LlmpError, FileExistsError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"A model named '{name}' is already registered.",
            "Choose another name with `--name`, or remove the old one first.",
        )


class EngineMissingError(LlmpError, ImportError):
    """An optional engine is not installed."""

    def __init__(self, engine: str, install: str, reason: str | None = None):
        self.engine = engine
        self.install = install
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"The '{engine}' engine is not installed{detail}.", f"Install it with: {install}"
        )


class EngineUnsupportedError(LlmpError, ValueError):
    """The chosen engine cannot run this kind of model."""

    def __init__(self, engine: str, model: str, problem: str, hint: str):
        self.engine = engine
        self.model = model
        super().__init__(f"Engine '{engine}' cannot run model '{model}': {problem}", hint)


class ChatFileError(LlmpError, OSError):
    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}", "Pick a path in a folder you can write to.")
