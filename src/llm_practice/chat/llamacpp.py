"""The llama.cpp engine: GGUF models on CPU (and GPU offload) through llama-cpp-python.

The chat template comes from the GGUF's own `tokenizer.chat_template` (llama-cpp-python picks it
up when no `chat_format` is forced), and generation stops at the model's end-of-turn token.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ..errors import ModelFormatError
from ..models.gguf import inspect_gguf
from ..models.registry import ModelInfo
from .cpu_backend import load_llama_cpp
from .engine import ChatEngine, ChatStream, GenerationParams, Message


@contextlib.contextmanager
def quiet_stderr():
    """llama.cpp prints its load log straight to fd 2; keep the terminal clean."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class LlamaCppEngine(ChatEngine):
    name = "llama.cpp"

    def __init__(self, model: ModelInfo, *, threads: int | None = None, context: int = 4096,
                 gpu_layers: int = 0):
        super().__init__(model, threads=threads, context=context)
        summary = inspect_gguf(model.path)  # a clear error for truncated files, before llama.cpp
        if summary.context_length:
            self.context = min(self.context, int(summary.context_length))
        Llama = load_llama_cpp().Llama

        try:
            with quiet_stderr():
                self.llm = Llama(
                    model_path=str(model.path),
                    n_ctx=self.context,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_gpu_layers=gpu_layers,
                    verbose=False,
                )
        except ValueError as e:
            raise ModelFormatError(model.path, f"llama.cpp could not load it ({e}).") from e
        self.chat_template = summary.chat_template

    def chat(self, messages: list[Message], params: GenerationParams) -> ChatStream:
        return ChatStream(lambda stream: self._generate(stream, messages, params))

    def _generate(self, stream: ChatStream, messages: list[Message], params: GenerationParams
                  ) -> Iterator[str]:
        chunks = self.llm.create_chat_completion(
            messages=messages,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens,
            seed=params.seed,
            stop=params.stop or None,
            response_format={"type": "json_object"} if params.json_mode else None,
            stream=True,
        )
        try:
            first = True
            for chunk in chunks:
                if first:
                    # After the first sampled token the context holds exactly the prompt.
                    stream.prompt_tokens = self.llm.n_tokens
                    first = False
                choice = chunk["choices"][0]
                delta = choice["delta"].get("content")
                if choice.get("finish_reason"):
                    stream.finish_reason = choice["finish_reason"]
                if delta:
                    yield delta
        finally:
            chunks.close()
            if stream.prompt_tokens:
                # Every sampled token but the last is evaluated into the context.
                stream.completion_tokens = self.llm.n_tokens - stream.prompt_tokens + (
                    1 if stream.finish_reason == "length" else 0
                )

    def info(self) -> dict:
        return super().info() | {"chat_template": bool(self.chat_template)}
