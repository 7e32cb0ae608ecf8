"""Every user-facing exception of llm-practice.

Each error carries the structured fields a caller may need (model name, path, line, flag) and a
`hint` that says what to do next. The CLI renders them through one table (`cli/errors.py`);
library code only raises. Unknown exceptions are bugs and keep their traceback.

Each class declares what it means outside Python: `exit_code` (the CLI exits with it) and
`http_status` (the server answers with it, in OpenAI's error shape, with `code` when set). A
subclass inherits both unless it says otherwise; `tests/test_errors.py` walks every subclass and
checks each pair is one the README documents.
"""

from __future__ import annotations

from pathlib import Path


class LlmpError(Exception):
    """Base class: a mistake the user can fix, with a hint for fixing it."""

    exit_code = 1
    http_status = 400
    code: str | None = None  # OpenAI's machine-readable error code, when there is one
    param: str | None = None  # the request field at fault, when there is one

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class ConfigError(LlmpError, ValueError):
    """A bad option, flag or config value."""

    exit_code = 2
    http_status = 400
    code = "invalid_value"

    def __init__(self, field: str, problem: str, hint: str | None = None):
        self.field = field
        self.param = field
        self.problem = problem
        super().__init__(f"{field}: {problem}", hint)


class ModelNotFoundError(LlmpError, LookupError):
    exit_code = 3
    http_status = 404
    code = "model_not_found"

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


class PathError(LlmpError):
    """A file or folder that cannot be used. The message is `PATH: problem`; `path` and
    `problem` stay apart for callers. The subclasses below say which kind of file it is."""

    def __init__(self, path: str | Path, problem: str, hint: str | None = None):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}", hint)


class ModelFormatError(PathError, ValueError):
    """A model file or folder that cannot be used: corrupt, truncated, or not a model."""

    exit_code = 4
    http_status = 400

    def __init__(self, path: str | Path, problem: str, hint: str | None = None):
        super().__init__(
            path, problem,
            hint
            or "The file may be truncated or corrupt. Download it again (`llmp download` resumes "
            "and verifies), or import a different file.",
        )


class BaseModelError(ModelFormatError):
    """A base model (no chat template): it continues text but cannot take chat turns."""

    code = "base_model"
    param = "messages"

    def __init__(self, name: str, path: str | Path):
        self.name = name
        super().__init__(
            path,
            f"'{name}' is a base model (it has no chat template), so it cannot chat.",
            f"Let it continue text instead: `llmp complete {name} \"Once upon a time\"`, "
            f"`llmp chat {name} --raw`, or POST /v1/completions. To chat, use an instruct model "
            "(or fine-tune this one with `llmp train`).",
        )


class ModelExistsError(LlmpError, FileExistsError):
    exit_code = 3
    http_status = 409

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"A model named '{name}' is already registered.",
            "Choose another name with `--name`, or remove the old one first.",
        )


class EngineMissingError(LlmpError, ImportError):
    """An optional engine is not installed."""

    exit_code = 5
    http_status = 501

    def __init__(self, engine: str, install: str, reason: str | None = None):
        self.engine = engine
        self.install = install
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"The '{engine}' engine is not installed{detail}.", f"Install it with: {install}"
        )


class EngineUnsupportedError(LlmpError, ValueError):
    """The chosen engine cannot run this kind of model."""

    exit_code = 5
    http_status = 400

    def __init__(self, engine: str, model: str, problem: str, hint: str):
        self.engine = engine
        self.model = model
        super().__init__(f"Engine '{engine}' cannot run model '{model}': {problem}", hint)


class ChatFileError(LlmpError, OSError):
    exit_code = 2
    http_status = 400

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}", "Pick a path in a folder you can write to.")


class HubError(LlmpError):
    """A model download problem. Partial files stay on disk, so the next run resumes."""

    exit_code = 1
    http_status = 502

    def __init__(self, repo_id: str, message: str, hint: str | None = None, source: str = "hf"):
        self.repo_id = repo_id
        self.source = source
        super().__init__(message, hint)


# How each hub takes a token: the hint after a refusal names the hub's own setting.
TOKEN_HINTS = {
    "hf": "pass --token T or set HF_TOKEN",
    "modelscope": "pass --token T or set MODELSCOPE_API_TOKEN (an access token from modelscope.cn/my/myaccesstoken)",
    "openxlab": "set OPENXLAB_AK and OPENXLAB_SK (your OpenXLab access key and secret key), "
                "or pass a JWT with --token T / OPENXLAB_TOKEN",
}


