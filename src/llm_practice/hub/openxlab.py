"""OpenXLab: the model-center download protocol of the official SDK (openxlab 0.1.3), spoken directly.

Why not the SDK: it pins old requests, urllib3, setuptools, rich and more, so installing it
downgrades the rest of the stack. What it sends, read from its source (`model/clients/
openapi_client.py`, `model/handler/download_file.py`, `xlab/handler/user_token.py`,
`xlab/clients/auth_client.py`):

- base `https://openapi.openxlab.org.cn/api/v1` (`LLMP_OPENXLAB_ENDPOINT` or `--endpoint`).
- one call lists and signs everything: `POST {base}/model-center/api/v1/cli/repository/
  getFileDownloadUrl` with `{"userName": OWNER, "repositoryName": NAME, "modelNames": null,
  "filePaths": null, "clientFrom": "0", "ignore": null}`. The reply nests two envelopes, each with
  `msgCode` ("10000" is success), `msg` and `traceId`: `{msgCode, data: {msgCode, data:
  {modelNames: {NAME: {url, fileName, hash}}, filePaths: {PATH: {url, fileName, hash}}}}}`.
- auth: `Authorization: <jwt>` (no "Bearer"), no header at all when anonymous. The JWT comes from
  the access key / secret key pair (`OPENXLAB_AK`/`OPENXLAB_SK`, else the SDK's
  `~/.openxlab/config.json`): `POST {base}/sso-be/api/v1/open/auth {ak}` -> `{nonce, algorithm}`;
  `d = base64(HMAC_algorithm(sk, nonce))`; `POST .../getJwt {ak, d}` -> `{jwt, expiration,
  refresh_token, refresh_expiration}` (times are "%Y-%m-%d %H:%M:%S", Asia/Shanghai);
  `POST .../refreshJwt {ak, refresh_token}` renews it. We cache it under LLMP_HOME/cache/.
- the reply has no size and no sha256, and the kind of its `hash` is not documented (the SDK
  ignores it): files are checked against the Content-Length of their download only, and the
  output says so. A signed URL that has expired (403) is signed again once.
- no revisions: `--revision` is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..errors import ConfigError, HubAuthError, HubReplyError, HubUnreachableError, RepoNotFoundError
from ..settings import get_settings
from .files import RemoteFile, RepoListing

OK = "10000"
SIGN_PATH = "/model-center/api/v1/cli/repository/getFileDownloadUrl"
AUTH_PATH = "/sso-be/api/v1/open/"
SHANGHAI = timezone(timedelta(hours=8))  # the SDK's token times (pytz Asia/Shanghai, no DST)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NOT_FOUND_WORDS = ("not exist", "not found", "不存在")
AUTH_WORDS = ("token", "jwt", "auth", "login", "permission", "登录", "权限", "鉴权")
NOTE = ("OpenXLab publishes no size or sha256: files are checked against the size their "
        "download announces (Content-Length) only.")


class _Call:
    """POST one SDK call and unwrap its two `msgCode` envelopes."""

    def __init__(self, client, repo_id: str, endpoint: str):
        self.client, self.repo_id, self.endpoint = client, repo_id, endpoint

    def post(self, path: str, payload: dict, jwt: str | None = None, login: bool = False) -> dict:
        """The inner `data`; with `login`, any refusal is an auth error (the AK/SK exchange)."""
        import requests

        headers = {"Content-Type": "application/json", "accept": "application/json", "User-Agent": "llm-practice"}
        if jwt:
            headers["Authorization"] = jwt
        try:
            r = self.client.post(self.endpoint + path, json=payload, headers=headers, timeout=30)
        except (requests.ConnectionError, requests.Timeout) as e:
            raise HubUnreachableError(self.repo_id, [self.endpoint], type(e).__name__, "openxlab") from e
        try:
            body = r.json()
        except ValueError:
            body = None
        if r.status_code >= 500:
            raise HubUnreachableError(self.repo_id, [self.endpoint], f"HTTP {r.status_code}", "openxlab")
        outer = body if isinstance(body, dict) else {}
        inner = outer.get("data") if isinstance(outer.get("data"), dict) else {}
        failed = next((e for e in (outer, inner) if e and str(e.get("msgCode")) != OK), None)
        message = str((failed or outer).get("msg") or "")
        trace = (failed or outer).get("traceId") or outer.get("traceId")
        if r.status_code in (401, 403) or (failed and (login or any(w in message.lower() for w in AUTH_WORDS))):
            raise HubAuthError(self.repo_id, f"HTTP {r.status_code}, {message or 'no message'}"
                               + (f" (trace id {trace})" if trace else ""), "openxlab")
        if not isinstance(body, dict):
            raise HubReplyError(self.repo_id, "openxlab", self.endpoint, f"HTTP {r.status_code} with a body "
                                f"that is not JSON ({r.headers.get('Content-Type', 'no content type')})")
        if failed and any(w in message.lower() for w in NOT_FOUND_WORDS) or r.status_code == 404:
            raise RepoNotFoundError(self.repo_id, "openxlab", self.endpoint,
                                    f"{message or 'HTTP 404'}" + (f", trace id {trace}" if trace else ""))
        if failed or r.status_code >= 400 or not isinstance(inner.get("data"), dict):
            raise HubReplyError(self.repo_id, "openxlab", self.endpoint,
                                f"HTTP {r.status_code}, msgCode {(failed or inner or outer).get('msgCode')}: "
                                f"{message or 'no data in the reply'}", trace)
        return inner["data"]


def list_openxlab(client, repo_id: str, revision: str, token: str | None,
                  endpoint: str | None) -> RepoListing:
    if revision != "main":
        raise ConfigError("--revision", "OpenXLab repositories have no revisions to choose from.",
                          "Leave --revision out to download the repository as it is.")
    settings = get_settings()
    endpoint = (endpoint or settings.openxlab_endpoint).rstrip("/")
    call = _Call(client, repo_id, endpoint)
    jwt = token or settings.openxlab_token or _jwt(call)
    owner, name = repo_id.split("/", 1)
    payload = {"userName": owner, "repositoryName": name, "modelNames": None, "filePaths": None,
               "clientFrom": "0", "ignore": None}

    def signed() -> dict[str, dict]:
        data = call.post(SIGN_PATH, payload, jwt)
        entries: dict[str, dict] = {}
        for group in ("modelNames", "filePaths"):
            items = data.get(group) or {}
            for item in items.values() if isinstance(items, dict) else items:
                if isinstance(item, dict) and item.get("fileName") and item.get("url"):
                    entries.setdefault(item["fileName"], item)
        return entries

    def refresh_url(remote: RemoteFile) -> str:
        fresh = signed().get(remote.path)
        if fresh is None:
            raise HubReplyError(repo_id, "openxlab", endpoint, f"{remote.path} is no longer offered")
        return fresh["url"]

    files = [RemoteFile(path=path, size=None, url=item["url"]) for path, item in sorted(signed().items())]
    # The signed URLs need no auth header of ours; sending the JWT elsewhere would leak it.
    return RepoListing(repo_id=repo_id, source="openxlab", endpoint=endpoint, revision=revision,
                       commit=None, files=files, headers={"User-Agent": "llm-practice"},
                       refresh_url=refresh_url, notes=[NOTE])


def _keys() -> tuple[str, str] | None:
    """AK/SK from the environment, else from the SDK's config file (as `openxlab config` writes it)."""
    settings = get_settings()
    if settings.openxlab_ak and settings.openxlab_sk:
        return settings.openxlab_ak, settings.openxlab_sk
    config = Path.home() / ".openxlab" / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        return str(data["ak"]).strip(), str(data["sk"]).strip()
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _jwt(call: _Call) -> str | None:
    """A JWT for the AK/SK pair (cached, refreshed, re-issued), or None to go anonymous."""
    keys = _keys()
    if keys is None:
        return None
    ak, sk = keys
    key = hashlib.sha256(f"{call.endpoint}\n{ak}".encode()).hexdigest()[:16]  # one JWT per site and key
    cache = get_settings().cache_dir / "openxlab" / f"token-{key}.json"
    now = datetime.now(SHANGHAI)
    token = _read_token(cache)
    if token and _time(token.get("expiration")) - timedelta(seconds=30) > now:
        return token["jwt"]
    if token and token.get("refresh_token") and _time(token.get("refresh_expiration")) > now:
        token = call.post(AUTH_PATH + "refreshJwt", {"ak": ak, "refresh_token": token["refresh_token"]}, login=True)
    else:
        challenge = call.post(AUTH_PATH + "auth", {"ak": ak}, login=True)
        d = sign_nonce(sk, str(challenge.get("nonce", "")), str(challenge.get("algorithm", "")))
        token = call.post(AUTH_PATH + "getJwt", {"ak": ak, "d": d}, login=True)
    if not token.get("jwt"):
        raise HubAuthError(call.repo_id, "the AK/SK exchange returned no JWT.", "openxlab")
    _write_token(cache, token)
    return token["jwt"]


def sign_nonce(sk: str, nonce: str, algorithm: str) -> str:
    """The SDK's `calculate_d`: base64(HMAC(sk, nonce)), 'HmacSHA256' naming the hash."""
    name = (algorithm[4:] if algorithm.startswith("Hmac") else algorithm).lower()
    try:
        return base64.b64encode(hmac.new(sk.strip().encode(), nonce.encode(), name).digest()).decode()
    except ValueError as e:
        raise ConfigError("OPENXLAB_SK", f"OpenXLab asked for an unknown signature algorithm '{algorithm}'.") from e


def _time(value) -> datetime:
    try:
        return datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        return datetime.min.replace(tzinfo=SHANGHAI)  # unreadable: treat as expired


def _read_token(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) and data.get("jwt") else None
    except (OSError, ValueError):
        return None


def _write_token(path: Path, token: dict) -> None:
    from ..atomic import atomic_path

    with atomic_path(path) as tmp:
        os.chmod(tmp, 0o600)  # a credential: readable by its owner only
        tmp.write_text(json.dumps(token), encoding="utf-8")
