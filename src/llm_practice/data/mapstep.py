"""The map step of `prepare-pt`: everything done to one document on its own, in a worker.

Line steps (boilerplate lines, normalisation, noisy, near-empty and in-document repeated lines),
document filters (length, symbols, repetition, language), PII masking, splitting to `max_chars`,
and the exact hash and MinHash signature of each piece. Workers (local processes or Ray tasks, see
`executors.py`) call `init_worker` once, then `map_batch` on batches of raw documents.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Iterator

from . import clean
from .documents import Boilerplate, remove_boilerplate, split_document

BATCH = 256

# ---- worker side ---------------------------------------------------------------------------

_CONFIG = None  # the run's PrepareConfig
_HASHER = None
_BOILERPLATE = Boilerplate()


def init_worker(config, boilerplate: Boilerplate | None = None) -> None:
    global _CONFIG, _HASHER, _BOILERPLATE
    from .minhash import MinHasher

    _CONFIG = config
    _HASHER = MinHasher(config.num_perm, config.shingle, seed=config.seed + 1) if config.dedup else None
    _BOILERPLATE = boilerplate or Boilerplate()


def clean_document(text: str, config, boilerplate: Boilerplate | None = None
                   ) -> tuple[list[str] | None, str, dict]:
    """-> (cleaned pieces or None, reason it was removed or its language, details).

    details: "chars" (reason -> characters removed, summing to len(text) minus the pieces),
    "lines" (reason -> lines removed), "pii" (kind -> masked)."""
    chars, lines = Counter(), Counter()
    info = {"chars": chars, "lines": lines}
    text, cut, n = remove_boilerplate(text, boilerplate or Boilerplate())
    chars["boilerplate_line"] += cut
    lines["boilerplate_line"] += n
    before = len(text)
    text = clean.normalize(text, config.zh_punct)
    text, dropped, dropped_chars = clean.filter_lines(text, config.max_line_symbol_ratio)
    lines.update(dropped)
    chars.update(dropped_chars)
    chars["whitespace"] += before - len(text) - sum(dropped_chars.values())
    verdict = None
    if len(text) < config.min_chars:
        verdict = "too_short"
    elif clean.symbol_ratio(text) > config.max_symbol_ratio:
        verdict = "symbols"
    elif clean.repetition(text) > config.max_repetition:
        verdict = "repetition"
    else:
        lang = clean.language(text)
        if config.languages and lang not in config.languages:
            verdict = f"language_{lang}"
    if verdict:
        chars[verdict] += len(text)
        return None, verdict, info
    if config.pii:
        masked, found = clean.mask_pii(text)
        chars["pii_masking"] += len(text) - len(masked)  # may be negative: a tag longer than the text
        text, info["pii"] = masked, dict(found)
    pieces = split_document(text, config.max_chars)
    chars["whitespace"] += len(text) - sum(map(len, pieces))
    return pieces, lang, info


def map_batch(batch: list[str]) -> list[tuple]:
    out = []
    for raw in batch:
        pieces, verdict, info = clean_document(raw, _CONFIG, _BOILERPLATE)
        info["chars_in"] = len(raw)
        if pieces is None:
            out.append((None, verdict, info, raw))
            continue
        hashed = [(text, hashlib.blake2b(text.encode(), digest_size=16).digest(),
                   _HASHER.signature(text) if _HASHER else None) for text in pieces]
        out.append((hashed, verdict, info, None))
    return out


def batches(items: Iterator[str], failure: list) -> Iterator[list[str]]:
    """Batches for the pool. An input error is stashed, not raised: `Pool.imap` hangs when its
    iterable raises (CPython issue 66587), so the caller re-raises it after the pool drains."""
    batch: list[str] = []
    try:
        for item in items:
            batch.append(item)
            if len(batch) == BATCH:
                yield batch
                batch = []
    except Exception as e:  # noqa: BLE001  re-raised by the executor
        failure.append(e)
        return
    if batch:
        yield batch
