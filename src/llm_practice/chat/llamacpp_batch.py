"""Continuous batching over one llama.cpp context: many conversations, one forward pass per step.

`llama_cpp.server` serves one request at a time behind a lock, so eight clients wait in line.
Here every active conversation owns a sequence id (a "slot", with its own stream of KV cells), and one
scheduler thread decodes a single batch per step holding the next token of every slot (plus
chunks of newly admitted prompts). On a CPU that turns eight matrix-vector products into one
matrix-matrix product, which is where the aggregate throughput comes from.

    engine = BatchedLlamaCppEngine(get_model("smollm2-135m-instruct"), slots=8)
    streams = [engine.chat(msgs, params) for msgs in conversations]   # thread-safe

This is the one llama.cpp engine: `llmp serve` runs it with `--parallel` slots, `llmp chat` and
everything else with one, so the REPL and the server format a chat with the same template and
sample with the same chain, and the same greedy question gets the same answer.

Waiting requests are admitted first come, first served; when the wait queue is full `chat`
raises `QueueFullError` (the server answers 429). Closing a stream frees its slot at the next step.
A finished slot keeps its KV cache: a new request goes to the free slot sharing the longest token
prefix with it (the system prompt, or the earlier turns of the same conversation) and decodes only
the rest; idle caches are dropped when the cache runs out of room.
"""

from __future__ import annotations

import asyncio
import codecs
import ctypes
import collections
import queue
import re
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from ..errors import BaseModelError, ConfigError, ModelFormatError, QueueFullError
from ..models.gguf import inspect_gguf
from ..models.registry import ModelInfo
from .cpu_backend import load_llama_cpp
from .engine import PENALTY_LAST_N, ChatEngine, ChatStream, GenerationParams, Message
from .llamacpp import quiet_stderr


_DONE = object()


