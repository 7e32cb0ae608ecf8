"""The one generation service: every generation on the server (the API, the Chat tab, the Prompt
lab) is admitted, timed and counted here, so every path has the same guarantees.

    generation = service.start(target, lambda: target.engine.chat(messages, params), "ui/chat")
    async for delta in generation:
        ...
    generation.finish_reason, generation.stream.completion_tokens

- Admission: each served model has a `Gate`: at most `parallel` generations run (the engine's
  batch slots), at most `queue` more wait, first come first served. `start` decides at once,
  before any response is sent, and reserves the place: a full gate raises `QueueFullError` (429).
- Deadline: `--timeout` counts from `start`: waiting past it raises `DeadlineError`; generating
  past it stops the stream, which then ends with finish reason "length".
- Shutdown: `stop_all` (on SIGTERM / Ctrl-C) ends every live or waiting generation with
  `ServerStoppingError` (503), so a stream ends with an error event instead of being cut.
- Metrics: every generation ends in exactly one `llmp_requests_total{endpoint, status}` sample,
  its latency, and (when it finished) its token counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from ..chat.engine import ChatEngine, ChatStream, GenerationParams
from ..errors import (ConfigError, DeadlineError, LlmpError, ModelNotServedError, QueueFullError,
                      ServerStoppingError)
from .config import ServeConfig
from .metrics import Metrics


class Gate:
    """At most `slots` generations at once and `queue` waiting; FIFO admission."""

    def __init__(self, slots: int, queue: int):
        self.slots = slots
        self.queue = queue
        self.waiting = 0  # admitted, not yet generating
        self.running = 0
        self._sem = asyncio.Semaphore(slots)

    def reserve(self) -> None:
        """Take a place now (no await in between, so two requests cannot take the last one)."""
        if self.waiting + self.running >= self.slots + self.queue:
            raise QueueFullError(self.waiting)
        self.waiting += 1

    def release_reservation(self) -> None:
        self.waiting -= 1

    async def acquire(self, timeout: float) -> None:
        """Wait (on a reserved place) for a slot, at most `timeout` seconds."""
        try:
            await asyncio.wait_for(self._sem.acquire(), max(timeout, 0.001))
        except asyncio.TimeoutError:
            raise DeadlineError(round(timeout, 1)) from None
        finally:
            self.waiting -= 1
        self.running += 1

    def release(self) -> None:
        self.running -= 1
        self._sem.release()


class Served:
    """A loaded engine and its gate."""

    def __init__(self, name: str, engine: ChatEngine, gate: Gate):
        self.name, self.engine, self.gate = name, engine, gate
        self.live: set[Generation] = set()  # started and not yet ended


class Generation:
    """One admitted generation. Iterate it once for the deltas; `stream` then holds the counts."""

    def __init__(self, target: Served, stream: ChatStream, timeout: float, metrics: Metrics,
                 endpoint: str):
        self.target, self.stream = target, stream
        self.timeout, self.metrics, self.endpoint = timeout, metrics, endpoint
        self.started = time.monotonic()
        self.timed_out = False
        self._timer = metrics.timer(endpoint)
        self._reserved = True  # holds a waiting place
        self._slot = False  # holds a generation slot
        self._status: str | None = None
        self.stopped = False  # the server is shutting down

    @property
    def finish_reason(self) -> str:
        """OpenAI's finish reason: "length" for the token limit and for the deadline."""
        return "length" if self.timed_out or self.stream.finish_reason == "length" else "stop"

    def _expire(self) -> None:
        self.timed_out = True
        self.stream.close()

    def stop(self) -> None:
        """The server is shutting down: end the stream now; iterating raises ServerStoppingError."""
        self.stopped = True
        self.stream.close()

    def _left(self) -> float:
        return self.timeout - (time.monotonic() - self.started)

    async def admit(self) -> None:
        """Wait for a generation slot (the wait counts against the deadline). The API calls it
        before a streaming response starts, so a request that never gets a slot is a plain
        HTTP error, not a 200 that ends in an error event."""
        if self._slot:
            return
        try:
            self._reserved = False
            await self.target.gate.acquire(self._left())
            self._slot = True
            if self.stopped:  # stopped while it waited
                raise ServerStoppingError()
        except BaseException as e:
            self.end(str(e.http_status) if isinstance(e, LlmpError) else "499")
            raise

    def __aiter__(self) -> AsyncIterator[str]:
        return self._run()

    async def _run(self) -> AsyncIterator[str]:
        status = "500"
        try:
            await self.admit()
            deadline = asyncio.get_running_loop().call_later(max(self._left(), 0), self._expire)
            try:
                async for delta in self.stream:
                    if self.stopped:
                        break
                    yield delta
            finally:
                deadline.cancel()
            if self.stopped:
                raise ServerStoppingError()
            self.metrics.count_tokens(self.target.name, self.stream)
            status = "200"
        except LlmpError as e:
            status = str(e.http_status)
            raise
        except (asyncio.CancelledError, GeneratorExit):
            status = "499"  # the client went away
            raise
        finally:
            self.end(status)

    async def text(self) -> str:
        return "".join([delta async for delta in self])

    def end(self, status: str) -> None:
        """Record the outcome once, give back the place or slot, and stop the stream."""
        if self._reserved:
            self._reserved = False
            self.target.gate.release_reservation()
        if self._slot:
            self._slot = False
            self.target.gate.release()
        self.stream.close()
        self.target.live.discard(self)
        if self._status is None:
            self._status = status
            self._timer(status)


