"""The `openai` engine: any OpenAI-compatible server as a `ChatEngine`, through the `openai` SDK.

`llmp serve`, vLLM, Ollama, llama.cpp's server and the cloud APIs all speak this protocol, so the
REPL, `prompt compare`, RAG and evaluation reach them the same way they reach a local model:

    engine = connect("http://127.0.0.1:8000/v1")          # model: the first of GET /models
    print(engine.chat([{"role": "user", "content": "Hi"}], GenerationParams()).text())
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import EndpointError
from ..models.registry import ModelInfo, remote_model
from .engine import ChatEngine, ChatStream, GenerationParams, Message

# HTTP status -> what to do about it
_STATUS_HINTS = {
    401: "Pass the server's key with --api-key.",
    403: "Pass a key that may use this model with --api-key.",
    404: "Check the model name (GET /v1/models lists them) and that --base-url ends with /v1.",
    429: "The server is busy: retry in a moment.",
}


def connect(base_url: str, model: str | None = None, api_key: str | None = None,
            timeout: float = 600.0) -> "OpenAIEngine":
    """An engine for `model` at `base_url` (default: the first model the server lists)."""
    base_url = base_url.rstrip("/")
    client = _client(base_url, api_key, timeout)
    if model is None:
        model = _first_model(client, base_url)
    return OpenAIEngine(remote_model(base_url, model), api_key=api_key, timeout=timeout, client=client)


def _client(base_url: str, api_key: str | None, timeout: float):
    from openai import OpenAI

    # A local server without a key ignores the header; the SDK insists on some value.
    return OpenAI(base_url=base_url, api_key=api_key or "no-key", timeout=timeout, max_retries=0)


def _first_model(client, base_url: str) -> str:
    models = _call(base_url + "/models", lambda: client.models.list().data)
    chat = [m.id for m in models if "embed" not in m.id and "e5" not in m.id]
    if not chat:
        raise EndpointError(base_url + "/models", "the server lists no chat model.",
                            "Pass the model name as MODEL (or --model).")
    return chat[0]


def _call(url: str, request):
    """Run one SDK call; its errors become `EndpointError`s that say what to do."""
    import openai

    try:
        return request()
    except openai.APIStatusError as e:
        message = getattr(e, "message", None) or str(e)
        raise EndpointError(url, f"HTTP {e.status_code}: {message}", _STATUS_HINTS.get(e.status_code)) from e
    except openai.APIConnectionError as e:
        raise EndpointError(url, f"cannot connect ({e.__class__.__name__}: {e}).") from e
    except openai.APIError as e:
        raise EndpointError(url, f"{e.__class__.__name__}: {e}") from e


class OpenAIEngine(ChatEngine):
    name = "openai"

    def __init__(self, model: ModelInfo, *, api_key: str | None = None, timeout: float = 600.0,
                 client=None, threads: int | None = None, context: int = 4096):
        super().__init__(model, threads=1, context=context)
        self.base_url = (model.url or "").rstrip("/")
        self.client = client or _client(self.base_url, api_key, timeout)

    def chat(self, messages: list[Message], params: GenerationParams) -> ChatStream:
        request = self._settings(params) | {"messages": messages}
        if params.json_mode:
            request["response_format"] = {"type": "json_object"}
        return ChatStream(lambda stream: self._stream(stream, "/chat/completions", request))

    def complete(self, prompt: str, params: GenerationParams) -> ChatStream:
        request = self._settings(params) | {"prompt": prompt}
        return ChatStream(lambda stream: self._stream(stream, "/completions", request))

    def _settings(self, params: GenerationParams) -> dict:
        request = {"model": self.model.name, "temperature": params.temperature, "top_p": params.top_p,
                   "max_tokens": params.max_tokens, "stream": True,
                   "stream_options": {"include_usage": True}}
        if params.seed is not None:
            request["seed"] = params.seed
        if params.stop:
            request["stop"] = params.stop
        for key in ("frequency_penalty", "presence_penalty"):  # OpenAI's; repeat_penalty is not
            if getattr(params, key):
                request[key] = getattr(params, key)
        return request

    def _stream(self, stream: ChatStream, path: str, request: dict) -> Iterator[str]:
        url = self.base_url + path
        api = self.client.chat.completions if path == "/chat/completions" else self.client.completions
        response = _call(url, lambda: api.create(**request))
        try:
            chunks = iter(response)
            while (chunk := _call(url, lambda: next(chunks, None))) is not None:
                if chunk.usage:
                    stream.prompt_tokens = chunk.usage.prompt_tokens or 0
                    stream.completion_tokens = chunk.usage.completion_tokens or 0
                for choice in chunk.choices:
                    if choice.finish_reason:
                        stream.finish_reason = choice.finish_reason
                    text = choice.delta.content if path == "/chat/completions" else choice.text
                    if text:
                        yield text
        finally:
            response.close()

    def info(self) -> dict:
        return {"engine": self.name, "model": self.model.name, "url": self.base_url,
                "format": self.model.format}