class RepoNotFoundError(HubError, LookupError):
    exit_code = 3
    http_status = 404

    def __init__(self, repo_id: str, source: str = "hf", endpoint: str = "", detail: str = ""):
        self.endpoint = endpoint
        self.detail = detail
        super().__init__(
            repo_id,
            f"Repository '{repo_id}' was not found on {endpoint or source}{f' ({detail})' if detail else ''}.",
            "Check the spelling (OWNER/NAME) and --source. A private repository also reads as "
            f"missing without a token: {TOKEN_HINTS.get(source, TOKEN_HINTS['hf'])}.",
            source,
        )


class RevisionNotFoundError(HubError, LookupError):
    exit_code = 3
    http_status = 404

    def __init__(self, repo_id: str, revision: str, source: str = "hf"):
        self.revision = revision
        super().__init__(
            repo_id,
            f"Revision '{revision}' of '{repo_id}' was not found.",
            "Pass an existing branch, tag or commit with --revision (the default is main).",
            source,
        )


class HubAuthError(HubError, PermissionError):
    """A gated or private repository that needs (another) token."""

    exit_code = 6
    http_status = 403

    def __init__(self, repo_id: str, problem: str, source: str = "hf"):
        self.problem = problem
        super().__init__(
            repo_id,
            f"Access to '{repo_id}' was refused: {problem}",
            f"Accept the model's conditions on its page if it is gated, then "
            f"{TOKEN_HINTS.get(source, TOKEN_HINTS['hf'])}.",
            source,
        )


class HubUnreachableError(HubError, ConnectionError):
    exit_code = 7
    http_status = 502

    def __init__(self, repo_id: str, endpoints: list[str], problem: str, source: str = "hf"):
        self.endpoints = endpoints
        self.problem = problem
        tried = ", ".join(endpoints)
        hint = (
            "Try a mirror: --mirror hf-mirror (https://hf-mirror.com), or list mirrors to try in "
            "order in LLMP_HF_MIRRORS (comma-separated). Files already downloaded are kept."
            if source == "hf"
            else "Check the network or pass another --endpoint. Files already downloaded are kept."
        )
        super().__init__(repo_id, f"Could not reach the hub for '{repo_id}' ({tried}): {problem}", hint, source)


class HubReplyError(HubError):
    """The hub answered, but not with what its API promises: an error code inside an HTTP 200,
    a body that is not JSON, an envelope without the expected fields."""

    exit_code = 8
    http_status = 502

    def __init__(self, repo_id: str, source: str, endpoint: str, problem: str, request_id: str | None = None):
        self.endpoint = endpoint
        self.problem = problem
        self.request_id = request_id
        trace = f" (request id {request_id})" if request_id else ""
        super().__init__(
            repo_id,
            f"{endpoint} could not serve '{repo_id}': {problem}{trace}",
            "Try again later; if it persists, the hub's API may have changed: report it with the "
            "request id. Files already downloaded are kept.",
            source,
        )


class DownloadError(HubError, OSError):
    """One file could not be fetched or did not verify; what is on disk is kept for resume."""

    exit_code = 8
    http_status = 502

    def __init__(self, repo_id: str, path: str, problem: str, hint: str | None = None):
        self.path = path
        self.problem = problem
        super().__init__(
            repo_id,
            f"{repo_id}: {path}: {problem}",
            hint or "Run the same `llmp download` command again: it resumes from the bytes on disk.",
        )


class DiskFullError(DownloadError):
    exit_code = 8
    http_status = 507

    def __init__(self, repo_id: str, path: str, needed: int, free: int):
        self.needed = needed
        self.free = free
        super().__init__(
            repo_id,
            path,
            f"not enough disk space: {needed / 2**20:,.1f} MiB still to fetch, {free / 2**20:,.1f} MiB free.",
            "Free some space or pass --local-dir on a bigger disk, then run the command again; "
            "partial files are kept and resume.",
        )


class DownloadInterruptedError(HubError):
    exit_code = 130
    http_status = 499

    def __init__(self, repo_id: str, done_bytes: int):
        self.done_bytes = done_bytes
        super().__init__(
            repo_id,
            f"Download of '{repo_id}' interrupted ({done_bytes / 2**20:,.1f} MiB on disk).",
            "Run the same command again to resume from the bytes already on disk.",
        )


class IntegrityError(HubError, ValueError):
    """`llmp models verify` found files that do not match what the hub published."""

    exit_code = 8
    http_status = 409

    def __init__(self, repo_id: str, bad: list[tuple[str, str]]):
        self.bad = bad
        listing = "; ".join(f"{path}: {problem}" for path, problem in bad)
        super().__init__(
            repo_id,
            f"{len(bad)} file(s) of '{repo_id}' failed verification: {listing}",
            f"Download them again: `llmp download {repo_id}` fetches only missing or changed files "
            "(delete the damaged ones first).",
        )


