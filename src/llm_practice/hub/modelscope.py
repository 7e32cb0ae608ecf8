"""ModelScope: list a repository the way the official SDK does, so downloads work where it works.

Why not the SDK: `modelscope` installs cleanly, but it downloads with its own temp files and
would still leave resume-after-kill and verify-before-rename to us. What it sends, read from
its source (modelscope 1.40 / modelscope-hub 0.5, `_legacy_api.py`, `api.py`, `config.py`):

- site: `MODELSCOPE_ENDPOINT` (or the deprecated `MODELSCOPE_DOMAIN`, or `--endpoint`) is used
  as given; otherwise the repository is looked up on modelscope.cn, then modelscope.ai
  (`MODELSCOPE_PREFER_AI_SITE=true` reverses the order), as `resolve_endpoint_for_read` does.
- auth: the token goes out as `Authorization: Bearer T` *and* as the cookie `m_session_id=T`
  (the `/api/v1` endpoints authenticate by that cookie).
- `GET /api/v1/models/{id}` (does it exist), `GET /api/v1/models/{id}/revisions`
  (`Data.RevisionMap.Branches/Tags[].Revision`) to check `--revision` before listing.
- `GET /api/v1/models/{id}/repo/files?Revision=R&Recursive=True[&Root=DIR]` ->
  `{"Code": 200, "Success": true, "Data": {"Files": [{"Path", "Type": "blob"|"tree", "Size",
  "Sha256"}]}}`. The server cuts every listing at 3000 entries without saying so; a listing of
  that length is re-walked per folder (`Recursive=False` to see a level, then `Root=` per folder).
- An HTTP 200 whose `Code` is not 200 or whose `Success` is false is an error, as is a body
  that is not JSON. 429 and 5xx are retried with backoff (honouring `Retry-After`).
- `GET /api/v1/models/{id}/repo?Revision=R&FilePath=P` serves the bytes (Range works).
"""

from __future__ import annotations

import re
import time
from urllib.parse import quote_plus

from ..errors import (
    HubAuthError,
    HubReplyError,
    HubUnreachableError,
    RepoNotFoundError,
    RevisionNotFoundError,
)
from ..settings import get_settings
from .files import RemoteFile, RepoListing

CN_SITE = "https://modelscope.cn"  # the SDK's DEFAULT_ENDPOINT
AI_SITE = "https://www.modelscope.ai"  # and DEFAULT_INTL_ENDPOINT
LISTING_CAP = 3000  # REPO_FILES_TRUNCATION_LIMIT
MAX_LISTINGS = 5000  # REPO_TREE_MAX_REQUESTS: the walk's request budget
RETRIES = 3
COMMIT_RE = re.compile(r"^[0-9a-f]{7,40}$")


class _Missing(Exception):
    """404 (or a not-found code): the caller decides whether that is the repo or the revision."""


def sites(endpoint: str | None) -> list[str]:
    """Where to look for a repository, in order: an explicit endpoint alone, else both sites."""
    settings = get_settings()
    chosen = endpoint or settings.modelscope_endpoint
    if chosen:
        return [chosen.rstrip("/") if "://" in chosen else f"https://{chosen.strip('/')}"]
    return [AI_SITE, CN_SITE] if settings.modelscope_prefer_ai else [CN_SITE, AI_SITE]


def auth_headers(token: str | None) -> dict[str, str]:
    headers = {"User-Agent": "llm-practice"}
    if token:
        headers |= {"Authorization": f"Bearer {token}", "Cookie": f"m_session_id={token}"}
    return headers


class _Api:
    """The JSON calls of one site, with the SDK's envelope rules and retries."""

    def __init__(self, client, repo_id: str, endpoint: str, headers: dict[str, str]):
        self.client, self.repo_id, self.endpoint, self.headers = client, repo_id, endpoint, headers
        self.base = f"{endpoint}/api/v1/models/{repo_id}"
        self.calls = 0

    def get(self, suffix: str = "", params: dict | None = None):
        import requests

        self.calls += 1
        for attempt in range(RETRIES + 1):
            try:
                r = self.client.get(self.base + suffix, params=params, headers=self.headers, timeout=30)
            except (requests.ConnectionError, requests.Timeout) as e:
                raise HubUnreachableError(self.repo_id, [self.endpoint], type(e).__name__, "modelscope") from e
            if r.status_code in (429, 500, 502, 503, 504) and attempt < RETRIES:
                time.sleep(_retry_after(r.headers.get("Retry-After"), attempt))
                continue
            return self._data(r)
        raise HubUnreachableError(self.repo_id, [self.endpoint], f"HTTP {r.status_code} after {RETRIES} retries",
                                  "modelscope")

    def _data(self, r):
        try:
            body = r.json()
        except ValueError:
            body = None
        message = str((body or {}).get("Message") or (body or {}).get("message") or "") if isinstance(body, dict) else ""
        request_id = (body.get("RequestId") if isinstance(body, dict) else None) or r.headers.get("X-Request-Id")
        if r.status_code in (401, 403):
            raise HubAuthError(self.repo_id, f"HTTP {r.status_code} from {self.endpoint}"
                               + (f": {message}" if message else "."), "modelscope")
        if r.status_code == 404:
            raise _Missing(message)
        if r.status_code >= 500:
            raise HubUnreachableError(self.repo_id, [self.endpoint], f"HTTP {r.status_code}", "modelscope")
        if not isinstance(body, dict):
            kind = r.headers.get("Content-Type", "no content type")
            raise HubReplyError(self.repo_id, "modelscope", self.endpoint,
                                f"HTTP {r.status_code} with a body that is not JSON ({kind})", request_id)
        code = body.get("Code", 200)
        if r.status_code >= 400 or body.get("Success") is False or str(code) != "200":
            if str(code) == "404":
                raise _Missing(message)
            raise HubReplyError(self.repo_id, "modelscope", self.endpoint,
                                f"HTTP {r.status_code} carrying error Code {code}: {message or 'no message'}",
                                request_id)
        return body.get("Data")


