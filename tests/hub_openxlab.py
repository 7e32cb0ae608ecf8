"""The OpenXLab part of the local test hub, written from the official SDK's source (openxlab 0.1.3).

What the SDK sends and expects (`model/clients/openapi_client.py`, `xlab/clients/auth_client.py`,
`xlab/handler/user_token.py`, `model/handler/download_file.py`), not what our client does; the hub
is mounted where the SDK's base URL `https://openapi.openxlab.org.cn/api/v1` would be:

- `POST /sso-be/api/v1/open/auth {ak}` -> `{nonce, algorithm: "HmacSHA256"}`;
  `POST .../getJwt {ak, d}` with `d = base64(HMAC-SHA256(sk, nonce))` -> `{jwt, expiration,
  sso_uid, refresh_token, refresh_expiration}` ("%Y-%m-%d %H:%M:%S", Asia/Shanghai);
  `POST .../refreshJwt {ak, refresh_token}` -> the same fields.
- `POST /model-center/api/v1/cli/repository/getFileDownloadUrl {userName, repositoryName,
  modelNames, filePaths, clientFrom, ignore}` with `Authorization: <jwt>` (bare, optional) ->
  `{modelNames: {name: {url, fileName, hash}}, filePaths: {path: {url, fileName, hash}}}`.
- every reply nests two envelopes `{msgCode, msg, traceId, data: {msgCode, msg, traceId, data}}`,
  "10000" meaning success (both are checked by the SDK).
- the URLs are signed object-store URLs (`Expires`, `Signature`); an expired one is a 403 with
  an OSS-style XML body.

Assumptions (the SDK's source shows no codes but "10000"): business errors come inside the inner
envelope with HTTP 200; a rejected or expired JWT says "token invalid or expired"; an unknown
repository says "repository not exist". Weights (`.safetensors`, `.bin`, `.pth`, `.gguf`) are
listed under `modelNames` by their stem, everything else under `filePaths` by path.

Hub state: `hub.ox_keys` {ak: sk}; a private repository's `token` is the AK that owns it;
`hub.ox_jwt_ttl` seconds; `hub.ox_exchanges` counts auth/getJwt/refreshJwt calls;
`hub.ox_expired_once` {(repo_id, path)}: the first URL signed for that file is already expired;
`hub.ox_html`: answer every API call with an HTML page; `hub.ox_sign_calls` records (payload,
Authorization) of each getFileDownloadUrl call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from urllib.parse import quote

SHANGHAI = timezone(timedelta(hours=8))
WEIGHTS = (".safetensors", ".bin", ".pth", ".gguf")
SIGNING_KEY = b"local-object-store"

OX_ROUTES = [
    ("POST", re.compile(r"^/sso-be/api/v1/open/(?P<call>auth|getJwt|refreshJwt)$"), "ox_auth"),
    ("POST", re.compile(r"^/model-center/api/v1/cli/repository/getFileDownloadUrl$"), "ox_sign"),
    ("GET|HEAD", re.compile(r"^/oxl-objects/(?P<repo>[^/]+/[^/]+)/(?P<path>.+)$"), "ox_object"),
]


def _stamp(seconds: float) -> str:
    return (datetime.now(SHANGHAI) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def sampled_md5(data: bytes) -> str:
    """The SDK's `get_file_hash`: md5 of the first and last 64 bytes (whole file up to 128)."""
    h = hashlib.md5()
    if len(data) <= 128:
        h.update(data)
    else:
        h.update(data[:64])
        h.update(data[-64:])
        h.update(data[:64] + data[-64:])
    return h.hexdigest()


