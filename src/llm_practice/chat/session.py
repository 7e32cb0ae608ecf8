"""A multi-turn conversation over any `ChatEngine`: history, system prompt, reset, save.

    session = ChatSession(engine, GenerationParams(temperature=0), system="Be brief.")
    print(session.ask("What is the capital of France?").text())
    print(session.ask("And of Italy?").text())   # the model sees the first turn too
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_write_json
from ..errors import ChatFileError
from .engine import ChatEngine, ChatStream, GenerationParams, Message


class ChatSession:
    def __init__(self, engine: ChatEngine, params: GenerationParams, system: str | None = None):
        self.engine = engine
        self.params = params
        self.system = system
        self.turns: list[Message] = []

    @property
    def messages(self) -> list[Message]:
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + self.turns

    def ask(self, question: str) -> ChatStream:
        """Stream the answer; the turn is recorded as the stream is consumed (partial if cut)."""
        self.turns.append({"role": "user", "content": question})
        answer = {"role": "assistant", "content": ""}
        self.turns.append(answer)
        inner = self.engine.chat(self.messages[:-1], self.params)

        def produce(outer: ChatStream):
            outer.on_cancel(inner.close)
            try:
                for delta in inner:
                    answer["content"] += delta
                    yield delta
            finally:
                outer.prompt_tokens = inner.prompt_tokens
                outer.completion_tokens = inner.completion_tokens
                outer.finish_reason = outer.finish_reason or inner.finish_reason

        return ChatStream(produce)

    def reset(self) -> None:
        self.turns.clear()

    def ask_raw(self, text: str) -> ChatStream:
        """Continue `text` as plain text, without a chat template (base models, `--raw`)."""
        return self.engine.complete(text, self.params)

    def set_system(self, text: str) -> None:
        self.system = text or None
        self.reset()

    def save(self, path: str | Path) -> int:
        """Write the conversation as OpenAI-style messages JSON; returns the message count."""
        path = Path(path).expanduser()
        data = {"model": self.engine.model.name, "messages": self.messages}
        try:
            atomic_write_json(path, data, indent=2)
        except OSError as e:
            raise ChatFileError(path, f"cannot write the conversation ({e.strerror}).") from e
        return len(data["messages"])
