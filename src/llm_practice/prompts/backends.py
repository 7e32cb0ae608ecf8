"""Where `llmp prompt compare` sends its prompts: any `ChatEngine`, local or remote.

A local model runs in its engine (llama.cpp, transformers); `--base-url` reaches any
OpenAI-compatible server through the `openai` engine. A backend's `id` names the model exactly
(it is part of the results cache key), so a cached answer is never reused for another model.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Callable

from ..chat.engine import ChatEngine, GenerationParams


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    latency_s: float = 0.0  # measured when generated; a cached answer keeps it


class Backend:
    """A `ChatEngine` as `compare` uses it, loaded on first use, once.

    Local engines answer one request at a time (`serial`); a remote server takes them
    concurrently, which is where `compare --concurrency` pays off.
    """

    def __init__(self, id: str, load: Callable[[], ChatEngine], serial: bool):
        self.id = id
        self._load = load
        self._engine: ChatEngine | None = None
        self._load_lock = threading.Lock()
        self._serial = threading.Lock() if serial else None

    @property
    def engine(self) -> ChatEngine:
        with self._load_lock:
            if self._engine is None:
                self._engine = self._load()
            return self._engine

    def complete(self, messages: list[dict], params: GenerationParams) -> Completion:
        engine = self.engine
        with self._serial or contextlib.nullcontext():
            stream = engine.chat(messages, params)
            text = stream.text()
        return Completion(text, stream.prompt_tokens, stream.completion_tokens, stream.finish_reason)

    def close(self) -> None:
        """Release the engine's threads or connections."""
        engine, self._engine = self._engine, None
        close = getattr(engine, "close", None)
        if close:
            close()


def local_backend(model: str, engine: str | None = None, **engine_kwargs) -> Backend:
    from ..chat.engine import load_engine, resolve_engine_name
    from ..models.registry import get_model

    info = get_model(model)  # fail early on an unknown model, before any work
    engine_name = resolve_engine_name(info, engine)
    return Backend(f"local:{info.name}:{engine_name}:{info.path}",
                   lambda: load_engine(info, engine_name, **engine_kwargs), serial=True)


def remote_backend(base_url: str, model: str | None = None, api_key: str | None = None) -> Backend:
    """Connects now: the model name (default: the first the server lists) goes into the id."""
    from ..chat.remote import connect

    engine = connect(base_url, model, api_key)
    return Backend(f"openai:{engine.base_url}:{engine.model.name}", lambda: engine, serial=False)


def make_backend(model: str | None, base_url: str | None, engine: str | None = None,
                 api_key: str | None = None) -> Backend:
    from ..models.bundled import BUNDLED_NAME

    if base_url:
        return remote_backend(base_url, model, api_key)
    return local_backend(model or BUNDLED_NAME, engine)
