"""Exact dense search over a resident float32 matrix, kept next to the BM25 index.

LanceDB without an index answers a vector query with a flat scan of the table: measured at
100,000 chunks on 2 cores, about 60-80 ms a query, most of a search's time. The same exact
scan as one numpy matrix-vector product over an mmapped `vectors.npy` costs a fraction of that
(it is bound by reading 100,000 x 384 float32 from memory), and an approximate index would trade
recall for speed, so we keep the search exact and change only where it runs.

The matrix is written with the BM25 index (`lexical/vectors.npy`, rows in the order of
`rows.parquet`, L2-normalised) by every rebuild after `kb add` and `kb rm`, in the same
temporary folder that is renamed into place, so it always matches the rows beside it. It is a
snapshot of the documents that were live then: `search` drops rows of documents that are no
longer live, and the caller falls back to the store's own search when a live document is missing
from the snapshot (a `kb add` in progress, a crash before its rebuild, a store written by an
older version that has no `vectors.npy`). Results match the store's flat scan: the same rows,
the same cosine similarities (to float rounding), the same filters applied before the top k.

The scan itself runs in faiss on a float16 copy of the matrix (`IndexScalarQuantizer`, fp16),
one thread: half the bytes to read and SIMD code instead of numpy's float32 matrix-vector product
(measured at 100,000 x 384 on 2 busy cores: about 4 ms of CPU against 16 ms; cosines differ from
float32 by under 1e-3). Without faiss it is the numpy product over the float32 file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

FILE = "vectors.npy"


def write_matrix(folder: Path, vectors) -> None:
    """Save `vectors` (n, dim) L2-normalised as float32 into `folder/vectors.npy`."""
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float32)
    if len(matrix):
        matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    np.save(folder / FILE, np.ascontiguousarray(matrix, dtype=np.float32))


class DenseMatrix:
    """The rows of a BM25 snapshot with their vectors; `search` is an exact cosine top-n."""

    def __init__(self, path: Path, rows: list[dict]):
        import numpy as np

        self._np = np
        self.vectors = np.load(path, mmap_mode="r")
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(rows):
            raise ValueError(f"{path}: {self.vectors.shape} does not match {len(rows)} rows")
        self.rows = rows
        self.doc_ids = {r["doc_id"] for r in rows}
        self._index = _fp16_index(self.vectors)

    @classmethod
    def open(cls, folder: Path, rows: list[dict]) -> "DenseMatrix | None":
        """The matrix in `folder`, or None when there is none (an older store) or it does not fit."""
        path = folder / FILE
        if not path.is_file():
            return None
        try:
            return cls(path, rows)
        except (OSError, ValueError):
            return None

    def covers(self, doc_ids: set[str]) -> bool:
        return doc_ids <= self.doc_ids

    def search(self, vector, n: int, keep: Callable[[dict], bool]) -> list[tuple[dict, float]]:
        """The n rows nearest to `vector` among those `keep` accepts, as (row, cosine), best first."""
        np = self._np
        total = len(self.rows)
        if total == 0 or n < 1:
            return []
        query = np.asarray(vector, dtype=np.float32)
        if query.shape != (self.vectors.shape[1],):
            raise ValueError(f"query has {query.shape} dimensions, the knowledge base {self.vectors.shape[1]}")
        query = np.ascontiguousarray(query / max(float(np.linalg.norm(query)), 1e-12), dtype=np.float32)
        scores = None  # every row's score, computed only when the top `want` are not enough
        want = min(total, 4 * n)  # a few more than n: some may be filtered out
        seen: set[int] = set()
        out: list[tuple[dict, float]] = []
        while True:
            if self._index is not None and want < total:
                top_scores, order = _faiss_top(self._index, query, want)
            else:
                if scores is None:
                    scores = self.vectors @ query
                if want >= total:
                    order = np.argsort(-scores, kind="stable")
                else:
                    top = np.argpartition(-scores, want)[:want]
                    order = top[np.argsort(-scores[top], kind="stable")]
                top_scores = scores[order]
            for i, score in zip(order.tolist(), top_scores.tolist()):
                if i in seen or i < 0:
                    continue
                seen.add(i)
                row = self.rows[i]
                if keep(row):
                    out.append((row, float(score)))
                    if len(out) == n:
                        return out
            if want >= total:
                return out
            want = min(total, want * 8)


def _fp16_index(vectors):
    """A faiss float16 inner-product index over `vectors`, or None without faiss (or too few rows to matter)."""
    from importlib.util import find_spec

    if len(vectors) < 2048 or find_spec("faiss") is None:
        return None
    import faiss
    import numpy as np

    index = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    for start in range(0, len(vectors), 65536):  # fp16 conversion in slices: no second float32 copy
        index.add(np.ascontiguousarray(vectors[start:start + 65536], dtype=np.float32))
    return index


def _faiss_top(index, query, want: int):
    """(scores, row numbers) of the `want` best rows, best first, on one thread: a single query
    gains little from a second thread, and on a busy machine the two wait for each other."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        scores, ids = index.search(query[None, :], want)
    finally:
        faiss.omp_set_num_threads(threads)
    return scores[0], ids[0]