class GenerationService:
    """Picks the served model, checks the settings, admits, times and counts every generation."""

    def __init__(self, served: dict[str, Served], config: ServeConfig, metrics: Metrics):
        self.served, self.config, self.metrics = served, config, metrics
        self.stopping = False

    def stop_all(self) -> None:
        """The server is shutting down: refuse new generations and end the live ones, which
        then finish their responses with ServerStoppingError (a stream: an error event)."""
        self.stopping = True
        for target in self.served.values():
            for generation in list(target.live):
                generation.stop()

    def pick(self, model: str | None) -> Served:
        name = model or next(iter(self.served), None)
        if name in self.served:
            return self.served[name]
        from ..models.registry import get_model

        try:  # accept an alias such as "smollm2" for a served model
            info = get_model(name) if name else None
        except LlmpError:
            info = None
        if info is not None and info.name in self.served:
            return self.served[info.name]
        raise ModelNotServedError(name, list(self.served))

    def params(self, *, max_tokens: int | None, clamp: bool = False, **settings) -> GenerationParams:
        """Sampling settings under this server's limits: a too large `max_tokens` is an error for
        the API, and is lowered to the limit for the web UI (`clamp`)."""
        limit = self.config.max_tokens_limit
        if max_tokens is not None and max_tokens > limit:
            if not clamp:
                raise ConfigError("max_tokens", f"{max_tokens} is above this server's limit of {limit}.",
                                  "Ask for fewer tokens.")
            max_tokens = limit
        return GenerationParams(max_tokens=max_tokens or min(self.config.default_max_tokens, limit),
                                **settings)

    async def start(self, target: Served, make_stream: Callable[[], ChatStream], endpoint: str,
                    param: str | None = None) -> Generation:
        """Admit a generation now (429 when full) and create its stream (so bad settings are a
        400 before any response starts); it runs when iterated. Creating a stream tokenizes the
        prompt, so it runs in a worker thread: the event loop never waits for engine work.
        `param` names the request field an engine's refusal of a setting points at."""
        try:
            if self.stopping:
                raise ServerStoppingError()
            target.gate.reserve()
        except LlmpError as e:
            self.metrics.timer(endpoint)(str(e.http_status))
            raise
        try:
            stream = await asyncio.to_thread(make_stream)
        except BaseException as e:
            target.gate.release_reservation()
            if isinstance(e, LlmpError):
                e.param = e.param or param
                self.metrics.timer(endpoint)(str(e.http_status))
            raise
        generation = Generation(target, stream, self.config.request_timeout, self.metrics, endpoint)
        target.live.add(generation)
        return generation

    def check_size(self, messages: list[dict]) -> None:
        """Bound the work a request can cause before it is admitted: the number of messages and
        the characters to tokenize (a prompt over the context window is refused later anyway)."""
        limit, most = self.config.max_messages, self.config.max_prompt_chars
        if len(messages) > limit:
            raise ConfigError("messages", f"{len(messages)} messages, above this server's limit of {limit}.",
                              "Send a shorter conversation.")
        chars = sum(len(m["content"]) for m in messages)
        if chars > most:
            raise ConfigError("messages", f"{chars:,} characters, above this server's limit of {most:,}.",
                              "Send a shorter prompt.")

    async def chat(self, model: str | None, messages: list[dict], endpoint: str, **settings
                   ) -> AsyncIterator[str]:
        """Stream one answer for the web UI: the server's token limit (lowered to, not refused),
        queue, deadline and metrics apply as they do to the API; `endpoint` labels the metrics."""
        target = self.pick(model)
        params = self.params(clamp=True, **settings)
        self.check_size(messages)
        generation = await self.start(target, lambda: target.engine.chat(messages, params), endpoint)
        async for delta in generation:
            yield delta


def load_served(config: ServeConfig) -> dict[str, Served]:
    """Load every model of `config` in its engine; llama.cpp models get `parallel` batch slots."""
    from ..chat.engine import load_engine, resolve_engine_name
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
            if config.serve_quant:
                from dataclasses import replace

                from ..chat.requantize import requantized

                info = replace(info, path=requantized(info.path, config.serve_quant))
            engine = load_engine(info, engine_name, context=config.context, slots=config.parallel,
                                 queue_size=config.queue + config.parallel)
            slots = config.parallel
        else:
            engine = load_engine(info, engine_name, context=config.context)
            slots = 1  # one generate() at a time per transformers model
        served[info.name] = Served(info.name, engine, Gate(slots, config.queue))
    return served
