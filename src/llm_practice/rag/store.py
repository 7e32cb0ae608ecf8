"""The vector store interface a knowledge base writes to, and its registry of backends.

A store holds chunk rows (`ROW_FIELDS` plus a float32 `vector`) and answers three questions:
which rows belong to a document (`doc_ids`), the nearest rows to a vector under filters
(`search`), and every row's text (`rows`, for the BM25 index). LanceDB (embedded, default) and
Milvus (Milvus Lite file, or a server/cluster URI) implement it; tests/test_rag_store.py is one
conformance suite run against both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

from .filters import MetadataFilter

ROW_FIELDS = ("id", "doc_id", "source", "type", "heading", "page", "start", "end", "text")


class VectorStore(ABC):
    dim: int

    @abstractmethod
    def add(self, rows: list[dict]) -> None:
        """Insert rows (each has ROW_FIELDS and `vector`)."""

    @abstractmethod
    def delete_docs(self, doc_ids: list[str]) -> None:
        """Remove every row of these documents."""

    @abstractmethod
    def search(self, vector, k: int, filters: list[MetadataFilter], exclude_docs: list[str]) -> list[tuple[dict, float]]:
        """The k nearest rows as (row without vector, cosine similarity), best first."""

    @abstractmethod
    def rows(self, fields: tuple[str, ...] = ROW_FIELDS) -> list[dict]:
        """Every row (without vectors)."""

    def rows_with_vectors(self, fields: tuple[str, ...] = ROW_FIELDS):
        """(every row, their vectors as one (n, dim) float32 matrix) for a store whose own vector
        search is a flat scan, so the knowledge base keeps an exact copy to search in memory
        (dense.py); None for a store with its own index (Milvus)."""
        return None

    @abstractmethod
    def doc_ids(self) -> set[str]:
        """The documents that have rows."""

    @abstractmethod
    def count(self) -> int:
        ...

    def close(self) -> None:
        pass


# backend name -> class, imported only when that backend is used
BACKENDS = {"lancedb": "llm_practice.rag.store_lancedb:LanceStore", "milvus": "llm_practice.rag.store_milvus:MilvusStore"}


def _collection(name: str) -> str:
    """Milvus collection names take only ASCII letters, digits and '_': other names (产品手册) get a hash."""
    if name.isascii():
        return f"kb_{name}".replace("-", "_")
    import hashlib

    return "kb_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:16]


def _location(name: str, folder: Path, uri: str | None) -> dict:
    """Where a backend keeps a knowledge base: a folder or file inside it, unless --uri says otherwise."""
    if name == "milvus":
        return {"uri": uri or str(folder / "milvus.db"), "collection": _collection(folder.name)}
    return {"uri": uri or str(folder / "lancedb")}


def open_store(name: str, folder: Path, uri: str | None, dim: int) -> VectorStore:
    from importlib import import_module

    module, cls = BACKENDS[name].split(":")
    return getattr(import_module(module), cls)(dim=dim, **_location(name, folder, uri))


STORES: dict[str, Callable[[Path, str | None, int], VectorStore]] = {
    name: (lambda folder, uri, dim, name=name: open_store(name, folder, uri, dim)) for name in BACKENDS}
