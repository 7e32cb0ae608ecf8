"""A LangChain chat model over any of our engines, so LangChain chains can use them.

    from llm_practice.chat.langchain import LlmpChatModel
    llm = LlmpChatModel(engine=load_engine(get_model("smollm2-135m-instruct")), temperature=0)
    llm.invoke("Tell me the name of the capital of France.").content      # 'The capital of France is Paris.'
    for chunk in llm.stream("Say hello."): ...

The engine may be local (llama.cpp, transformers) or remote (`chat.remote.connect(URL)`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from .engine import ChatEngine, ChatStream, GenerationParams

# LangChain message type -> chat role
ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool",
         "function": "tool", "chat": "user"}


def to_messages(messages: list[BaseMessage]) -> list[dict]:
    return [{"role": getattr(m, "role", None) if m.type == "chat" else ROLES.get(m.type, "user"),
             "content": m.content if isinstance(m.content, str) else m.text()} for m in messages]


class LlmpChatModel(BaseChatModel):
    """LangChain's `BaseChatModel` backed by a `ChatEngine`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Any = Field(exclude=True)  # a ChatEngine
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 512
    seed: int | None = None

    @property
    def _llm_type(self) -> str:
        return "llm-practice"

    @property
    def _identifying_params(self) -> dict:
        engine: ChatEngine = self.engine
        return {"engine": engine.name, "model": engine.model.name, "temperature": self.temperature,
                "top_p": self.top_p, "max_tokens": self.max_tokens, "seed": self.seed}

    def _start(self, messages: list[BaseMessage], stop: list[str] | None) -> ChatStream:
        params = GenerationParams(temperature=self.temperature, top_p=self.top_p,
                                  max_tokens=self.max_tokens, seed=self.seed, stop=stop or [])
        return self.engine.chat(to_messages(messages), params)

    @staticmethod
    def _metadata(stream: ChatStream) -> dict:
        return {"finish_reason": stream.finish_reason,
                "token_usage": {"prompt_tokens": stream.prompt_tokens,
                                "completion_tokens": stream.completion_tokens}}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        stream = self._start(messages, stop)
        text = stream.text()
        message = AIMessage(content=text, response_metadata=self._metadata(stream),
                            usage_metadata={"input_tokens": stream.prompt_tokens,
                                            "output_tokens": stream.completion_tokens,
                                            "total_tokens": stream.prompt_tokens + stream.completion_tokens})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
                ) -> Iterator[ChatGenerationChunk]:
        stream = self._start(messages, stop)
        try:
            for delta in stream:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
        finally:
            stream.close()
        yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata=self._metadata(stream)))