class OpenXLabRoutes:
    """Mixed into the hub's request handler."""

    def _ox_reply(self, data=None, code: str = "10000", msg: str = "success") -> None:
        if self.hub.ox_html:
            body = b"<html><body>502 Bad Gateway</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        trace = uuid.uuid4().hex
        inner = {"msgCode": code, "msg": msg, "traceId": trace, "data": data}
        self._json(200, {"msgCode": "10000", "msg": "success", "traceId": trace, "data": inner})

    def _ox_body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def ox_auth(self, method, call):
        body, hub = self._ox_body(), self.hub
        ak = str(body.get("ak", ""))
        with hub.lock:
            hub.ox_exchanges.append(call)
        if ak not in hub.ox_keys:
            return self._ox_reply(code="20011", msg="access key not exist")
        if call == "auth":
            nonce = secrets.token_hex(16)
            hub.ox_nonces[ak] = nonce
            return self._ox_reply({"nonce": nonce, "algorithm": "HmacSHA256"})
        if call == "getJwt":
            nonce = hub.ox_nonces.pop(ak, None)
            want = base64.b64encode(hmac.new(hub.ox_keys[ak].encode(), (nonce or "").encode(),
                                             "sha256").digest()).decode()
            if nonce is None or not hmac.compare_digest(want, str(body.get("d", ""))):
                return self._ox_reply(code="20012", msg="signature verification failed")
        elif hub.ox_refresh.get(str(body.get("refresh_token"))) != ak:
            return self._ox_reply(code="20013", msg="refresh token invalid")
        jwt = "eyJhbGciOiJIUzUxMiJ9." + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode()
        refresh = secrets.token_hex(16)
        hub.ox_jwts[jwt] = (ak, time.time() + hub.ox_jwt_ttl)
        hub.ox_refresh[refresh] = ak
        self._ox_reply({"jwt": jwt, "expiration": _stamp(hub.ox_jwt_ttl), "sso_uid": ak,
                        "refresh_token": refresh, "refresh_expiration": _stamp(7 * 86400)})

    def _ox_caller(self) -> tuple[str | None, bool]:
        """(the AK behind the Authorization JWT, whether a header was sent at all)."""
        jwt = self.headers.get("Authorization")
        if not jwt:
            return None, False
        ak, expires = self.hub.ox_jwts.get(jwt, (None, 0))
        return (ak if expires > time.time() else None), True

    def ox_sign(self, method):
        body, hub = self._ox_body(), self.hub
        hub.ox_sign_calls.append((body, self.headers.get("Authorization")))
        ak, sent = self._ox_caller()
        if sent and ak is None:
            return self._ox_reply(code="20003", msg="token invalid or expired, please login again")
        repo_id = f"{body.get('userName')}/{body.get('repositoryName')}"
        r = hub.repos.get(repo_id)
        if r is None or (r.token is not None and r.token != ak):
            return self._ox_reply(code="20001", msg="repository not exist")
        wanted_models, wanted_paths = body.get("modelNames"), body.get("filePaths")
        models, paths = {}, {}
        for path, f in r.files.items():
            stem = PurePosixPath(path).stem
            entry = {"url": self._ox_signed_url(r, path), "fileName": path,
                     "hash": sampled_md5(f.disk.read_bytes())}
            if path.endswith(WEIGHTS):
                if wanted_models is None and wanted_paths is None or stem in (wanted_models or []):
                    models[stem] = entry
            elif wanted_models is None and wanted_paths is None or path in (wanted_paths or []):
                paths[path] = entry
        self._ox_reply({"modelNames": models, "filePaths": paths})

    def _ox_signed_url(self, r, path: str) -> str:
        key = (r.repo_id, path)
        expires = int(time.time()) + 3600
        if key in self.hub.ox_expired_once:
            self.hub.ox_expired_once.discard(key)
            expires = int(time.time()) - 60
        signature = _signature(r.repo_id, path, expires)
        return f"{self.hub.url}/oxl-objects/{r.repo_id}/{quote(path)}?Expires={expires}&Signature={signature}"

    def ox_object(self, method, repo, path):
        r = self.hub.repos.get(repo)
        f = r.files.get(path) if r else None
        expires = int(self.query.get("Expires", "0") or 0)
        if f is None or not hmac.compare_digest(self.query.get("Signature", ""), _signature(repo, path, expires)):
            return self._oss_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
        if expires < time.time():
            return self._oss_error(403, "AccessDenied", "Request has expired.")
        self._send_file(method, r, f, {})

    def _oss_error(self, status: int, code: str, message: str) -> None:
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _signature(repo_id: str, path: str, expires: int) -> str:
    return hmac.new(SIGNING_KEY, f"{repo_id}|{path}|{expires}".encode(), "sha256").hexdigest()