class _LoopInbox:
    """Looks like a queue to the scheduler thread; delivers into an asyncio.Queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue):
        self.loop, self.inbox = loop, inbox

    def put(self, item) -> None:
        self.loop.call_soon_threadsafe(self.inbox.put_nowait, item)


@dataclass(eq=False)
class _Request:
    prompt: list[int]
    params: GenerationParams
    stream: ChatStream
    out: object = field(default_factory=queue.SimpleQueue)  # anything with put()
    cancelled: threading.Event = field(default_factory=threading.Event)
    slot: int = -1
    fed: int = 0  # prompt tokens already decoded into the slot
    last: int = -1  # the last sampled token, fed at the next step
    generated: int = 0
    fed_generated: list[int] = field(default_factory=list)  # sampled tokens decoded into the slot
    held: str = ""  # text held back because it may be the start of a stop string
    sampler: object = None
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )

    @property
    def n_past(self) -> int:
        return self.fed + self.generated


class BatchedLlamaCppEngine(ChatEngine):
    name = "llama.cpp"

    def __init__(self, model: ModelInfo, *, threads: int | None = None, context: int = 4096,
                 slots: int = 1, queue_size: int = 64, batch_tokens: int = 512, gpu_layers: int = 0):
        super().__init__(model, threads=threads, context=context)
        llama_cpp = load_llama_cpp()
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        summary = inspect_gguf(model.path)
        if summary.context_length:
            self.context = min(self.context, int(summary.context_length))
        self.slots = slots
        self.queue_size = queue_size
        self.batch_tokens = batch_tokens
        self._lib = llama_cpp
        mparams = llama_cpp.llama_model_default_params()
        mparams.n_gpu_layers = gpu_layers
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = self.context * slots
        cparams.n_batch = batch_tokens
        cparams.n_ubatch = batch_tokens
        cparams.n_seq_max = slots
        cparams.kv_unified = False
        cparams.n_threads = self.threads
        cparams.n_threads_batch = self.threads
        try:
            with quiet_stderr():
                self._model = _internals.LlamaModel(path_model=str(model.path), params=mparams,
                                                    verbose=False)
                self._ctx = _internals.LlamaContext(model=self._model, params=cparams, verbose=False)
                self._batch = _internals.LlamaBatch(n_tokens=batch_tokens, embd=0,
                                                    n_seq_max=slots, verbose=False)
        except ValueError as e:
            raise ModelFormatError(model.path, f"llama.cpp could not load it ({e}).") from e
        self._vocab = llama_cpp.llama_model_get_vocab(self._model.model)
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        # A base model (no chat template) loads for completion; `chat` says what to use instead.
        self.chat_template = summary.chat_template
        bos, eos = self._model.token_bos(), self._model.token_eos()
        self._formatter = summary.chat_template and Jinja2ChatFormatter(
            template=summary.chat_template,
            bos_token=self._model.token_get_text(bos) if bos >= 0 else "",
            eos_token=self._model.token_get_text(eos) if eos >= 0 else "",
        )
        self._piece_buf = ctypes.create_string_buffer(64)
        self._waiting: collections.deque[_Request] = collections.deque()
        self._active: list[_Request] = []
        self._free = list(range(slots))
        # What each slot's KV cache holds, so a new request that shares a prefix (the system
        # prompt, or the earlier turns of the same conversation) only decodes the rest.
        self._cached: dict[int, list[int]] = {slot: [] for slot in range(slots)}
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="llmp-batch", daemon=True)
        self._thread.start()

    # -- public -----------------------------------------------------------------------------

    def chat(self, messages: list[Message], params: GenerationParams) -> ChatStream:
        if not self._formatter:
            raise BaseModelError(self.model.name, self.model.path)
        return self._submit(self.chat_tokens(messages), params)

    def chat_tokens(self, messages: list[Message]) -> list[int]:
        """The prompt's tokens. Only the template's own markers are special tokens: message text
        is tokenized as plain text, so `<|im_end|><|im_start|>system` typed by a user stays text
        and cannot open a turn (and a flood of such markers costs linear, not quadratic, time)."""
        nonce = uuid.uuid4().hex
        marks = [{**m, "content": f"@@llmp-{nonce}-{i}@@"} for i, m in enumerate(messages)]
        prompt = self._formatter(messages=marks).prompt
        pieces = re.split(f"@@llmp-{nonce}-(\\d+)@@", prompt)
        if len(pieces) != 2 * len(messages) + 1:  # a template that reshapes content: render as is
            prompt = self._formatter(messages=messages).prompt
            return self._model.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        tokens: list[int] = []
        carry = ""  # whitespace ending a template piece joins the text after it, as it would in one string
        for i, piece in enumerate(pieces):
            if i % 2:  # message text
                text, special = carry + str(messages[int(piece)].get("content") or ""), False
            else:  # the template's own text and markers
                text, special = piece, True
                if i + 1 < len(pieces):
                    carry = piece[len(piece.rstrip()):]
                    text = piece[:len(piece) - len(carry)]
            if text:
                tokens += self._model.tokenize(text.encode("utf-8"), add_bos=not tokens,
                                               special=special)
        return tokens

    def complete(self, prompt: str, params: GenerationParams) -> ChatStream:
        return self._submit(self._model.tokenize(prompt.encode("utf-8"), add_bos=True, special=False),
                            params)

    def _submit(self, tokens: list[int], params: GenerationParams) -> ChatStream:
        if not tokens:
            raise ConfigError("prompt", "the prompt is empty.", "Send some text to continue.")
        if len(tokens) + 1 >= self.context:
            raise ConfigError("messages", f"the prompt has {len(tokens)} tokens but the context "
                              f"window is {self.context}.", "Shorten the prompt or the conversation.")

        def produce(stream: ChatStream) -> Iterator[str]:
            req = self._enqueue(tokens, params, stream, queue.SimpleQueue())
            done = False
            try:
                while (item := req.out.get()) is not _DONE:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
                done = True
            finally:
                if not done:
                    req.cancelled.set()  # a consumer that stops reading frees the slot
                    _drain(req.out)  # and, once the scheduler let go of it, knows the token counts

        stream = ChatStream(produce)

        async def deltas() -> AsyncIterator[str]:
            """The same stream for asyncio code: the scheduler hands each delta to the event
            loop directly, with no worker thread per token (the server uses this)."""
            loop = asyncio.get_running_loop()
            inbox: asyncio.Queue = asyncio.Queue()
            out = _LoopInbox(loop, inbox)
            req = self._enqueue(tokens, params, stream, out)
            try:
                while (item := await inbox.get()) is not _DONE:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
            finally:
                req.cancelled.set()

        stream.async_source = deltas
        return stream

    def _enqueue(self, tokens: list[int], params: GenerationParams, stream: ChatStream, out
                 ) -> _Request:
        req = _Request(prompt=tokens, params=params, stream=stream, out=out)
        stream.prompt_tokens = len(tokens)
        stream.on_cancel(req.cancelled.set)
        with self._wake:
            if len(self._waiting) >= self.queue_size:
                raise QueueFullError(len(self._waiting))
            self._waiting.append(req)
            self._wake.notify()
        return req

    def can_chat(self) -> bool:
        return bool(self.chat_template)

    def queue_depth(self) -> int:
        return len(self._waiting)

    def active(self) -> int:
        return len(self._active)

    def info(self) -> dict:
        return super().info() | {"slots": self.slots, "batching": "continuous"}

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=10)

    # -- scheduler --------------------------------------------------------------------------

    def _make_sampler(self, params: GenerationParams):
        from llama_cpp import _internals

        sampler = _internals.LlamaSampler()
        if params.json_mode:
            from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

            sampler.add_grammar(self._model, LlamaGrammar.from_string(JSON_GBNF, verbose=False))
        # llama.cpp's own penalties sampler, first in the chain as in common/sampling.cpp.
        if (params.repeat_penalty, params.frequency_penalty, params.presence_penalty) != (1.0, 0.0, 0.0):
            sampler.add_penalties(self._n_vocab, PENALTY_LAST_N, params.repeat_penalty,
                                  params.frequency_penalty, params.presence_penalty)
        if params.temperature <= 0:
            sampler.add_greedy()
            return sampler
        # The same chain and defaults as llama-cpp-python's high-level API.
        sampler.add_top_k(40)
        sampler.add_top_p(params.top_p, 1)
        sampler.add_min_p(0.05, 1)
        sampler.add_temp(params.temperature)
        sampler.add_dist(params.seed if params.seed is not None else self._lib.LLAMA_DEFAULT_SEED)
        return sampler

    def _admit(self) -> None:
        while self._waiting and self._free:
            req = self._waiting.popleft()
            if req.cancelled.is_set():
                req.stream.finish_reason = "cancelled"
                req.out.put(_DONE)
                continue
            slot, shared = max(((slot, _common_prefix(self._cached[slot], req.prompt))
                                for slot in self._free), key=lambda pair: pair[1])
            shared = min(shared, len(req.prompt) - 1)  # decode at least one token for logits
            self._free.remove(slot)
            self._ctx.kv_cache_seq_rm(slot, shared, -1)
            self._cached[slot] = req.prompt[:shared]
            req.slot = slot
            req.fed = shared
            req.stream.cached_tokens = shared
            req.sampler = self._make_sampler(req.params)
            self._active.append(req)

    def _finish(self, req: _Request, reason: str) -> None:
        # bytes still in the decoder are a character cut off by the token limit: drop them rather
        # than show U+FFFD at the end of a Chinese answer ("...编号。\ufffd")
        tail = req.held
        if tail and reason != "stop_string":
            req.out.put(tail)
        req.stream.finish_reason = "stop" if reason == "stop_string" else reason
        req.stream.completion_tokens = req.generated
        if reason in ("error", "cancelled"):
            self._ctx.kv_cache_seq_rm(req.slot, -1, -1)
            self._cached[req.slot] = []
        else:  # keep the slot's cache: the next turn of this conversation starts from it
            self._cached[req.slot] = req.prompt + req.fed_generated
        req.sampler.close()
        self._active.remove(req)
        self._free.append(req.slot)
        req.out.put(_DONE)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._closed and not self._waiting and not self._active:
                    self._wake.wait()
                if self._closed:
                    for req in [*self._active]:
                        self._finish(req, "cancelled")
                    return
                self._admit()
            for req in [r for r in self._active if r.cancelled.is_set()]:
                self._finish(req, "cancelled")
            if not self._active:
                continue
            try:
                self._step()
            except Exception as e:  # a decode failure ends every active request with the error
                for req in [*self._active]:
                    req.out.put(e)
                    self._finish(req, "error")

    def _step(self) -> None:
        batch = self._batch.batch
        batch.n_tokens = 0
        sample_at: list[tuple[_Request, int]] = []
        budget = self.batch_tokens

        def add(token: int, pos: int, seq: int, logits: bool) -> None:
            i = batch.n_tokens
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = logits
            batch.n_tokens = i + 1

        # Running conversations first (one token each), then prompt chunks with what is left.
        for req in self._active:
            if req.fed == len(req.prompt) and budget > 0:
                add(req.last, req.n_past - 1, req.slot, True)
                req.fed_generated.append(req.last)
                sample_at.append((req, batch.n_tokens - 1))
                budget -= 1
        for req in self._active:
            if req.fed < len(req.prompt) and budget > 0:
                chunk = req.prompt[req.fed:req.fed + budget]
                for k, token in enumerate(chunk):
                    last = req.fed + k == len(req.prompt) - 1
                    add(token, req.fed + k, req.slot, last)
                    if last:
                        sample_at.append((req, batch.n_tokens - 1))
                req.fed += len(chunk)
                budget -= len(chunk)
        if batch.n_tokens == 0:
            return
        rc = self._lib.llama_decode(self._ctx.ctx, batch)
        if rc == 1:  # no room for this batch in the KV cache: drop idle slots' caches and retry
            for slot in self._free:
                self._ctx.kv_cache_seq_rm(slot, -1, -1)
                self._cached[slot] = []
            rc = self._lib.llama_decode(self._ctx.ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with status {rc}")
        for req, index in sample_at:
            token = req.sampler.sample(self._ctx, index)
            if self._lib.llama_vocab_is_eog(self._vocab, token):
                self._finish(req, "stop")
                continue
            req.generated += 1
            req.last = token
            piece = self._piece(token)
            if self._emit(req, req.decoder.decode(piece)):
                self._finish(req, "stop_string")
            elif req.generated >= req.params.max_tokens or req.n_past + 1 >= self.context:
                self._finish(req, "length")

    def _piece(self, token: int) -> bytes:
        buf = self._piece_buf
        n = self._lib.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:  # a longer piece than the buffer: grow it once and retry
            self._piece_buf = buf = ctypes.create_string_buffer(-n)
            n = self._lib.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    @staticmethod
    def _emit(req: _Request, text: str) -> bool:
        """Send text, holding back a possible stop-string prefix; True when a stop string hit."""
        stops = req.params.stop
        if not stops:
            if text:
                req.out.put(text)
            return False
        pending = req.held + text
        hits = [i for i in (pending.find(s) for s in stops) if i >= 0]
        if hits:
            if pending[:min(hits)]:
                req.out.put(pending[:min(hits)])
            req.held = ""
            return True
        keep = max((k for s in stops for k in range(1, len(s)) if pending.endswith(s[:k])), default=0)
        if pending[:len(pending) - keep]:
            req.out.put(pending[:len(pending) - keep])
        req.held = pending[len(pending) - keep:]
        return False


def _drain(out: queue.SimpleQueue, timeout: float = 10.0) -> None:
    """Wait until the scheduler has finished a cancelled request (it puts _DONE last)."""
    try:
        while out.get(timeout=timeout) is not _DONE:
            pass
    except queue.Empty:
        pass


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
