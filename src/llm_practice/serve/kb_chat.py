"""A knowledge base answering as a chat model: what `/v1/kb/{name}/ask` and the model `kb:NAME` in
`/v1/chat/completions` share.

`ground` retrieves for the conversation's last user message (a follow-up is searched together
with the previous user question) and builds the messages for the served chat model: the
numbered passages [1]..[n] in the prompt, the earlier turns kept. When nothing relevant is
found there is nothing to ground an answer in, so no model runs: the answer is "I don't know".
The sources go back twice: as a `sources` list (number, file, score, text) next to the answer,
and as a "Sources:" footer at the end of the answer text, so a client that shows only the text
still shows where the answer comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

KB_PREFIX = "kb:"
FOOTER = {"en": "Sources:", "zh": "来源："}


@dataclass
class Grounded:
    question: str
    lang: str
    sources: list[dict] = field(default_factory=list)
    messages: list[dict] | None = None  # None: nothing relevant, answer "I don't know"

    def footer(self) -> str:
        if not self.sources:
            return ""
        lines = [f"[{s['n']}] {s['source']}" for s in self.sources]
        return "\n\n" + FOOTER[self.lang] + "\n" + "\n".join(lines)

    def dont_know(self) -> str:
        from ..rag.answer import DONT_KNOW

        return DONT_KNOW[self.lang]


def ground(name: str, conversation: list[dict], k: int = 3, filters=None) -> Grounded:
    """Retrieve from knowledge base `name` for the last user message of `conversation`."""
    from langchain_core.documents import Document

    from ..errors import ConfigError
    from ..rag.answer import PROMPTS, format_context, language_of
    from ..rag.kb import KnowledgeBase

    users = [i for i, m in enumerate(conversation) if m["role"] == "user" and m["content"].strip()]
    if not users:
        raise ConfigError("messages", "a knowledge base needs a user message to answer.",
                          "Send at least one message with role 'user'.")
    last = users[-1]
    question = conversation[last]["content"].strip()
    query = question if len(users) == 1 else f"{conversation[users[-2]]['content'].strip()} {question}"
    found = KnowledgeBase(name).search(query, k=k, filters=filters or [])
    relevant = [r for r in found if r.relevant]
    lang = language_of(question)
    grounded = Grounded(question, lang, [{"n": i, "source": r.source, "score": round(r.score, 4), "text": r.text}
                                         for i, r in enumerate(relevant, 1)])
    if relevant:
        system, human = PROMPTS[lang]
        docs = [Document(page_content=r.text, metadata={"source": r.source}) for r in relevant]
        history = [m for m in conversation[:last] if m["role"] in ("user", "assistant")]
        grounded.messages = [{"role": "system", "content": system}, *history,
                             {"role": "user", "content": human.format(context=format_context(docs),
                                                                      question=question)}]
    return grounded


class FixedGeneration:
    """A finished answer with no model behind it ("I don't know"), shaped like a `Generation`."""

    def __init__(self, name: str, text: str):
        self.target = SimpleNamespace(name=name)
        self.stream = SimpleNamespace(prompt_tokens=0, completion_tokens=0, cached_tokens=0)
        self.finish_reason = "stop"
        self._text = text

    async def admit(self) -> None:
        return None

    def __aiter__(self):
        return self._run()

    async def _run(self):
        yield self._text

    async def text(self) -> str:
        return self._text

    def end(self, status: str) -> None:
        return None


class WithFooter:
    """A generation whose text ends with the sources footer (same slot, counts and finish reason)."""

    def __init__(self, generation, footer: str):
        self._generation, self._footer = generation, footer

    def __getattr__(self, name: str):
        return getattr(self._generation, name)

    def __aiter__(self):
        return self._run()

    async def _run(self):
        async for delta in self._generation:
            yield delta
        if self._footer:
            yield self._footer

    async def text(self) -> str:
        return "".join([delta async for delta in self])


async def generate(request, grounded: Grounded, model: str | None, label: str, endpoint: str, params):
    """The answer to `grounded` through the server's one generation service (or "I don't know")."""
    if grounded.messages is None:
        return FixedGeneration(label, grounded.dont_know())
    service = request.app.state.generation
    target = service.pick(model)
    service.check_size(grounded.messages)
    messages = grounded.messages
    generation = await service.start(target, lambda: target.engine.chat(messages, params), endpoint)
    return WithFooter(generation, grounded.footer())
