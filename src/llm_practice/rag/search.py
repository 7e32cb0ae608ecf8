"""Hybrid retrieval: dense (the store) + BM25 (jieba), fused by weighted normalised scores, optionally reranked.

Each result's `score` is the fused score, 0..1 (1 = first in both lists): DENSE_WEIGHT times the
dense similarity scaled over the dense candidates plus the rest times BM25 scaled by its best, or
the cross-encoder's probability when a reranker is used. At most PER_FILE chunks of one file are in
the results while chunks of other files are left (a page cannot fill all k slots). `relevant` says whether anything
matched at all: a dense similarity above the embedder's floor, or most of the query's words
present in the chunk. `kb ask` answers "I don't know" when no result is relevant.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import ConfigError
from .filters import MetadataFilter
from .lexical import is_stop_word_query
from .splitter import join_cjk

DENSE_WEIGHT = 0.6  # share of the fused score from the dense similarity; the rest from BM25
PER_FILE = 2  # at most this many chunks of one file in the results, unless nothing else is left
# cosine below which a dense hit is unrelated; e5's similarities crowd into 0.7..0.9
DENSE_FLOOR = {"multilingual-e5-small": 0.83}
DEFAULT_DENSE_FLOOR = 0.45
LEXICAL_FLOOR = 0.6  # share of query words present in the chunk


@dataclass
class SearchResult:
    source: str
    text: str
    score: float
    metadata: dict = field(default_factory=dict)
    relevant: bool = True

    def to_json(self) -> dict:
        return {"source": self.source, "text": self.text, "score": round(self.score, 4), **self.metadata}


def display_source(row: dict) -> str:
    source = row["source"]
    if row.get("page") is not None and row["page"] >= 0:
        return f"{source}#page={row['page']}"
    if row.get("heading"):
        return f"{source}#{row['heading']}"
    return source


def _shingles(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i:i + 4] for i in range(max(len(compact) - 3, 1))}


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    return bool(a) and bool(b) and len(a & b) / len(a | b) >= 0.85


def _fuse(dense: list[tuple[dict, float]], lexical: list[tuple[dict, float, float]]) -> dict[str, dict]:
    """A convex combination of the two lists' scores, each scaled to 0..1 over its own candidates
    (dense: min..max similarity; BM25: 0..max), so a chunk near the top of one list only keeps
    what that list says about it (a rank-only fusion loses how far ahead it was)."""
    fused: dict[str, dict] = {}

    def entry(row: dict) -> dict:
        return fused.setdefault(row["id"], {"row": row, "fused": 0.0, "dense": None, "lexical": None, "share": 0.0})

    if dense:
        top, low = dense[0][1], dense[-1][1]
        span = top - low
        for row, sim in dense:
            e = entry(row)
            e["dense"] = sim
            e["fused"] += DENSE_WEIGHT * ((sim - low) / span if span > 1e-9 else 1.0)
    if lexical:
        top = max(score for _, score, _ in lexical)
        for row, score, share in lexical:
            e = entry(row)
            e["lexical"], e["share"] = score, share
            e["fused"] += (1 - DENSE_WEIGHT) * (score / top if top > 0 else 0.0)
    return fused


def hybrid_search(kb, query: str, k: int = 5, filters: list[MetadataFilter] | None = None,
                  reranker=None, candidates: int | None = None) -> list[SearchResult]:
    query = query.strip()
    if not query:
        raise ConfigError("QUERY", "the query is empty.", "Ask a question or give search words.")
    if is_stop_word_query(query):
        raise ConfigError("QUERY", f"'{query}' has only stop words (like 'the', '的'); there is nothing to search for.",
                          "Add the words that matter, e.g. a name, a term or a topic.")
    if k < 1:
        raise ConfigError("-k", f"must be at least 1, got {k}.")
    filters = filters or []
    n = candidates or max(4 * k, 20)
    manifest = kb.manifest  # read once: it is parsed from disk on each access
    excluded = manifest.pending + manifest.garbage
    live = {e.doc_id for e in manifest.files.values()}
    vector = kb.embedder.embed([join_cjk(query)], "query")[0]
    lexical_index = kb.lexical()
    matrix = lexical_index.dense if lexical_index is not None else None
    if matrix is not None and matrix.covers(live):  # exact, in memory (dense.py)
        skip = set(excluded)
        dense = matrix.search(vector, n, lambda row: row["doc_id"] in live and row["doc_id"] not in skip
                              and all(f.matches(row) for f in filters))
    else:  # no snapshot, or one that misses a live document: the store's own search
        dense = [(row, sim) for row, sim in kb.store.search(vector, n, filters, excluded) if row["doc_id"] in live]
    lexical = []
    if lexical_index is not None:
        lexical = [(row, s, share) for row, s, share in lexical_index.search(query, n * 3, set(excluded))
                   if row["doc_id"] in live and all(f.matches(row) for f in filters)][:n]
    floor = DENSE_FLOOR.get(manifest.config.embedder, DEFAULT_DENSE_FLOOR)
    fused = _fuse(dense, lexical)
    ranked = sorted(fused.values(), key=lambda e: -e["fused"])
    want = 3 * k if reranker is not None else k
    results: list[SearchResult] = []
    overflow: list[SearchResult] = []
    per_file: Counter = Counter()
    kept: list[set[str]] = []
    for entry in ranked:
        row = entry["row"]
        grams = _shingles(row["text"])
        if any(_near_duplicate(grams, other) for other in kept):
            continue  # the same passage repeated (overlap, copies): keep the better-ranked one
        kept.append(grams)
        relevant = (entry["dense"] or 0) >= floor or entry["share"] >= LEXICAL_FLOOR
        meta = {"file": row["source"], "type": row["type"], "heading": row["heading"] or None,
                "page": row["page"] if row["page"] >= 0 else None, "start": row["start"], "end": row["end"],
                "doc_id": row["doc_id"], "chunk_id": row["id"],
                "dense": round(entry["dense"], 4) if entry["dense"] is not None else None,
                "bm25": round(entry["lexical"], 4) if entry["lexical"] is not None else None}
        result = SearchResult(display_source(row), row["text"], min(1.0, max(0.0, entry["fused"])), meta, relevant)
        if per_file[row["source"]] >= PER_FILE:
            overflow.append(result)  # shown only when fewer than `want` other results exist
            continue
        per_file[row["source"]] += 1
        results.append(result)
        if len(results) >= want:
            break
    results += overflow[:want - len(results)]
    if reranker is not None and results:
        scores = reranker.score(query, [r.text for r in results])
        for result, score in zip(results, scores):
            result.metadata["fused"] = round(result.score, 4)
            result.score = float(score)
        results = sorted(results, key=lambda r: -r.score)[:k]
    return results
