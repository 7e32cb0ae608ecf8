"""OpenAI's chat and text completion routes, and `/v1/models`.

Each route turns the request into messages and sampling settings, asks the generation service
(`generation.py`) to admit it, and writes the answer as one JSON object or as server-sent events.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ..errors import LlmpError
from .api_embeddings import EMBEDDING_MODEL, embedder_available
from .generation import Generation, GenerationService
from .kb_chat import KB_PREFIX, generate, ground
from .middleware import require_key
from .responses import ApiError, llmp_error_body, sse
from .schemas import ChatCompletionRequest, CompletionRequest

router = APIRouter(dependencies=[Depends(require_key)])

# kind -> (id prefix, endpoint, object of a full answer, object of a stream chunk)
KINDS = {
    "chat": ("chatcmpl-", "/v1/chat/completions", "chat.completion", "chat.completion.chunk"),
    "text": ("cmpl-", "/v1/completions", "text_completion", "text_completion"),
}


def _kb_models() -> list[str]:
    from ..rag.kb import list_kbs

    return [KB_PREFIX + name for name in list_kbs()]


@router.get("/v1/models")
async def list_models(request: Request):
    names = list(request.app.state.served) + ([EMBEDDING_MODEL] if embedder_available() else [])
    names += await asyncio.to_thread(_kb_models)
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0,
                                        "owned_by": "llm-practice"} for name in names]}


def _params(service: GenerationService, body, max_tokens: int | None, json_mode: bool = False):
    penalties = body.model_dump(include={"frequency_penalty", "presence_penalty", "repeat_penalty"},
                                exclude_none=True)
    return service.params(max_tokens=max_tokens, temperature=body.temperature, top_p=body.top_p,
                          seed=body.seed, stop=body.stop_list(), json_mode=json_mode, **penalties)


@router.post("/v1/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request):
    if body.model and body.model.startswith(KB_PREFIX):
        return await _kb_chat(body, request)
    service: GenerationService = request.app.state.generation
    target = service.pick(body.model)
    fmt = body.response_format.type if body.response_format else "text"
    params = _params(service, body, body.max_completion_tokens or body.max_tokens, fmt != "text")
    messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()}
                for m in body.messages]
    service.check_size(messages)
    generation = await service.start(target, lambda: target.engine.chat(messages, params),
                                     KINDS["chat"][1], param="response_format")
    return await _respond(request, body, generation, "chat")


async def _kb_chat(body: ChatCompletionRequest, request: Request):
    """`kb:NAME`: retrieve from the knowledge base, answer with the first served model, cite the
    passages; the answer carries a `sources` list (serve/kb_chat.py)."""
    service: GenerationService = request.app.state.generation
    params = _params(service, body, body.max_completion_tokens or body.max_tokens)
    conversation = [{"role": m.role, "content": m.text()} for m in body.messages]
    grounded = await asyncio.to_thread(ground, body.model[len(KB_PREFIX):], conversation)
    generation = await generate(request, grounded, None, body.model, KINDS["chat"][1], params)
    answer = _Answer(generation, "chat")
    answer.model, answer.extra = body.model, {"sources": grounded.sources}
    return await _respond(request, body, generation, "chat", answer)


@router.post("/v1/completions")
async def completions(body: CompletionRequest, request: Request):
    service: GenerationService = request.app.state.generation
    target = service.pick(body.model)
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    if len(prompts) != 1:
        raise ApiError(400, "Send exactly one prompt per request.", param="prompt")
    params = _params(service, body, body.max_tokens)
    service.check_size([{"content": prompts[0]}])
    generation = await service.start(target, lambda: target.engine.complete(prompts[0], params),
                                     KINDS["text"][1], param="model")
    return await _respond(request, body, generation, "text")


class _Answer:
    """Builds the JSON objects of one answer: full, chunk by chunk, and usage."""

    def __init__(self, generation: Generation, kind: str):
        prefix, _, self.full_object, self.chunk_object = KINDS[kind]
        self.generation, self.kind = generation, kind
        self.id = prefix + uuid.uuid4().hex[:24]
        self.created = int(time.time())
        self.model = generation.target.name
        self.extra: dict = {}  # fields beyond OpenAI's (a knowledge base's `sources`): full answer, first chunk
        self._first_chunk = True

    def _wrap(self, obj: str, choices: list) -> dict:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "choices": choices}

    def _choice(self, text: str | None, finish: str | None, full: bool) -> dict:
        if self.kind == "text":
            return {"index": 0, "text": text or "", "finish_reason": finish, "logprobs": None}
        key = "message" if full else "delta"
        content = {} if text is None else {"role": "assistant", "content": text}
        return {"index": 0, key: content, "finish_reason": finish, "logprobs": None}

    def chunk(self, delta: str | None, finish: str | None = None) -> dict:
        chunk = self._wrap(self.chunk_object, [self._choice(delta, finish, full=False)])
        if self._first_chunk:
            self._first_chunk = False
            chunk |= self.extra
        return chunk

    def usage(self) -> dict:
        s = self.generation.stream
        return {"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
                "total_tokens": s.prompt_tokens + s.completion_tokens,
                "prompt_tokens_details": {"cached_tokens": s.cached_tokens}}

    def usage_chunk(self) -> dict:
        return self._wrap(self.chunk_object, []) | {"usage": self.usage()}

    def full(self, text: str) -> dict:
        choice = self._choice(text, self.generation.finish_reason, full=True)
        return self._wrap(self.full_object, [choice]) | self.extra | {"usage": self.usage()}


async def _respond(request: Request, body, generation: Generation, kind: str, answer: _Answer | None = None):
    answer = answer or _Answer(generation, kind)
    if body.stream:
        # The slot is taken before the 200 goes out: a request that cannot get one is a 429 or
        # a 503 with a status code, never a 200 that ends in an error event.
        if not await _unless_gone(request, generation.admit()):
            return JSONResponse({}, status_code=499)
        include_usage = body.stream_options.include_usage if body.stream_options else True
        return _GenerationStream(generation, _events(answer, include_usage))
    text = await _unless_gone(request, generation.text())
    return JSONResponse({}, status_code=499) if text is None else answer.full(text)


class _GenerationStream(StreamingResponse):
    """Server-sent events of one generation, which ends (slot back) however the response ends,
    even when the client is gone before the first event."""

    def __init__(self, generation: Generation, events):
        super().__init__(events, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.generation = generation

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.generation.end("499")  # no-op when the events already ended it


async def _unless_gone(request: Request, work):
    """Await `work`; if the client hangs up first (while queued or generating), cancel it, which
    gives its place or slot back at once, and return None."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        gone.cancel()
        return task.result() if task.result() is not None else True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _events(answer: _Answer, include_usage: bool):
    """Server-sent events. A disconnect cancels this generator (Starlette listens for it); the
    generation's cleanup then closes the stream and frees the slot."""
    try:
        async for delta in answer.generation:
            yield sse(answer.chunk(delta))
        yield sse(answer.chunk(None, answer.generation.finish_reason))
        if include_usage:
            yield sse(answer.usage_chunk())
        yield "data: [DONE]\n\n"
    except LlmpError as e:
        yield sse(llmp_error_body(e))
