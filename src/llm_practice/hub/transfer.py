"""Fetch one file so that an interruption of any kind costs at most one read block.

Why our own HTTP here: huggingface_hub (2.x) downloads into a process-unique
`<etag>.<random>.incomplete` file, so after `kill -9` the next process starts that file from zero.
We keep one partial per file at a fixed place (`<root>/.llmp-partial/<path>.part`), next to a small
JSON note of what the hub promised (sha256 / git sha1 / size). The next run, whatever process it
is, hashes the bytes already there, asks for the rest with an HTTP `Range` request and appends.
The file moves to its final path (`os.replace`, same folder tree so it is atomic) only after its
size and hash match; a partial or corrupt file never appears at the final path.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import DiskFullError, DownloadError, HubAuthError
from .files import READ_BLOCK, FileHasher, RemoteFile, check_file, needs_sha1, safe_target

PARTIAL_DIR = ".llmp-partial"
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
MIN_RATE = 1024  # bytes/s: slower than this over a whole `timeout` window is a stalled body
MAX_STALLS = 2  # a hub that trickles three times in a row will not get better


class Progress(Protocol):
    def file_started(self, path: str, total: int | None, done: int) -> None: ...
    def advanced(self, path: str, n: int) -> None: ...
    def file_finished(self, path: str, status: str) -> None: ...


class NullProgress:
    def file_started(self, path: str, total: int | None, done: int) -> None:
        pass

    def advanced(self, path: str, n: int) -> None:
        pass

    def file_finished(self, path: str, status: str) -> None:
        pass


class Interrupted(Exception):
    """Raised inside a worker when the user stopped the download (Ctrl-C)."""


@dataclass
class FileResult:
    path: str
    size: int
    status: str  # "present", "downloaded", "resumed"
    fetched: int  # bytes received over the network in this run


def partial_paths(root: Path, remote: RemoteFile) -> tuple[Path, Path]:
    part = safe_target(root / PARTIAL_DIR, remote.path + ".part")
    return part, part.with_name(part.name + ".json")


def local_state(root: Path, remote: RemoteFile) -> tuple[str, int]:
    """('present' | 'partial' | 'missing', bytes on disk) without touching the network."""
    final = safe_target(root, remote.path)
    if final.is_file() and (remote.size is None or final.stat().st_size == remote.size):
        return "present", final.stat().st_size
    part, note = partial_paths(root, remote)
    if part.is_file() and _note_matches(note, remote):
        return "partial", part.stat().st_size
    return "missing", 0


def _note_matches(note: Path, remote: RemoteFile) -> bool:
    try:
        return json.loads(note.read_text(encoding="utf-8")).get("identity") == remote.identity
    except (OSError, ValueError):
        return False


class Fetcher:
    """Fetches files of one repository with a shared HTTP client; safe to use from threads."""

    def __init__(self, client, repo_id: str, headers: dict[str, str], progress: Progress,
                 stop: threading.Event, retries: int = 6, resolve_url=None, timeout: float = 30.0,
                 refresh_url=None, source: str = "hf"):
        self.client = client  # a requests.Session
        self.refresh_url = refresh_url  # a fresh signed URL for a file, after one 403
        self.source = source
        self.timeout = timeout
        self.repo_id = repo_id
        self.headers = headers
        self.progress = progress
        self.stop = stop
        self.retries = retries
        self.resolve_url = resolve_url

    def fetch(self, root: Path, remote: RemoteFile) -> FileResult:
        """One process at a time per file: a second `llmp download` of the same repo waits here
        instead of appending to the same partial, then finds the file present."""
        from filelock import FileLock

        part, _ = partial_paths(root, remote)
        lock_path = part.with_name(part.name + ".lock")
        lock = FileLock(str(lock_path))
        for _ in range(10):  # another process may remove the empty partial folder meanwhile
            part.parent.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire()
                break
            except FileNotFoundError:
                continue
        try:
            return self._fetch_locked(root, remote)
        finally:
            lock.release()
            lock_path.unlink(missing_ok=True)

    def _fetch_locked(self, root: Path, remote: RemoteFile) -> FileResult:
        final = safe_target(root, remote.path)
        state, on_disk = local_state(root, remote)
        if state == "present":
            self.progress.file_started(remote.path, remote.size, on_disk)
            self.progress.file_finished(remote.path, "present")
            return FileResult(remote.path, on_disk, "present", 0)
        part, note = partial_paths(root, remote)
        part.parent.mkdir(parents=True, exist_ok=True)
        if state != "partial":
            part.write_bytes(b"")
            _write_note(note, remote)
        resumed = on_disk > 0
        hasher = FileHasher(remote.size, needs_sha1(remote))
        if remote.size is not None and on_disk > remote.size:  # longer than promised: start over
            part.write_bytes(b"")
            on_disk = 0
        on_disk = hasher.feed_file(part, on_disk)
        self.progress.file_started(remote.path, remote.size, on_disk)
        fetched = 0
        for attempt in range(2):  # a second full try only when the finished bytes were wrong
            fetched += self._stream(remote, part, hasher, on_disk)
            size = part.stat().st_size
            problem = check_file(remote, size, hasher)
            if problem is None:
                _fsync(part)  # the bytes reach the disk before the name does (power loss, restart)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, final)
                note.unlink(missing_ok=True)
                self.progress.file_finished(remote.path, "resumed" if resumed else "downloaded")
                return FileResult(remote.path, size, "resumed" if resumed else "downloaded", fetched)
            # Corrupt bytes: drop them so no later run trusts them, then fetch once more from zero.
            part.write_bytes(b"")
            hasher, on_disk = FileHasher(remote.size, needs_sha1(remote)), 0
            self.progress.file_started(remote.path, remote.size, 0)
        note.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
        raise DownloadError(
            self.repo_id, remote.path, f"the downloaded bytes do not match the hub: {problem}.",
            "The hub or a proxy served different content. Try again later or use another "
            "--endpoint / --mirror.",
        )

    def _stream(self, remote: RemoteFile, part: Path, hasher: FileHasher, offset: int) -> int:
        """Append the rest of the file to `part`, retrying dropped connections from where they stopped.

        Two promises hold against a hostile or broken hub: nothing past the advertised size is
        ever written (the read stops there; without a listed size, at Content-Length), and a body
        that trickles (under MIN_RATE bytes/s over `timeout` seconds) is cut and retried, not
        waited on forever (a read timeout alone never fires while one byte a second arrives).
        """
        import requests
        import urllib3

        # raw reads raise urllib3's own errors (a broken or timed-out body), not requests' wrappers
        dropped = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                   urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)
        fetched = 0
        failures = stalls = 0
        refreshed = False
        url = remote.url or self.resolve_url(remote)
        while True:
            if remote.size is not None and offset >= remote.size:
                return fetched
            # identity: a resumed range must be the file's own bytes, never a compressed body
            headers = dict(self.headers) | {"Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            try:
                with self.client.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
                    status = response.status_code
                    if status == 416 and offset:  # already complete (size unknown)
                        return fetched
                    if status in (401, 403) and self.refresh_url and not refreshed:
                        url, refreshed = self.refresh_url(remote), True  # a signed URL expired: once
                        continue
                    if status in (401, 403):
                        raise HubAuthError(self.repo_id, f"HTTP {status} for {remote.path}", self.source)
                    if status in RETRYABLE_STATUS:
                        raise _Retry(f"HTTP {status}")
                    if status >= 400:
                        raise DownloadError(self.repo_id, remote.path, f"HTTP {status} from {url}")
                    if offset and status == 200:  # the server ignored Range: start this file over
                        hasher.reset()
                        offset = 0
                        mode = "wb"
                    else:
                        mode = "ab"
                    limit = _limit(remote.size, response, offset)
                    with part.open(mode) as f:
                        window_start, window_bytes = time.monotonic(), 0
                        while limit is None or offset < limit:
                            # read1: whatever has arrived (up to one block), so the checks below
                            # run while a trickling body is still coming in.
                            want = READ_BLOCK if limit is None else min(READ_BLOCK, limit - offset)
                            block = response.raw.read1(want)
                            if not block:
                                break
                            if self.stop.is_set():
                                raise Interrupted()
                            _write(f, block, self.repo_id, remote, part)
                            hasher.update(block)
                            offset += len(block)
                            fetched += len(block)
                            window_bytes += len(block)
                            failures = 0
                            self.progress.advanced(remote.path, len(block))
                            elapsed = time.monotonic() - window_start
                            if elapsed >= self.timeout:
                                if window_bytes < MIN_RATE * elapsed:
                                    stalls += 1
                                    raise _Retry(f"stalled: {window_bytes} bytes in {elapsed:.0f} s")
                                window_start, window_bytes = time.monotonic(), 0
                    if limit is not None and offset < limit:  # short of the size promised
                        raise _Retry("connection closed early")
                    return fetched
            except (_Retry, *dropped) as e:
                failures += 1
                if failures > self.retries or stalls > MAX_STALLS:
                    raise DownloadError(
                        self.repo_id, remote.path,
                        f"gave up after {failures - 1} retries ({e or type(e).__name__}); "
                        f"{offset} bytes kept on disk.",
                    ) from None
                self._sleep(min(0.2 * 2**failures, 8.0))

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Interrupted()


class _Retry(Exception):
    pass


def _limit(size: int | None, response, offset: int) -> int | None:
    """The offset to stop reading at: the listed size, else what this response says it holds."""
    if size is not None:
        return size
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _write(f, block: bytes, repo_id: str, remote: RemoteFile, part: Path) -> None:
    try:
        f.write(block)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            import shutil

            raise DiskFullError(repo_id, remote.path, (remote.size or 0) - part.stat().st_size,
                                shutil.disk_usage(part.parent).free) from e
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_note(note: Path, remote: RemoteFile) -> None:
    from ..atomic import atomic_write_json

    atomic_write_json(note, {"identity": remote.identity, "size": remote.size, "started": time.time()})
