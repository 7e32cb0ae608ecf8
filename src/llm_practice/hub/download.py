"""`download_model`: list a repository, fetch the chosen files resumably, verify, register.

Example:
    from llm_practice.hub import DownloadRequest, download_model
    result = download_model(DownloadRequest(repo_id="HuggingFaceTB/SmolLM2-135M-Instruct"))
    print(result.path)  # LLMP_HOME/models/HuggingFaceTB--SmolLM2-135M-Instruct

Files land in `LLMP_HOME/models/<org--repo>/` (or `--local-dir`); a `llmp-files.json` record of
what the hub published (sizes, hashes) sits next to the model's manifest under
`LLMP_HOME/registry/<org~repo>/`, where no downloaded file can land, so `llmp models verify` can
re-check the files later and a hub cannot rewrite our registry.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from ..atomic import atomic_write_json
from ..errors import (
    ConfigError,
    DiskFullError,
    DownloadInterruptedError,
    IntegrityError,
    ModelExistsError,
)
from ..models.registry import (
    FILES_RECORD,
    MANIFEST,
    REGISTRY_DIR,
    ModelInfo,
    download_dir,
    get_model,
    list_models,
    model_dir,
    write_manifest,
)
from ..settings import get_settings
from ..workflow import Source
from .files import RemoteFile, RepoListing, check_listing, check_path, safe_target, select_files
from .transfer import PARTIAL_DIR, FileResult, Fetcher, Interrupted, NullProgress, Progress, local_state


class DownloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repo_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    files: tuple[str, ...] = ()
    source: Source = "hf"
    revision: str = "main"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    local_dir: Path | None = None
    endpoint: str | None = None
    mirror: str | None = None
    token: str | None = None
    dry_run: bool = False
    max_workers: int = Field(default=8, ge=1, le=64)
    timeout: float = Field(default=30.0, gt=0)


@dataclass
class PlannedFile:
    path: str
    size: int | None
    state: str  # "present", "partial", "missing"
    on_disk: int


@dataclass
class DownloadResult:
    repo_id: str
    source: str
    endpoint: str
    revision: str
    commit: str | None
    root: Path
    path: Path  # what was registered: the folder, or the one GGUF file
    name: str | None  # the registered model name (None for --dry-run)
    files: list[PlannedFile] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the hub could not promise

    @property
    def fetched_bytes(self) -> int:
        return sum(r.fetched for r in self.results)

    def to_json(self) -> dict:
        return {
            "repo_id": self.repo_id, "source": self.source, "endpoint": self.endpoint,
            "revision": self.revision, "commit": self.commit, "path": str(self.path),
            "name": self.name, "dry_run": self.name is None, "seconds": round(self.seconds, 3),
            "fetched_bytes": self.fetched_bytes, "notes": self.notes,
            "files": [
                {"path": f.path, "size": f.size, "state": f.state, "on_disk": f.on_disk}
                | next(({"status": r.status, "fetched": r.fetched} for r in self.results
                        if r.path == f.path), {})
                for f in self.files
            ],
        }


def _list_hf(client, request: DownloadRequest) -> RepoListing:
    from .huggingface import candidate_endpoints, list_hf

    endpoints = candidate_endpoints(request.endpoint, request.mirror)
    return list_hf(request.repo_id, request.revision, request.token, endpoints)


def _list_modelscope(client, request: DownloadRequest) -> RepoListing:
    from .modelscope import list_modelscope

    return list_modelscope(client, request.repo_id, request.revision, request.token,
                           _single_endpoint(request))


def _list_openxlab(client, request: DownloadRequest) -> RepoListing:
    from .openxlab import list_openxlab

    return list_openxlab(client, request.repo_id, request.revision, request.token,
                         _single_endpoint(request))


def _single_endpoint(request: DownloadRequest) -> str | None:
    if request.mirror:
        raise ConfigError("--mirror", f"mirrors are for Hugging Face, not --source {request.source}.",
                          "Pass --endpoint URL instead.")
    return request.endpoint


LISTERS: dict[str, Callable[[object, DownloadRequest], RepoListing]] = {
    "hf": _list_hf,
    "modelscope": _list_modelscope,
    "openxlab": _list_openxlab,
}


def target_root(request: DownloadRequest) -> Path:
    """The download folder; one repository per folder, and never our registry."""
    if "--" in request.repo_id:  # org--repo folders: 'a--b/c' and 'a/b--c' would share one
        raise ConfigError("REPO", f"'{request.repo_id}' contains '--', which repository ids cannot hold.",
                          "Check the spelling: REPO looks like OWNER/NAME.")
    own = download_dir(request.repo_id)
    if not request.local_dir:
        return own
    root = Path(request.local_dir).expanduser().resolve()
    settings = get_settings()
    registry = (settings.home / REGISTRY_DIR).resolve()
    models = settings.models_dir.resolve()
    if root.is_relative_to(registry) or (root.is_relative_to(models) and root != own.resolve()):
        raise ConfigError("--local-dir", f"{root} is inside {settings.home}, where llmp keeps other models "
                          "and its registry.", f"Leave --local-dir out (files go to {own}) or pick a "
                          "folder outside LLMP_HOME.")
    return root


def _check_name_free(repo_id: str) -> None:
    """A download registers REPO as a name: refuse it when an import or plugin already holds it."""
    ours = model_dir(repo_id)
    if (ours / MANIFEST).is_file() and (ours / FILES_RECORD).is_file():
        return  # an earlier download of this repository: adding files to it is fine
    if any(m.name == repo_id or repo_id in m.aliases for m in list_models()):
        raise ModelExistsError(repo_id)


def plan(root: Path, files: list[RemoteFile]) -> list[PlannedFile]:
    return [PlannedFile(f.path, f.size, *local_state(root, f)) for f in files]


def download_model(request: DownloadRequest, progress: Progress | None = None,
                   on_listing: Callable[[RepoListing, list[PlannedFile]], None] | None = None) -> DownloadResult:
    """Download (or, with dry_run, only plan) a repository; see the module docstring."""
    import requests

    progress = progress or NullProgress()
    root = target_root(request)
    if not request.dry_run:
        _check_name_free(request.repo_id)
    started = time.perf_counter()
    # requests, not httpx, for bodies: on this machine httpx streams ~150 MB/s, requests ~1 GB/s.
    with requests.Session() as client:
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=request.max_workers + 2)
        client.mount("http://", adapter)
        client.mount("https://", adapter)
        listing = LISTERS[request.source](client, request)
        chosen = select_files(listing, request.files, request.include, request.exclude)
        if not chosen:
            raise ConfigError("--include", f"no files of {request.repo_id} match the filters.",
                              "Run with --dry-run and without --include/--exclude to see the files.")
        check_listing(request.repo_id, chosen)  # before any byte is written
        planned = plan(root, chosen)
        result = DownloadResult(request.repo_id, listing.source, listing.endpoint, listing.revision,
                                listing.commit, root, _registered_path(root, chosen), None, planned,
                                notes=list(listing.notes))
        if on_listing:
            on_listing(listing, planned)
        if request.dry_run:
            result.seconds = time.perf_counter() - started
            return result
        _check_space(request.repo_id, root, planned)
        result.results = _fetch_all(client, listing, chosen, root, request.max_workers, progress,
                                    request.timeout)
    _cleanup_partials(root)
    result.name = _register(request, listing, chosen, result.path, root)
    result.seconds = time.perf_counter() - started
    return result


def _fetch_all(client, listing: RepoListing, files: list[RemoteFile], root: Path, workers: int,
               progress: Progress, timeout: float) -> list[FileResult]:
    stop = threading.Event()
    fetcher = Fetcher(client, listing.repo_id, listing.headers, progress, stop,
                      resolve_url=listing.resolve_url, timeout=timeout,
                      refresh_url=listing.refresh_url, source=listing.source)
    root.mkdir(parents=True, exist_ok=True)
    # Large files first, so the long transfers start early and small ones fill the gaps.
    ordered = sorted(files, key=lambda f: -(f.size or 0))
    pool = ThreadPoolExecutor(max_workers=min(workers, len(ordered)), thread_name_prefix="llmp-dl")
    futures = [pool.submit(fetcher.fetch, root, f) for f in ordered]
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when="FIRST_EXCEPTION")
            if any(f.exception() for f in done):
                stop.set()
                break
    except KeyboardInterrupt:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise DownloadInterruptedError(listing.repo_id, _bytes_on_disk(root, files)) from None
    pool.shutdown(wait=True, cancel_futures=True)
    for f in futures:
        if not f.cancelled() and f.exception() and not isinstance(f.exception(), Interrupted):
            raise f.exception()
    return [f.result() for f in futures]


def _bytes_on_disk(root: Path, files: list[RemoteFile]) -> int:
    return sum(local_state(root, f)[1] for f in files)


def _check_space(repo_id: str, root: Path, planned: list[PlannedFile]) -> None:
    needed = sum((p.size or 0) - p.on_disk for p in planned if p.state != "present")
    probe = root
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if needed > free:
        biggest = max(planned, key=lambda p: p.size or 0)
        raise DiskFullError(repo_id, biggest.path, needed, free)


def _cleanup_partials(root: Path) -> None:
    """Remove the now-empty partial folders (anything still inside belongs to a later resume)."""
    partial = root / PARTIAL_DIR
    if partial.is_dir():
        for folder in sorted((p for p in partial.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
        if not any(partial.iterdir()):
            partial.rmdir()


def _registered_path(root: Path, files: list[RemoteFile]) -> Path:
    if len(files) == 1 and files[0].path.lower().endswith(".gguf"):
        return safe_target(root, files[0].path)
    return root


def _register(request: DownloadRequest, listing: RepoListing, files: list[RemoteFile], path: Path,
              root: Path) -> str:
    name = request.repo_id
    fmt = "gguf" if path.is_file() else "hf"
    info = ModelInfo(name=name, path=path, format=fmt, source=f"{listing.source}:{request.repo_id}",
                     description=f"{listing.endpoint} @ {listing.commit or listing.revision}")
    write_manifest(info)
    record = {
        "repo_id": request.repo_id, "source": listing.source, "endpoint": listing.endpoint,
        "revision": listing.revision, "commit": listing.commit, "root": str(root),
        "files": [f.record() for f in _merge_record(name, files)],
    }
    atomic_write_json(model_dir(name) / FILES_RECORD, record, indent=2)
    return name


def _merge_record(name: str, files: list[RemoteFile]) -> list[RemoteFile]:
    """Keep files recorded by earlier downloads of the same repo (e.g. another --include)."""
    merged = {f.path: f for f in _read_record(name)[1]}
    merged.update({f.path: f for f in files})
    return sorted(merged.values(), key=lambda f: f.path)


def _read_record(name: str) -> tuple[Path | None, list[RemoteFile]]:
    record = model_dir(name) / FILES_RECORD
    if not record.is_file():
        return None, []
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        return Path(data["root"]), [RemoteFile(**f) for f in data["files"]]
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError("NAME", f"the download record {record} is damaged ({type(e).__name__}: {e}).",
                          f"Download the model again with `llmp download {name}`.") from None


@dataclass
class VerifyReport:
    name: str
    root: Path
    checked: list[tuple[str, str]]  # (path, "ok" or the problem)


def verify_model(name: str) -> VerifyReport:
    """Re-hash a downloaded model's files against what the hub published; raise if any differ."""
    info = get_model(name)
    root, files = _read_record(info.name)
    if root is None:
        raise ConfigError("NAME", f"'{info.name}' ({info.source}) has no download record to verify against.",
                          "Only models fetched with `llmp download` can be verified.")
    checked = [(f.path, check_path(f, safe_target(root, f.path)) or "ok") for f in files]
    bad = [(p, problem) for p, problem in checked if problem != "ok"]
    if bad:
        raise IntegrityError(info.name, bad)
    return VerifyReport(info.name, root, checked)
