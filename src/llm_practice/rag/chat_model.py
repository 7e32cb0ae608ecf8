"""A lazily loaded engine for `kb ask`: "I don't know" answers never wait for a model to load.

The chat model in the chain is `llm_practice.chat.langchain.LlmpChatModel` over this engine.
"""

from __future__ import annotations

from typing import Callable


class LazyEngine:
    """Stands in for a `ChatEngine`; `load()` runs on first use of any attribute."""

    def __init__(self, load: Callable[[], object]):
        self._load = load
        self._engine = None

    def __getattr__(self, name: str):
        if self._engine is None:
            self._engine = self._load()
        return getattr(self._engine, name)
