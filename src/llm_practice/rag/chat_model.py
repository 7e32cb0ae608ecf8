"""Any `ChatEngine` as a LangChain chat model, so it can sit in an LCEL chain (`prompt | model | parser`)."""

from __future__ import annotations

from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LazyEngine:
    """Loads the engine on first use, so "I don't know" answers never wait for a model to load."""

    def __init__(self, load):
        self._load = load
        self._engine = None

    def __getattr__(self, name: str):
        if self._engine is None:
            self._engine = self._load()
        return getattr(self._engine, name)


class EngineChatModel(BaseChatModel):
    """LangChain wrapper of one loaded engine; `params` are its GenerationParams."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    engine: Any
    params: Any

    @property
    def _llm_type(self) -> str:
        return "llmp-engine"

    def _messages(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs) -> Iterator[ChatGenerationChunk]:
        params = self.params.model_copy(update={"stop": [*self.params.stop, *(stop or [])]})
        stream = self.engine.chat(self._messages(messages), params)
        try:
            for delta in stream:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
        finally:
            stream.close()

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs) -> ChatResult:
        text = "".join(c.text for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