class PromptFileError(LlmpError, ValueError):
    """A prompt file (YAML formula or plain text) or a compare inputs file that cannot be used."""

    exit_code = 2
    http_status = 400

    def __init__(self, path: str | Path, problem: str, hint: str | None = None,
                 line: int | None = None, field: str | None = None):
        self.path = Path(path) if path != "-" else Path("<stdin>")
        self.problem = problem
        self.line = line
        self.field = field
        where = f"{self.path}:{line}" if line else str(self.path)
        what = f" field '{field}':" if field else ""
        super().__init__(f"{where}:{what} {problem}", hint)


class PromptVariableError(LlmpError, ValueError):
    """`{variables}` missing at render time, or given but not used by the prompt."""

    exit_code = 2
    http_status = 400

    def __init__(self, prompt: str, missing: list[str], unused: list[str], declared: list[str]):
        self.prompt = prompt
        self.missing = missing
        self.unused = unused
        parts = []
        if missing:
            parts.append("missing value for " + ", ".join(f"{{{v}}}" for v in missing))
        if unused:
            parts.append("not used by the prompt: " + ", ".join(unused))
        known = ", ".join(declared) if declared else "none"
        example = " ".join(f"--var {v}=..." for v in missing) or "--var NAME=VALUE"
        super().__init__(
            f"Prompt '{prompt}': " + "; ".join(parts) + ".",
            f"The prompt's variables are: {known}. Pass each with {example}.",
        )


class PromptNotFoundError(LlmpError, LookupError):
    exit_code = 3
    http_status = 404

    def __init__(self, name: str, available: list[str]):
        from difflib import get_close_matches

        self.name = name
        self.available = available
        close = get_close_matches(name, available, n=1)
        guess = f"Did you mean '{close[0]}'? " if close else ""
        super().__init__(
            f"No prompt template named '{name}' (and no such file).",
            f"{guess}Templates: {', '.join(available)}. `llmp prompt list` describes them; "
            "pass a path to use your own YAML or text prompt.",
        )


class EndpointError(LlmpError, ConnectionError):
    """An OpenAI-compatible endpoint that cannot be reached or answers with an error."""

    exit_code = 7
    http_status = 502

    def __init__(self, url: str, problem: str, hint: str | None = None):
        self.url = url
        self.problem = problem
        super().__init__(
            f"{url}: {problem}",
            hint or "Check that the server is running and that --base-url ends with /v1 "
            "(for example http://127.0.0.1:8000/v1).",
        )


class DatasetFormatError(LlmpError, ValueError):
    """A dataset record (or whole file) that cannot be read or does not fit the stage."""

    exit_code = 4
    http_status = 400

    def __init__(self, path: str | Path, line: int | None, field: str | None, problem: str,
                 hint: str | None = None):
        self.path = Path(path)
        self.line = line
        self.field = field
        self.problem = problem
        where = f"{self.path}:{line}" if line else f"{self.path}"
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {problem}", hint)


class ModelNotServedError(LlmpError, LookupError):
    """A request names a model this server does not serve."""

    exit_code = 3
    http_status = 404
    code = "model_not_found"
    param = "model"

    def __init__(self, name: str | None, served: list[str]):
        self.name = name
        self.served = served
        super().__init__(f"The model '{name}' is not served here. Served: {', '.join(served) or 'none'}.",
                         "Send one of the served names (GET /v1/models lists them).")


class QueueFullError(LlmpError):
    """Every generation slot is busy and every waiting place is taken."""

    exit_code = 1
    http_status = 429
    code = "queue_full"

    def __init__(self, waiting: int):
        self.waiting = waiting
        super().__init__(
            f"The server is busy: {waiting} requests are already waiting.",
            "Retry in a moment, or start the server with a larger --queue / --parallel.",
        )


class DeadlineError(LlmpError, TimeoutError):
    """A request waited for a generation slot past the server's --timeout."""

    exit_code = 1
    http_status = 503
    code = "timeout"

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"The request waited {seconds:g} s for a free slot, the server's --timeout.",
                         "Retry later, or start the server with a larger --parallel or --timeout.")


class ServerStoppingError(LlmpError):
    """The server is shutting down (SIGTERM or Ctrl-C): live and waiting generations end with it."""

    exit_code = 1
    http_status = 503
    code = "server_shutting_down"

    def __init__(self):
        super().__init__("The server is shutting down; this answer was cut short.",
                         "Retry when the server is back.")


