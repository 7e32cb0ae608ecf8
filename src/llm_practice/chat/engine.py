"""The `ChatEngine` interface every runner of a model implements, and the engine registry.

The REPL, the server, prompts and RAG talk only to this interface:

    engine = load_engine(get_model("smollm2-135m-instruct"))
    stream = engine.chat([{"role": "user", "content": "Hi"}], GenerationParams(max_tokens=32))
    for delta in stream:
        print(delta, end="")
    print(stream.finish_reason, stream.completion_tokens)

Async code reads the same stream with `async for delta in stream` (natively when the engine
offers it, otherwise one delta per worker-thread hop).

Engines are imported lazily by name so that `llmp --help` never imports torch or llama.cpp.
"""

from __future__ import annotations

import asyncio
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError, EngineMissingError, EngineUnsupportedError
from ..models.registry import ModelInfo
from ..settings import get_settings

Message = dict  # {"role": "system" | "user" | "assistant", "content": str}


DEFAULT_REPEAT_PENALTY = 1.1
PENALTY_LAST_N = 64  # tokens the penalties look back over (llama.cpp's default window)


class GenerationParams(BaseModel):
    """Sampling settings shared by every engine (OpenAI's names and meanings)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(512, ge=1, le=131072)
    seed: int | None = Field(None, ge=0)
    stop: list[str] = Field(default_factory=list)
    json_mode: bool = False  # constrain the answer to JSON (engines that can; others refuse)
    # Penalties against loops, which small models fall into (a haiku repeated fifteen times).
    # repeat_penalty divides a seen token's logit (llama.cpp's / transformers' repetition
    # penalty; 1.0 is off). llama.cpp's CLI ships 1.0 today (common.h) and shipped 1.1 over
    # the last 64 tokens before; we default to 1.1, measured in benchmarks/loops.py.
    # frequency/presence penalties are OpenAI's: subtract count * f + (count > 0) * p.
    repeat_penalty: float = Field(DEFAULT_REPEAT_PENALTY, ge=1.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)


class ChatStream:
    """An iterator of text deltas; after it is exhausted it knows why it stopped and the token counts.

    `close()` (also called on Ctrl-C by the REPL) stops the generation early. `async for` reads
    it from asyncio code; iterate a stream one way only, never both.
    """

    def __init__(self, produce: Callable[["ChatStream"], Iterator[str]]):
        self.prompt_tokens = 0
        self.cached_tokens = 0  # prompt tokens reused from a cache instead of decoded again
        self.completion_tokens = 0
        self.finish_reason: str | None = None  # "stop" | "length" | "cancelled"
        self._cancel_hooks: list[Callable[[], None]] = []
        # Engines that can feed asyncio directly set this to a factory of an async iterator of
        # the same deltas (no worker thread per token); otherwise `async for` runs `next` in one.
        self.async_source: Callable[[], AsyncIterator[str]] | None = None
        self._iterator = produce(self)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._iterator)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._aiterate()

    async def _aiterate(self) -> AsyncIterator[str]:
        try:
            if self.async_source is not None:
                async for delta in self.async_source():
                    yield delta
                return
            loop = asyncio.get_running_loop()
            done = object()
            while (delta := await loop.run_in_executor(None, next, self._iterator, done)) is not done:
                yield delta
        finally:
            self.close()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        self._cancel_hooks.append(hook)

    def close(self) -> None:
        if self.finish_reason is None:
            self.finish_reason = "cancelled"
        for hook in self._cancel_hooks:
            hook()
        try:
            self._iterator.close()
        except ValueError:
            pass  # running in a worker thread right now: the hooks above tell it to stop

    def text(self) -> str:
        """Consume the rest of the stream and return it as one string."""
        return "".join(self)


class ChatEngine(ABC):
    """Runs one model. Subclasses load in `__init__` and stream in `chat`."""

    name: str

    def __init__(self, model: ModelInfo, *, threads: int | None = None, context: int = 4096):
        self.model = model
        self.threads = threads or get_settings().threads or default_threads()
        self.context = context

    @abstractmethod
    def chat(self, messages: list[Message], params: GenerationParams) -> ChatStream:
        """Stream the assistant's answer to `messages`, stopping at the model's end of turn."""

    def complete(self, prompt: str, params: GenerationParams) -> ChatStream:
        """Continue raw text without a chat template (OpenAI's /v1/completions)."""
        raise EngineUnsupportedError(
            self.name, self.model.name, "raw text completion is not implemented.",
            "Use chat completions, or another engine.",
        )

    def can_chat(self) -> bool:
        """False for a base model (no chat template): it only continues text with `complete`."""
        return True

    def info(self) -> dict:
        return {
            "engine": self.name,
            "chat": self.can_chat(),
            "model": self.model.name,
            "path": str(self.model.path),
            "format": self.model.format,
            "threads": self.threads,
            "context": self.context,
        }


def default_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class EngineSpec:
    name: str
    target: str  # "module:Class"
    formats: tuple[str, ...]
    requires: tuple[str, ...]  # import names that must be present
    install: str


ENGINES: dict[str, EngineSpec] = {
    spec.name: spec
    for spec in (
        EngineSpec(
            "llama.cpp",
            "llm_practice.chat.llamacpp_batch:BatchedLlamaCppEngine",
            ("gguf",),
            ("llama_cpp",),
            "pip install 'llm-practice[llamacpp]'  (or: pip install llama-cpp-python)",
        ),
        EngineSpec(
            "transformers",
            "llm_practice.chat.hf:TransformersEngine",
            ("hf", "gguf"),
            ("torch", "transformers"),
            "pip install torch==2.13.0 && pip install 'llm-practice[transformers]'",
        ),
        EngineSpec(
            "openai",
            "llm_practice.chat.remote:OpenAIEngine",
            ("remote",),
            ("openai",),
            "pip install openai",
        ),
    )
}
ENGINE_ALIASES = {"llamacpp": "llama.cpp", "llama-cpp": "llama.cpp", "hf": "transformers"}
DEFAULT_ENGINE_FOR_FORMAT = {"gguf": "llama.cpp", "hf": "transformers", "remote": "openai"}


def resolve_engine_name(model: ModelInfo, engine: str | None) -> str:
    name = engine or get_settings().default_engine or DEFAULT_ENGINE_FOR_FORMAT[model.format]
    name = ENGINE_ALIASES.get(name, name)
    if name not in ENGINES:
        raise ConfigError(
            "--engine", f"unknown engine '{name}'.", f"Choose one of: {', '.join(ENGINES)}."
        )
    spec = ENGINES[name]
    if model.format not in spec.formats:
        raise ConfigError(
            "--engine",
            f"engine '{name}' cannot run {model.format.upper()} model '{model.name}'.",
            f"Use --engine {DEFAULT_ENGINE_FOR_FORMAT[model.format]}.",
        )
    return name


def engine_installed(name: str) -> bool:
    return all(_importable(mod) for mod in ENGINES[name].requires)


def require_engine(name: str) -> None:
    """Raise EngineMissingError, with the install command, when engine `name` cannot be imported."""
    missing = [m for m in ENGINES[name].requires if not _importable(m)]
    if missing:
        raise EngineMissingError(name, ENGINES[name].install, reason=f"cannot import {', '.join(missing)}")


def load_engine(model: ModelInfo, engine: str | None = None, **kwargs) -> ChatEngine:
    """Load `model` in the named engine (default: llama.cpp for GGUF, transformers for HF)."""
    name = resolve_engine_name(model, engine)
    require_engine(name)
    module_name, cls_name = ENGINES[name].target.split(":")
    cls = getattr(import_module(module_name), cls_name)
    return cls(model, **kwargs)


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None
