"""The ModelScope part of the local test hub, written from the official SDK's source.

What modelscope 1.40 / modelscope-hub 0.5 send and expect (`_legacy_api.py`, `_openapi.py`,
`api.py`, `errors.py`, `_download.py`), not what our client does:

- `/api/v1/...` (the "legacy" surface) authenticates by the cookie `m_session_id=<token>`; the
  SDK also sends `Authorization: Bearer`, which these endpoints do not need. `/openapi/v1/...`
  authenticates by the Bearer header. A private repository without the right credential reads as
  missing (404), like the real hub.
- envelopes: legacy `{"Code": 200, "Success": true, "Data": ..., "RequestId": ...}`; OpenAPI
  `{"success": true, "data": ...}`; failures carry an HTTP status >= 400 (`raise_for_status`).
- `GET /openapi/v1/models/{owner}/{name}` and `GET /api/v1/models/{id}`: the existence probe of
  `resolve_endpoint_for_read` (site .cn, then .ai).
- `GET /api/v1/models/{id}/revisions`: `Data.RevisionMap.{Branches,Tags}[].Revision`.
- `GET /api/v1/models/{id}/repo/files?Revision&Recursive&Root`: blobs and trees, cut silently at
  3000 entries (REPO_FILES_TRUNCATION_LIMIT), `Root=` scopes to a folder, `Recursive=False` gives
  one level.
- `GET|HEAD /api/v1/models/{id}/repo?Revision&FilePath`: the bytes, with Range.

Faults (per repository, `hub.ms_faults[repo_id]`): `"code"` answers the listing with HTTP 200 and
an error `Code` (`Success: false`), `"html"` with an HTML page (a proxy or WAF), `"429"` with one
429 and `Retry-After: 0` first.
"""

from __future__ import annotations

import re
import uuid
from http.cookies import SimpleCookie

LISTING_CAP = 3000

MS_ROUTES = [
    ("GET", re.compile(r"^/openapi/v1/models/(?P<repo>[^/]+/[^/]+)$"), "ms_openapi_model"),
    ("GET", re.compile(r"^/api/v1/models/(?P<repo>[^/]+/[^/]+)$"), "ms_model"),
    ("GET", re.compile(r"^/api/v1/models/(?P<repo>[^/]+/[^/]+)/revisions$"), "ms_revisions"),
    ("GET", re.compile(r"^/api/v1/models/(?P<repo>[^/]+/[^/]+)/repo/files$"), "ms_files"),
    ("GET|HEAD", re.compile(r"^/api/v1/models/(?P<repo>[^/]+/[^/]+)/repo$"), "ms_file"),
]


class ModelScopeRoutes:
    """Mixed into the hub's request handler."""

    def _ms_session(self) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        return cookie["m_session_id"].value if "m_session_id" in cookie else None

    def _ms_repo(self, repo_id: str, surface: str = "legacy"):
        """The repository if it exists and the caller may see it, else None (a 404 was sent)."""
        r = self.hub.repos.get(repo_id)
        if surface == "legacy":
            allowed = r is not None and (r.token is None or self._ms_session() == r.token)
        else:
            allowed = r is not None and (r.token is None or self.headers.get("Authorization") == f"Bearer {r.token}")
        if allowed:
            return r
        if surface == "legacy":
            self._ms_reply(404, {"Code": 10010205001, "Message": "模型不存在", "Success": False})
        else:
            self._json(404, {"success": False, "code": "ResourceNotFound", "message": "model not found",
                             "request_id": uuid.uuid4().hex})
        return None

    def _ms_reply(self, status: int, body: dict) -> None:
        self._json(status, {"RequestId": uuid.uuid4().hex, **body})

    def _ms_revision_ok(self, r) -> bool:
        return self.query.get("Revision", "master") in ("master", r.commit, *r.tags)

    def ms_openapi_model(self, method, repo):
        r = self._ms_repo(repo, "openapi")
        if r:
            owner, name = repo.split("/")
            self._json(200, {"success": True, "data": {"id": repo, "owner": owner, "name": name,
                                                       "visibility": "private" if r.token else "public"}})

    def ms_model(self, method, repo):
        r = self._ms_repo(repo)
        if r:
            owner, name = repo.split("/")
            self._ms_reply(200, {"Code": 200, "Success": True, "Data": {"Path": owner, "Name": name}})

    def ms_revisions(self, method, repo):
        r = self._ms_repo(repo)
        if r:
            revision_map = {"Branches": [{"Revision": "master"}], "Tags": [{"Revision": t} for t in r.tags]}
            self._ms_reply(200, {"Code": 200, "Success": True, "Data": {"RevisionMap": revision_map}})

    def ms_files(self, method, repo):
        r = self._ms_repo(repo)
        if r is None:
            return
        fault = self.hub.ms_faults.get(repo)
        if fault == "code":
            return self._ms_reply(200, {"Code": 10010205002, "Message": "系统繁忙，请稍后再试 (busy)",
                                        "Success": False, "Data": None})
        if fault == "html":
            body = b"<html><body>Access denied by the firewall</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if fault == "429":
            self.hub.ms_faults.pop(repo)
            return self._json(429, {"Code": 429, "Message": "too many requests"}, {"Retry-After": "0"})
        if not self._ms_revision_ok(r):
            return self._ms_reply(404, {"Code": 10010205003, "Message": "revision not found", "Success": False})
        root = (self.query.get("Root") or "").strip("/")
        recursive = self.query.get("Recursive", "False").lower() == "true"
        entries = []
        for path, kind, f in _tree(r):
            if root and not path.startswith(root + "/"):
                continue
            depth = path[len(root) + 1:].count("/") if root else path.count("/")
            if recursive or depth == 0:
                entry = {"Name": path.rsplit("/", 1)[-1], "Path": path, "Type": kind}
                if f is not None:
                    entry |= {"Size": f.size, "Sha256": f.sha256, "Revision": r.commit}
                entries.append(entry)
        self._ms_reply(200, {"Code": 200, "Success": True, "Data": {"Files": entries[:LISTING_CAP]}})

    def ms_file(self, method, repo):
        r = self._ms_repo(repo)
        if r is None:
            return
        f = r.files.get(self.query.get("FilePath", ""))
        if f is None or not self._ms_revision_ok(r):
            return self._ms_reply(404, {"Code": 404, "Message": "file not found", "Success": False})
        self._send_file(method, r, f, {})


def _tree(repo):
    """(path, "blob" | "tree", file) for every file and folder, sorted by path like the hub."""
    folders = {"/".join(p.split("/")[:i]) for p in repo.files for i in range(1, p.count("/") + 1)}
    items = [(p, "tree", None) for p in folders] + [(p, "blob", f) for p, f in repo.files.items()]
    return sorted(items, key=lambda item: item[0])
