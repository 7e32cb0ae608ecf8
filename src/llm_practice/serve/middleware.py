"""What guards every route: the API key, the Host header and the request body limit."""

from __future__ import annotations

import hmac

from fastapi import Request

from .responses import ApiError, error_response


async def require_key(request: Request) -> None:
    """A FastAPI dependency: 401 unless `Authorization: Bearer <key>` matches (constant time)."""
    key = request.app.state.config.api_key
    if not key:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise ApiError(401, "Missing or wrong API key. Send 'Authorization: Bearer <key>'.",
                       code="invalid_api_key")


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def allowed_hosts(bind: str, extra: list[str]) -> set[str] | None:
    """Host names a request may name: on a loopback bind only loopback names (and `extra`), so a
    web page on another site cannot reach the server through DNS rebinding; None: any host."""
    if bind in LOOPBACK_NAMES:
        return {*LOOPBACK_NAMES, *(h.lower() for h in extra)}
    return {h.lower() for h in extra} or None


def host_name(header: str) -> str:
    """`example.com:8000` -> `example.com`; `[::1]:8000` -> `::1`."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0].lower()
    return header.rsplit(":", 1)[0].lower() if header.count(":") == 1 else header.lower()


class HostCheckMiddleware:
    """Refuse requests whose Host header names a host this server does not answer to (400)."""

    def __init__(self, app, allowed: set[str]):
        self.app, self.allowed = app, allowed

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
            if host_name(host) not in self.allowed:
                response = error_response(400, f"Host '{host}' is not served here. Use one of: "
                                          f"{', '.join(sorted(self.allowed))}, or start the server with "
                                          f"--allowed-host {host_name(host) or 'NAME'}.", code="invalid_host")
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies over `limit` bytes with 413, whether or not Content-Length is sent.

    A body without Content-Length (chunked) is read up to the limit before the route sees it, so an
    oversized one is a 413, never a half-read body the route would report as malformed."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.limit:
                return await self._reject(scope, receive, send)
            return await self.app(scope, receive, send)  # the server holds a body to its length
        if headers.get(b"transfer-encoding", b"").lower() != b"chunked":
            return await self.app(scope, receive, send)
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.limit:
                return await self._reject(scope, receive, send)
            if not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope, receive, send):
        response = error_response(413, f"Request body too large (limit {self.limit} bytes).",
                                  code="body_too_large")
        await response(scope, receive, send)
