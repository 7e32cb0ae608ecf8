"""Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, for every route.

An `LlmpError` answers with the HTTP status its class declares (`errors.py`); `ApiError` is for
the few HTTP-only refusals (a missing key, an unparsable body).
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import LlmpError

# HTTP status -> OpenAI's error type
ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
               409: "conflict_error", 429: "rate_limit_error"}


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


class ApiError(Exception):
    """An HTTP-level refusal answered in OpenAI's error shape."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None):
        self.status, self.message, self.param, self.code = status, message, param, code


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": error_type(status), "param": param, "code": code}}


def error_response(status: int, message: str, param=None, code=None, headers=None) -> JSONResponse:
    return JSONResponse(error_body(status, message, param, code), status_code=status, headers=headers)


def llmp_error_body(error: LlmpError) -> dict:
    return error_body(error.http_status, str(error), error.param, error.code)


def sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _api_error(request: Request, exc: ApiError):
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, exc.message, exc.param, exc.code, headers)


async def _validation_error(request: Request, exc: RequestValidationError):
    errors = exc.errors() or [{"loc": (), "msg": "invalid request"}]
    # Of a union's errors ("not a string", "not a list"), our own check says most.
    first = next((e for e in errors if e.get("type") == "value_error"), errors[0])
    # pydantic names union members in the location ("function-after[...]"): not a field
    loc = [str(p) for p in first.get("loc", ()) if p != "body" and "[" not in str(p)]
    param = ".".join(loc) or None
    where = f" at '{param}'" if param else ""
    return error_response(400, f"Invalid request{where}: {first.get('msg')}.", param, "invalid_value")


async def _http_error(request: Request, exc: StarletteHTTPException):
    return error_response(exc.status_code, str(exc.detail))


async def _llmp_error(request: Request, exc: LlmpError):
    return JSONResponse(llmp_error_body(exc), status_code=exc.http_status)


async def _server_error(request: Request, exc: Exception):
    return error_response(500, f"Internal server error: {type(exc).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    handlers = {ApiError: _api_error, RequestValidationError: _validation_error,
                StarletteHTTPException: _http_error, LlmpError: _llmp_error, Exception: _server_error}
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
