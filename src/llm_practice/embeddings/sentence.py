"""Any sentence-transformers folder as an embedder: the bundled all-MiniLM-L6-v2, or one you
download (for example BAAI/bge-m3 with `llmp download BAAI/bge-m3`)."""

from __future__ import annotations

from pathlib import Path

from .base import Embedder, EmbeddingCache, Role


class SentenceTransformerEmbedder(Embedder):
    batch_size = 32

    def __init__(self, path: Path, name: str, cache: EmbeddingCache | None = None,
                 query_prefix: str = "", passage_prefix: str = ""):
        super().__init__(cache)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            from ..errors import EngineMissingError

            raise EngineMissingError("sentence-transformers", "pip install 'llm-practice[rag]'", str(e)) from e
        self.name = name
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimensions = int(dim())
        self._prefix = {"query": query_prefix, "passage": passage_prefix}

    def _embed(self, texts: list[str], role: Role):
        prefix = self._prefix[role]
        return self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                  show_progress_bar=False, convert_to_numpy=True)