class LossyConversionError(LlmpError, ValueError):
    """A dataset conversion whose target cannot hold everything; nothing was written."""

    exit_code = 4
    http_status = 400

    def __init__(self, target: str, read: int, losses: dict[str, int], skipped: dict[str, int]):
        self.target = target
        self.read = read
        self.losses = dict(losses)
        self.skipped = dict(skipped)
        lines = [f"{n} records: {what}" for what, n in self.losses.items()]
        lines += [f"{n} records cannot be written: {why}" for why, n in self.skipped.items()]
        super().__init__(
            f"Converting to {target} would lose data ({read} records read); nothing was "
            "written:\n  " + "\n  ".join(lines),
            "Pick a target format that holds these fields (`llmp data formats`), or pass --lossy "
            "to write what fits.")


class RunError(LlmpError, ValueError):
    """A training run folder that cannot be used yet: missing, unfinished, failed, incomplete."""

    exit_code = 4
    http_status = 400

    def __init__(self, run: str, problem: str, hint: str | None = None):
        self.run = run
        self.problem = problem
        super().__init__(f"Run '{run}': {problem}", hint)


class ExportError(LlmpError, RuntimeError):
    """A model that cannot be exported the way asked (architecture llama.cpp cannot convert, ...).

    Nothing is left at the target path when this is raised."""

    exit_code = 4
    http_status = 400

    def __init__(self, target: str | Path, problem: str, hint: str | None = None):
        self.target = str(target)
        self.problem = problem
        super().__init__(f"{target}: {problem}", hint)


class RunFolderError(PathError, FileExistsError):
    """A training output folder that holds another run (or nothing to resume)."""

    exit_code = 9
    http_status = 409


class MemoryBudgetError(LlmpError):
    """The memory estimate for a training run exceeds what this machine has free."""

    exit_code = 10
    http_status = 400

    def __init__(self, needed: float, free: float, where: str, hint: str):
        self.needed = needed
        self.free = free
        super().__init__(f"this run needs about {needed / 1e9:.1f} GB but {where} has {free / 1e9:.1f} GB free", hint)


class TrainingStoppedError(LlmpError):
    """Ctrl-C during training: a checkpoint was saved; `--resume` continues."""

    exit_code = 130
    http_status = 499

    def __init__(self, path: str | Path, step: int):
        self.path = Path(path)
        self.step = step
        super().__init__(f"training stopped at step {step}; a checkpoint is saved in {self.path}",
                         "Continue with the same command plus --resume.")


class KnowledgeBaseNotFoundError(LlmpError, LookupError):
    exit_code = 3
    http_status = 404
    code = "kb_not_found"

    def __init__(self, name: str, available: list[str]):
        self.name = name
        self.available = available
        super().__init__(
            f"Unknown knowledge base '{name}'. Knowledge bases: {', '.join(available) or 'none yet'}.",
            f"Create it with `llmp kb create {name}`; `llmp kb list` shows what is here.",
        )


class KnowledgeBaseExistsError(LlmpError, FileExistsError):
    exit_code = 3
    http_status = 409

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"Knowledge base '{name}' already exists.",
                         f"Add files with `llmp kb add {name} PATHS`, or `llmp kb drop {name}` first.")


class KnowledgeBaseBusyError(LlmpError, RuntimeError):
    """Another process is changing the same knowledge base."""

    exit_code = 9
    http_status = 409

    def __init__(self, name: str, holder: str):
        self.name = name
        super().__init__(f"Knowledge base '{name}' is being changed by another process ({holder}).",
                         "Wait for that `llmp kb add` to finish, then run your command again.")


class DocumentLoadError(PathError, ValueError):
    """A file that cannot be turned into text: unsupported, empty, corrupt, encrypted, scanned, too big."""

    exit_code = 4
    http_status = 400


class NoDocumentsError(LlmpError, ValueError):
    """`kb add` found nothing it can read under the paths it was given."""

    exit_code = 4
    http_status = 400

    def __init__(self, paths: list[str], problem: str, hint: str | None = None):
        self.paths = paths
        super().__init__(f"{', '.join(paths)}: {problem}", hint)


class TourFailedError(LlmpError):
    """`llmp tour`: one or more steps failed; the report holds their output."""

    exit_code = 1
    http_status = 400

    def __init__(self, failed: list[str], report):
        self.failed = list(failed)
        self.report = report
        super().__init__(f"Tour steps failed: {', '.join(self.failed)}.",
                         f"Open {report} for each step's command and output.")
