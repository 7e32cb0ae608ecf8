"""OpenXLab: a small client for its model-center HTTP API.

Why not the SDK: `openxlab` 0.1.3 pins old requests, urllib3, setuptools, rich and more, so
installing it downgrades the rest of the stack. Its download is two steps, which we speak directly:

- list: `GET {endpoint}/api/v1/model-center/repositories/{owner}/{repo}/files`
  -> `{"msgCode": "10000", "data": {"list": [{"path", "size", "sha256"}]}}`
- sign: `POST {endpoint}/model-center/api/v1/cli/repository/getFileDownloadUrl`
  with `{"repositoryName": "owner/repo", "fileName": path}` -> `{"msgCode": "10000",
  "data": {"url": ...}}`; the signed URL then serves the bytes (Range works).

Authentication uses a bearer token (`--token` or `OPENXLAB_TOKEN`); the SDK's AK/SK exchange
is not implemented yet.
"""

from __future__ import annotations

from urllib.parse import quote

from ..errors import DownloadError, HubAuthError, HubUnreachableError, RepoNotFoundError
from ..settings import get_settings
from .files import RemoteFile, RepoListing

OK = "10000"
SIGN_PATH = "/model-center/api/v1/cli/repository/getFileDownloadUrl"


def list_openxlab(client, repo_id: str, revision: str, token: str | None,
                  endpoint: str | None) -> RepoListing:
    import requests

    endpoint = (endpoint or get_settings().openxlab_endpoint).rstrip("/")
    token = token or get_settings().openxlab_token
    headers = {"User-Agent": "llm-practice", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def call(method: str, url: str, **kwargs):
        try:
            r = client.request(method, url, headers=headers, timeout=30, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as e:
            raise HubUnreachableError(repo_id, [endpoint], type(e).__name__, "openxlab") from e
        if r.status_code in (401, 403):
            raise HubAuthError(repo_id, f"HTTP {r.status_code} from {endpoint}.", "openxlab")
        if r.status_code == 404:
            raise RepoNotFoundError(repo_id, "openxlab", endpoint)
        if r.status_code >= 500:
            raise HubUnreachableError(repo_id, [endpoint], f"HTTP {r.status_code}", "openxlab")
        body = r.json()
        if str(body.get("msgCode")) != OK:
            raise RepoNotFoundError(repo_id, "openxlab", endpoint)
        return body.get("data") or {}

    data = call("GET", f"{endpoint}/api/v1/model-center/repositories/{quote(repo_id)}/files")

    def resolve_url(remote: RemoteFile) -> str:
        signed = call("POST", endpoint + SIGN_PATH, json={"repositoryName": repo_id, "fileName": remote.path})
        if not signed.get("url"):
            raise DownloadError(repo_id, remote.path, "OpenXLab returned no download URL.")
        return signed["url"]

    files = [
        RemoteFile(path=f["path"], size=f.get("size"), sha256=f.get("sha256") or None)
        for f in data.get("list", [])
    ]
    # The signed URLs need no auth header of ours; sending the token elsewhere would leak it.
    return RepoListing(repo_id=repo_id, source="openxlab", endpoint=endpoint, revision=revision,
                       commit=None, files=files, headers={"User-Agent": "llm-practice"},
                       resolve_url=resolve_url)
