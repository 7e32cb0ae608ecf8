"""A local model hub on 127.0.0.1 for tests and benchmarks, with fault injection.

It speaks the subset of the Hugging Face API that huggingface_hub (and `hf download`) uses:
revision info with `sha` and `siblings` (sizes, LFS sha256, git blob ids with `?blobs=true`),
HEAD/GET `resolve` with ETag / X-Repo-Commit / Content-Length and Range; the error codes
(`X-Error-Code: RepoNotFound | RevisionNotFound | GatedRepo | EntryNotFound`). ModelScope and
OpenXLab are imitated as their official SDKs see them, in `hub_modelscope.py` and
`hub_openxlab.py` (written from the SDKs' source; each module says what it follows).

Faults, per file: `slow` (bytes per second), `drop_after` (close the connection after N body
bytes, once), `statuses` (answer these HTTP codes first, e.g. [503, 503]), `corrupt` (flip a
byte), `endless` (the file, then junk with no Content-Length). Every body byte the hub sends is counted in `served`.

Run it by hand: `python -m tests.hubserver DIR` serves a demo repo `test/tiny`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from .hub_modelscope import MS_ROUTES, ModelScopeRoutes
from .hub_openxlab import OX_ROUTES, OpenXLabRoutes

LFS_THRESHOLD = 10 * 1024  # files above this are "LFS" files (sha256 published)
BLOCK = 256 * 1024


@dataclass
class HubFile:
    path: str
    disk: Path
    size: int
    sha256: str
    git_sha1: str

    @property
    def lfs(self) -> bool:
        return self.size > LFS_THRESHOLD


@dataclass
class Repo:
    repo_id: str
    files: dict[str, HubFile]
    commit: str
    token: str | None = None  # required for everything (private) ...
    gated: bool = False  # ... or only for file bodies (gated)
    tags: tuple[str, ...] = ()  # ModelScope revisions besides master


@dataclass
class Fault:
    slow: float | None = None  # bytes per second
    drop_after: int | None = None  # one-shot
    statuses: list[int] = field(default_factory=list)
    corrupt: bool = False
    endless: bool = False  # after the file, random bytes with no Content-Length, until the client leaves


def file_hashes(path: Path) -> tuple[str, str]:
    size = path.stat().st_size
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(f"blob {size}\0".encode())
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha256.update(block)
            sha1.update(block)
    return sha256.hexdigest(), sha1.hexdigest()


class LocalHub:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.repos: dict[str, Repo] = {}
        self.faults: dict[tuple[str, str], Fault] = {}
        self.served: Counter = Counter()  # (repo_id, path) -> body bytes sent
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.ms_faults: dict[str, str] = {}  # repo_id -> "code" | "html" | "429" (see hub_modelscope)
        self.ox_keys: dict[str, str] = {}  # OpenXLab access key -> secret key (see hub_openxlab)
        self.ox_nonces: dict[str, str] = {}
        self.ox_jwts: dict[str, tuple[str, float]] = {}  # jwt -> (ak, expires at)
        self.ox_refresh: dict[str, str] = {}  # refresh token -> ak
        self.ox_jwt_ttl = 3600.0
        self.ox_exchanges: list[str] = []
        self.ox_expired_once: set[tuple[str, str]] = set()
        self.ox_html = False
        self.ox_sign_calls: list[tuple[dict, str | None]] = []  # (payload, Authorization header)

    # -- content ---------------------------------------------------------------------------
    def add_repo(self, repo_id: str, files: dict[str, bytes | int | Path], token: str | None = None,
                 gated: bool = False, seed: int = 0, tags: tuple[str, ...] = ()) -> Repo:
        """Files are given as bytes, as a size (random bytes are generated) or as a path to serve."""
        rng = random.Random(f"{repo_id}:{seed}")
        hub_files = {}
        for path, content in files.items():
            if isinstance(content, Path):
                disk = content
            else:
                # stored under a hash of the name: a repo may list names no file system takes
                # (a NUL), or both `a` and `a/b`
                disk = self.root / repo_id / hashlib.sha1(path.encode("utf-8", "surrogatepass")).hexdigest()
                disk.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, int):
                    with disk.open("wb") as f:
                        left = content
                        while left:
                            n = min(left, 1 << 22)
                            f.write(rng.randbytes(n))
                            left -= n
                else:
                    disk.write_bytes(content)
            sha256, sha1 = file_hashes(disk)
            hub_files[path] = HubFile(path, disk, disk.stat().st_size, sha256, sha1)
        commit = hashlib.sha1(json.dumps(sorted((p, f.sha256) for p, f in hub_files.items())).encode()).hexdigest()
        repo = Repo(repo_id, hub_files, commit, token, gated, tags)
        self.repos[repo_id] = repo
        return repo

    def fault(self, repo_id: str, path: str, **kwargs) -> Fault:
        fault = Fault(**kwargs)
        self.faults[(repo_id, path)] = fault
        return fault

    def served_bytes(self, repo_id: str, path: str | None = None) -> int:
        return sum(n for (r, p), n in self.served.items() if r == repo_id and (path is None or p == path))

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LocalHub":
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> "LocalHub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def dead_endpoint() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


ROUTES = [
    ("GET", re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$"), "hf_info"),
    ("GET", re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$"), "hf_tree"),
    ("GET|HEAD", re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"), "hf_resolve"),
    *MS_ROUTES,
    *OX_ROUTES,
]


class _Handler(ModelScopeRoutes, OpenXLabRoutes, BaseHTTPRequestHandler):
    hub: LocalHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self.hub.lock:
            self.hub.requests.append((method, url.path))
        for methods, pattern, name in ROUTES:
            m = pattern.match(unquote(url.path))
            if m and method in methods.split("|"):
                return getattr(self, name)(method, **m.groupdict())
        self._json(404, {"error": "no route"})

    # -- helpers ---------------------------------------------------------------------------
    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _authorised(self, repo: Repo) -> bool:
        return repo.token is None or self.headers.get("Authorization") == f"Bearer {repo.token}"

    def _hf_repo(self, repo_id: str, rev: str | None) -> Repo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None or (not repo.gated and not self._authorised(repo)):
            self._json(401 if repo else 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            return None
        if rev not in (None, "main", repo.commit):
            self._json(404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"})
            return None
        return repo

    # -- Hugging Face ----------------------------------------------------------------------
    def hf_info(self, method, repo, rev=None):
        r = self._hf_repo(repo, rev)
        if r is None:
            return
        blobs = self.query.get("blobs") in ("true", "True", "1")
        siblings = []
        for f in r.files.values():
            s = {"rfilename": f.path}
            if blobs:
                s |= {"size": f.size, "blobId": f.git_sha1 if not f.lfs else hashlib.sha1(f.sha256.encode()).hexdigest()}
                if f.lfs:
                    s["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": 134}
            siblings.append(s)
        self._json(200, {"_id": r.commit[:24], "id": r.repo_id, "modelId": r.repo_id, "sha": r.commit,
                         "private": r.token is not None and not r.gated, "gated": "manual" if r.gated else False,
                         "disabled": False, "tags": [], "siblings": siblings})

    def hf_tree(self, method, repo, rev, path=None):
        """`list_repo_tree` (what `hf download` uses to list a snapshot); flat, one page."""
        r = self._hf_repo(repo, rev)
        if r is None:
            return
        entries = []
        for f in r.files.values():
            e = {"type": "file", "path": f.path, "size": f.size,
                 "oid": f.git_sha1 if not f.lfs else hashlib.sha1(f.sha256.encode()).hexdigest()}
            if f.lfs:
                e["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": 134}
            entries.append(e)
        data = json.dumps(entries).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def hf_resolve(self, method, repo, rev, path):
        r = self._hf_repo(repo, rev)
        if r is None:
            return
        if r.gated and not self._authorised(r):
            return self._json(403, {"error": "gated"}, {"X-Error-Code": "GatedRepo"})
        f = r.files.get(path)
        if f is None:
            return self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        etag = f.sha256 if f.lfs else f.git_sha1
        extra = {"ETag": f'"{etag}"', "X-Repo-Commit": r.commit}
        if f.lfs:
            extra |= {"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(f.size)}
        self._send_file(method, r, f, extra)

    # -- bodies, ranges and faults ---------------------------------------------------------
    def _send_file(self, method: str, repo: Repo, f: HubFile, extra: dict) -> None:
        key = (repo.repo_id, f.path)
        fault = self.hub.faults.get(key) or Fault()
        if method == "GET" and fault.statuses:
            status = fault.statuses.pop(0)
            return self._json(status, {"error": f"injected {status}"})
        start, end = 0, f.size - 1
        ranged = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        if ranged:
            start = int(ranged.group(1))
            end = min(int(ranged.group(2)), end) if ranged.group(2) else end
            if start >= f.size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{f.size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        length = end - start + 1
        if method == "GET" and fault.endless:
            return self._send_endless(repo, f, start)
        self.send_response(206 if ranged else 200)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length),
                   "Accept-Ranges": "bytes", **extra}
        if ranged:
            headers["Content-Range"] = f"bytes {start}-{end}/{f.size}"
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if method == "HEAD":
            return
        drop_after, fault.drop_after = fault.drop_after, None
        sent = 0
        step = min(BLOCK, max(1, int(fault.slow / 20))) if fault.slow else 1 << 20
        with f.disk.open("rb") as src:
            src.seek(start)
            while sent < length:
                block = src.read(min(step, length - sent))
                if fault.corrupt and start + sent == 0:
                    block = bytes([block[0] ^ 0xFF]) + block[1:]
                if drop_after is not None and sent + len(block) > drop_after:
                    block = block[: drop_after - sent]
                try:
                    self.wfile.write(block)
                except OSError:  # the client went away (killed, interrupted)
                    self.close_connection = True
                    return
                sent += len(block)
                with self.hub.lock:
                    self.hub.served[key] += len(block)
                if drop_after is not None and sent >= drop_after:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault.slow:
                    time.sleep(len(block) / fault.slow)

    def _send_endless(self, repo: Repo, f: HubFile, start: int, cap: int = 64 << 20) -> None:
        """The file's bytes, then junk, close-delimited (no Content-Length): a body that never ends
        as far as the client can tell (capped at `cap` bytes so a broken client cannot hang a test)."""
        key = (repo.repo_id, f.path)
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        body = f.disk.read_bytes()[start:]
        junk = bytes(1 << 16)
        sent = 0
        try:
            while sent < cap:
                block = body if sent == 0 and body else junk
                self.wfile.write(block)
                sent += len(block)
                with self.hub.lock:
                    self.hub.served[key] += len(block)
        except OSError:
            return


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    hub = LocalHub(Path(sys.argv[1]))
    hub.add_repo("test/tiny", {"config.json": b'{"model_type": "llama"}', "model.safetensors": 8 << 20})
    with hub:
        print(hub.url, flush=True)
        threading.Event().wait()
