"""Where `llmp prompt compare` sends its prompts: the local engine or any OpenAI-compatible server.

Both answer `complete(messages, params) -> Completion` and have an `id` that names the model
exactly (used in the results cache key), so a cached answer is never reused for another model.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..chat.engine import GenerationParams
from ..errors import EndpointError


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    latency_s: float = 0.0  # measured when generated; a cached answer keeps it


class Backend(ABC):
    id: str

    @abstractmethod
    def complete(self, messages: list[dict], params: GenerationParams) -> Completion:
        """One answer to `messages`."""

    def close(self) -> None:
        """Release connections or weights."""


class LocalBackend(Backend):
    """A registered local model through `ChatEngine`. The model loads on first use, once.

    llama.cpp and transformers models are not thread-safe, so calls are serialised here; the
    concurrency of `compare` pays off with HTTP endpoints.
    """

    def __init__(self, model: str, engine: str | None = None, **engine_kwargs):
        from ..chat.engine import resolve_engine_name
        from ..models.registry import get_model

        self.info = get_model(model)  # fail early on an unknown model, before any work
        self.engine_name = resolve_engine_name(self.info, engine)
        self.engine_kwargs = engine_kwargs
        self.id = f"local:{self.info.name}:{self.engine_name}:{self.info.path}"
        self._engine = None
        self._lock = threading.Lock()

    def complete(self, messages: list[dict], params: GenerationParams) -> Completion:
        from ..chat.engine import load_engine

        with self._lock:
            if self._engine is None:
                self._engine = load_engine(self.info, self.engine_name, **self.engine_kwargs)
            stream = self._engine.chat(messages, params)
            text = stream.text()
        return Completion(text, stream.prompt_tokens, stream.completion_tokens, stream.finish_reason)


class OpenAIBackend(Backend):
    """`POST {base_url}/chat/completions` on any OpenAI-compatible server (ours, vLLM, Ollama ...)."""

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None,
                 timeout: float = 300.0):
        import httpx

        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self.model = model or self._first_model()
        self.id = f"openai:{self.base_url}:{self.model}"

    def _request(self, method: str, path: str, **kwargs) -> dict:
        import httpx

        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            raise EndpointError(self.base_url + path, f"cannot connect ({e.__class__.__name__}: {e}).") from e
        if response.status_code >= 400:
            raise EndpointError(self.base_url + path, f"HTTP {response.status_code}: {response.text[:300]}",
                                "Check --model (GET /v1/models lists the names) and --api-key.")
        try:
            return response.json()
        except ValueError as e:
            raise EndpointError(self.base_url + path, "the answer is not JSON; is this an OpenAI-compatible "
                                "API?") from e

    def _first_model(self) -> str:
        data = self._request("GET", "/models").get("data") or []
        if not data:
            raise EndpointError(self.base_url + "/models", "the server lists no models.",
                                "Pass the model name with --model.")
        return data[0]["id"]

    def complete(self, messages: list[dict], params: GenerationParams) -> Completion:
        body = {"model": self.model, "messages": messages, "temperature": params.temperature,
                "top_p": params.top_p, "max_tokens": params.max_tokens, "stream": False}
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = params.stop
        data = self._request("POST", "/chat/completions", json=body)
        try:
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return Completion(choice["message"]["content"] or "", usage.get("prompt_tokens", 0),
                              usage.get("completion_tokens", 0), choice.get("finish_reason"))
        except (KeyError, IndexError, TypeError) as e:
            raise EndpointError(self.base_url + "/chat/completions",
                                f"unexpected answer shape ({e!r}): {str(data)[:200]}") from e

    def close(self) -> None:
        self.client.close()


def make_backend(model: str | None, base_url: str | None, engine: str | None = None,
                 api_key: str | None = None) -> Backend:
    from ..models.bundled import BUNDLED_NAME

    if base_url:
        return OpenAIBackend(base_url, model, api_key)
    return LocalBackend(model or BUNDLED_NAME, engine)
