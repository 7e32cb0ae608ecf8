"""ModelScope: a small client for the two HTTP calls its SDK makes to download a model.

Why not the SDK: `modelscope` installs cleanly, but it downloads with its own temp files and
would still leave resume-after-kill and verify-before-rename to us; the two calls we need are
stable and documented by its source:

- `GET {endpoint}/api/v1/models/{id}/repo/files?Revision=R&Recursive=True`
  -> `{"Code": 200, "Data": {"Files": [{"Path", "Type": "blob"|"tree", "Size", "Sha256"}]}}`
- `GET {endpoint}/api/v1/models/{id}/repo?Revision=R&FilePath=P` -> the bytes (Range works).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from ..errors import HubAuthError, HubUnreachableError, RepoNotFoundError, RevisionNotFoundError
from ..settings import get_settings
from .files import RemoteFile, RepoListing


def list_modelscope(client, repo_id: str, revision: str, token: str | None,
                    endpoint: str | None) -> RepoListing:
    import requests

    endpoint = (endpoint or get_settings().modelscope_endpoint).rstrip("/")
    revision = "master" if revision == "main" else revision  # ModelScope's default branch
    token = token or get_settings().modelscope_token
    headers = {"User-Agent": "llm-practice"} | ({"Authorization": f"Bearer {token}"} if token else {})
    base = f"{endpoint}/api/v1/models/{quote(repo_id)}"
    try:
        r = client.get(f"{base}/repo/files", params={"Revision": revision, "Recursive": "True"},
                       headers=headers, timeout=30)
    except (requests.ConnectionError, requests.Timeout) as e:
        raise HubUnreachableError(repo_id, [endpoint], type(e).__name__, "modelscope") from e
    if r.status_code in (401, 403):
        raise HubAuthError(repo_id, f"HTTP {r.status_code} from {endpoint}.", "modelscope")
    if r.status_code >= 500:
        raise HubUnreachableError(repo_id, [endpoint], f"HTTP {r.status_code}", "modelscope")
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code == 404 or body.get("Code") == 404:
        message = str(body.get("Message", ""))
        if "revision" in message.lower():
            raise RevisionNotFoundError(repo_id, revision, "modelscope")
        raise RepoNotFoundError(repo_id, "modelscope", endpoint)
    files = [
        RemoteFile(
            path=f["Path"],
            size=f.get("Size"),
            url=f"{base}/repo?" + urlencode({"Revision": revision, "FilePath": f["Path"]}),
            sha256=f.get("Sha256") or None,
        )
        for f in (body.get("Data") or {}).get("Files", [])
        if f.get("Type", "blob") == "blob"
    ]
    return RepoListing(repo_id=repo_id, source="modelscope", endpoint=endpoint, revision=revision,
                       commit=None, files=files, headers=headers)
