"""What guards every route: the API key and the request body limit."""

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


class BodyLimitMiddleware:
    """Refuse request bodies over `limit` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.limit:
                return await self._reject(send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send):
        response = error_response(413, f"Request body too large (limit {self.limit} bytes).",
                                  code="body_too_large")
        await response({"type": "http"}, None, send)


class _TooLarge(Exception):
    pass
