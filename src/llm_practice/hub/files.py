"""What a hub says about a repository: its files, their sizes and the hashes we verify against.

Every hub client (Hugging Face, ModelScope, OpenXLab) turns its own listing into a `RepoListing`;
everything after that (filtering, transfer, verification, registration) is hub-independent.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Callable

from ..errors import ConfigError, DownloadError

READ_BLOCK = 1 << 20  # 1 MiB: the unit we read, hash and write (and so the most a kill can lose)


@dataclass(frozen=True)
class RemoteFile:
    path: str  # POSIX path inside the repository
    size: int | None
    url: str = ""  # where to GET it; empty when the client resolves it lazily
    sha256: str | None = None  # published by the hub (HF LFS, ModelScope, OpenXLab)
    git_sha1: str | None = None  # HF blob id of a small (non-LFS) file: sha1("blob N\0" + data)

    @property
    def identity(self) -> str:
        """What must match for a partial file to be resumed: same content promised by the hub."""
        return self.sha256 or self.git_sha1 or f"size:{self.size}"

    def record(self) -> dict:
        data = asdict(self)
        data.pop("url")
        return data


@dataclass
class RepoListing:
    repo_id: str
    source: str  # "hf", "modelscope", "openxlab"
    endpoint: str  # the endpoint that answered (a mirror, maybe)
    revision: str
    commit: str | None
    files: list[RemoteFile] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # auth and user agent for file GETs
    resolve_url: Callable[[RemoteFile], str] | None = None  # for hubs that hand out URLs per file
    refresh_url: Callable[[RemoteFile], str] | None = None  # a new signed URL after a 403 (expired)
    notes: list[str] = field(default_factory=list)  # what the hub could not promise (no sha256, ...)


def select_files(listing: RepoListing, files: tuple[str, ...], include: tuple[str, ...],
                 exclude: tuple[str, ...]) -> list[RemoteFile]:
    """Apply FILES, --include and --exclude (shell globs, matched against the path and its name)."""
    known = {f.path: f for f in listing.files}
    if files:
        missing = [p for p in files if p not in known]
        if missing:
            sample = ", ".join(sorted(known)[:8])
            raise ConfigError(
                "FILES",
                f"{', '.join(missing)} not in {listing.repo_id}@{listing.revision}.",
                f"Files there include: {sample}. Use --include GLOB to pick by pattern.",
            )
        chosen = [known[p] for p in files]
    else:
        chosen = list(listing.files)

    def matches(path: str, globs: tuple[str, ...]) -> bool:
        name = PurePosixPath(path).name
        return any(fnmatch(path, g) or fnmatch(name, g) for g in globs)

    if include:
        chosen = [f for f in chosen if matches(f.path, include)]
    if exclude:
        chosen = [f for f in chosen if not matches(f.path, exclude)]
    return chosen


def safe_target(root: Path, path: str) -> Path:
    """The local path for a repository path, refusing anything that would escape `root`.

    Lexically (`..`, absolute paths) and through the file system: a symlink already inside
    `root` (say `--local-dir` holds `sub -> /elsewhere`) must not carry a write outside it.
    """
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts or "\0" in path:
        raise ConfigError("FILES", f"refusing the unsafe path {path!r} from the hub.")
    target = root.joinpath(*parts)
    real_root = root.resolve()
    if not target.parent.resolve().is_relative_to(real_root) or target.is_symlink():
        link = next((p for p in [*reversed(target.parents), target]
                     if p.is_relative_to(root) and p != root and p.is_symlink()), target)
        raise ConfigError("--local-dir", f"{path} would be written through the symlink {link} -> "
                          f"{os.readlink(link) if link.is_symlink() else '?'}, outside {root}.",
                          "Remove the link or download into another --local-dir.")
    return target


RESERVED = ".llmp-partial"  # our partial files' folder: no repository file may land inside it


def check_listing(repo_id: str, files: list[RemoteFile]) -> None:
    """Refuse file names no download can honour, before any byte is written.

    NUL and other control characters, backslashes, empty or `.`/`..` components, absolute paths,
    our own partial folder, and a file that is also a folder (`a` and `a/b`) are the hub's mistakes
    (or tricks): say which file, write nothing.
    """
    paths = {f.path for f in files}
    for f in files:
        name = f.path
        parts = name.split("/")
        problem = None
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            problem = "its name holds a control character (NUL, newline, ...)"
        elif "\\" in name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            problem = "its name is not a plain relative path"
        elif parts[0] == RESERVED:
            problem = f"{RESERVED}/ is where llmp keeps partial files"
        else:
            clash = next(("/".join(parts[:i]) for i in range(1, len(parts)) if "/".join(parts[:i]) in paths), None)
            if clash:
                problem = f"the repository also has a file named {clash!r}, so {clash!r} cannot be a folder too"
        if problem:
            raise DownloadError(repo_id, repr(name), f"refusing this file: {problem}.",
                                "Nothing was written. Pick the other files with --include/--exclude, "
                                "or report the repository to its owner.")


class FileHasher:
    """sha256 and the git blob sha1 of a file, fed block by block as it streams in."""

    def __init__(self, size: int | None, git_sha1: bool = True):
        self.size = size
        self.want_sha1 = git_sha1 and size is not None
        self.reset()

    def reset(self) -> None:
        self.sha256 = hashlib.sha256()
        self.sha1 = hashlib.sha1(f"blob {self.size}\0".encode()) if self.want_sha1 else None

    def update(self, block: bytes) -> None:
        self.sha256.update(block)
        if self.sha1 is not None:
            self.sha1.update(block)

    def feed_file(self, path: Path, limit: int | None = None) -> int:
        """Hash the first `limit` bytes already on disk (all when None); return the count."""
        done = 0
        with path.open("rb") as f:
            while limit is None or done < limit:
                block = f.read(READ_BLOCK if limit is None else min(READ_BLOCK, limit - done))
                if not block:
                    break
                self.update(block)
                done += len(block)
        return done


def needs_sha1(remote: RemoteFile) -> bool:
    """The git blob sha1 is only checked when no sha256 is published (small, non-LFS files)."""
    return bool(remote.git_sha1) and not remote.sha256


def check_file(remote: RemoteFile, size: int, hasher: FileHasher) -> str | None:
    """None when the bytes match what the hub published, else what is wrong."""
    if remote.size is not None and size != remote.size:
        return f"size {size} bytes, expected {remote.size}"
    if remote.sha256 and hasher.sha256.hexdigest() != remote.sha256:
        return f"sha256 {hasher.sha256.hexdigest()[:12]}..., expected {remote.sha256[:12]}..."
    if not remote.sha256 and remote.git_sha1 and hasher.sha1 and hasher.sha1.hexdigest() != remote.git_sha1:
        return f"git blob sha1 {hasher.sha1.hexdigest()[:12]}..., expected {remote.git_sha1[:12]}..."
    return None


def check_path(remote: RemoteFile, path: Path) -> str | None:
    """Re-hash a file on disk against the record (used by `llmp models verify`)."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        return f"size {size} bytes, expected {remote.size}"
    hasher = FileHasher(size, git_sha1=needs_sha1(remote))
    hasher.feed_file(path)
    return check_file(remote, size, hasher)
