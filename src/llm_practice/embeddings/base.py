"""The `Embedder` interface (LangChain's `Embeddings`) and what every embedder shares.

Subclasses implement one method, `_embed(texts, role) -> (n, dim) float32 array`, where `role`
is "query" or "passage" (e5 needs the two prefixes; symmetric models ignore it). The base class
adds what ingestion needs: documents are de-duplicated, looked up in an on-disk cache keyed by
the content hash (so re-adding a file costs nothing), sorted by length so a batch carries little
padding, embedded in batches, and returned in the caller's order, L2-normalised.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Literal

from langchain_core.embeddings import Embeddings

Role = Literal["query", "passage"]


class EmbeddingCache:
    """sqlite table text-hash -> float32 bytes, one file per embedder (safe across processes)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        self._lock = threading.Lock()

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                marks = ",".join("?" * len(part))
                found.update(self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part))
        return found

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", items)


class Embedder(Embeddings):
    """Base class: `embed_documents` / `embed_query` over one `_embed` method."""

    name: str = "embedder"
    dimensions: int = 0
    batch_size: int = 32

    def __init__(self, cache: EmbeddingCache | None = None):
        self.cache = cache

    # -- what a subclass implements -------------------------------------------------------
    def _embed(self, texts: list[str], role: Role):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- LangChain's interface ------------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts, "passage").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text], "query")[0].tolist()

    # -- arrays, cache, batching ----------------------------------------------------------
    def embed(self, texts: list[str], role: Role = "passage",
              progress: Callable[[int], None] | None = None):
        """(n, dim) float32 rows in the order of `texts`; `progress(k)` after each batch of k new texts."""
        import numpy as np

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        keys = [self._key(t, role) for t in texts]
        cached = self.cache.get_many(sorted(set(keys))) if self.cache is not None else {}
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts):
            if key not in cached:
                todo.setdefault(key, text)
        pending = sorted(todo.items(), key=lambda kv: len(kv[1]))
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start:start + self.batch_size]
            vectors = np.asarray(self._embed([t for _, t in batch], role), dtype=np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            fresh = [(k, v.tobytes()) for (k, _), v in zip(batch, vectors)]
            cached.update(fresh)
            if self.cache is not None:
                self.cache.put_many(fresh)
            if progress is not None:
                progress(len(batch))
        for i, key in enumerate(keys):
            out[i] = np.frombuffer(cached[key], dtype=np.float32)
        return out

    def _key(self, text: str, role: Role) -> str:
        return hashlib.sha256(f"{self.name}\0{role}\0{text}".encode()).hexdigest()