def _retry_after(value: str | None, attempt: int) -> float:
    try:
        return min(float(value), 8.0) if value else min(0.5 * 2**attempt, 8.0)
    except ValueError:
        return min(0.5 * 2**attempt, 8.0)


def list_modelscope(client, repo_id: str, revision: str, token: str | None,
                    endpoint: str | None) -> RepoListing:
    revision = "master" if revision == "main" else revision  # ModelScope's default branch
    token = token or get_settings().modelscope_token
    headers = auth_headers(token)
    tried: list[str] = []
    for site in sites(endpoint):
        api = _Api(client, repo_id, site, headers)
        try:
            api.get()  # the repository itself: missing here may mean "on the other site"
        except _Missing:
            tried.append(site)
            continue
        _check_revision(api, revision)
        try:
            entries = _list_all(api, revision)
        except _Missing as e:  # the repository exists (asked above): the revision does not
            if revision != "master":
                raise RevisionNotFoundError(repo_id, revision, "modelscope") from None
            raise RepoNotFoundError(repo_id, "modelscope", site, str(e)) from None
        files = [
            RemoteFile(
                path=f["Path"], size=f.get("Size"),
                url=f"{site}/api/v1/models/{repo_id}/repo?Revision={quote_plus(revision)}"
                    f"&FilePath={quote_plus(f['Path'])}",
                sha256=(f.get("Sha256") or "").lower() or None,
            )
            for f in entries if f.get("Type", "blob") != "tree" and f.get("Path")
        ]
        return RepoListing(repo_id=repo_id, source="modelscope", endpoint=site, revision=revision,
                           commit=None, files=files, headers=headers)
    raise RepoNotFoundError(repo_id, "modelscope", " or ".join(tried))


def _check_revision(api: _Api, revision: str) -> None:
    """Ask the revisions endpoint, not the server's wording, whether --revision exists."""
    if revision == "master":
        return
    data = api.get("/revisions")
    revision_map = (data.get("RevisionMap") or {}) if isinstance(data, dict) else {}
    known = [r.get("Revision") for r in (revision_map.get("Branches") or []) + (revision_map.get("Tags") or [])
             if isinstance(r, dict)]
    if revision not in known and not COMMIT_RE.match(revision):
        raise RevisionNotFoundError(api.repo_id, revision, "modelscope")


def _list(api: _Api, revision: str, root: str | None, recursive: bool) -> list[dict]:
    params = {"Revision": revision, "Recursive": str(recursive)}
    if root:
        params["Root"] = root
    data = api.get("/repo/files", params)
    entries = data if isinstance(data, list) else (data or {}).get("Files") or []
    if not isinstance(entries, list):
        raise HubReplyError(api.repo_id, "modelscope", api.endpoint, "the file listing has no Files list")
    return [e for e in entries if isinstance(e, dict)]


def _list_all(api: _Api, revision: str) -> list[dict]:
    """The whole tree, re-walked folder by folder where a listing came back at the 3000 cap."""
    collected: dict[str, dict] = {}
    pending: list[tuple[str | None, list[dict] | None]] = [(None, None)]
    while pending:
        root, known = pending.pop()
        subtree = known if known is not None else _list(api, revision, root, recursive=True)
        for e in subtree:
            collected.setdefault(e.get("Path", ""), e)
        if len(subtree) < LISTING_CAP:
            continue
        if api.calls >= MAX_LISTINGS:
            raise HubReplyError(api.repo_id, "modelscope", api.endpoint,
                                f"the file tree needs more than {MAX_LISTINGS} listings")
        level = _list(api, revision, root, recursive=False)
        for e in level:
            collected.setdefault(e.get("Path", ""), e)
        if len(level) >= LISTING_CAP:
            raise HubReplyError(api.repo_id, "modelscope", api.endpoint,
                                f"folder '{root or '/'}' holds {LISTING_CAP} or more entries, more than "
                                "ModelScope lists at once; the listing would be incomplete")
        pending.extend((e["Path"], None) for e in level if e.get("Type") == "tree" and e.get("Path"))
    collected.pop("", None)
    return list(collected.values())
