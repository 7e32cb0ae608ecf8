"""`prepare_pretraining`: turn raw domain text into a clean post-pretraining corpus.

Pipeline per document (in worker processes, all local cores by default):
normalise -> line filters -> document filters (length, symbol ratio, repetition) -> language ->
PII masking -> exact hash + MinHash signature. The main process then drops exact duplicates and
near-duplicates (MinHash LSH, first one kept), mixes in documents sampled from a general corpus
at the given ratio (the usual advice against catastrophic forgetting), writes the corpus, and
writes a JSON report of what was removed and why (optionally the removed documents too).

Cluster executors (datatrove's Slurm/Ray) are not wired: this runs on one machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError
from . import clean
from ..atomic import atomic_path
from .files import write_records
from .validate import iter_canonical

BATCH = 256


class PrepareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_chars: int = Field(20, ge=0)
    max_chars: int = Field(200_000, ge=1)
    max_symbol_ratio: float = Field(0.3, ge=0, le=1)
    max_line_symbol_ratio: float = Field(0.5, ge=0, le=1)
    max_repetition: float = Field(0.5, ge=0, le=1)
    languages: list[str] = ["zh", "en"]
    dedup: bool = True
    near_dup_threshold: float = Field(0.8, gt=0, le=1)
    num_perm: int = 128
    shingle: int = Field(5, ge=1)
    pii: bool = True
    zh_punct: Literal["keep", "half"] = "keep"
    mix: list[Path] = []
    mix_ratio: float = Field(0.0, ge=0, lt=1)
    workers: int | None = None
    seed: int = 0


class PrepareReport(BaseModel):
    inputs: list[str]
    output: str
    documents_in: int = 0
    documents_out: int = 0
    kept_domain: int = 0
    removed: dict[str, int] = {}
    lines_dropped: int = 0
    pii_masked: dict[str, int] = {}
    languages: dict[str, int] = {}
    general_mixed: int = 0
    general_wanted: int = 0
    workers: int = 1


# ---- worker side ---------------------------------------------------------------------------

_CONFIG: PrepareConfig | None = None
_HASHER = None


def _init(config: PrepareConfig) -> None:
    global _CONFIG, _HASHER
    from .minhash import MinHasher

    _CONFIG = config
    _HASHER = MinHasher(config.num_perm, config.shingle, seed=config.seed + 1) if config.dedup else None


def clean_document(text: str, config: PrepareConfig) -> tuple[str | None, str, dict]:
    """-> (cleaned text or None, reason it was removed or its language, details)."""
    text = clean.normalize(text, config.zh_punct)
    text, dropped = clean.filter_lines(text, config.max_line_symbol_ratio)
    info = {"lines_dropped": dropped}
    if len(text) < config.min_chars:
        return None, "too_short", info
    if len(text) > config.max_chars:
        return None, "too_long", info
    if clean.symbol_ratio(text) > config.max_symbol_ratio:
        return None, "symbols", info
    if clean.repetition(text) > config.max_repetition:
        return None, "repetition", info
    lang = clean.language(text)
    if config.languages and lang not in config.languages:
        return None, f"language_{lang}", info
    if config.pii:
        text, found = clean.mask_pii(text)
        info["pii"] = dict(found)
    return text, lang, info


def _work(batch: list[str]) -> list[tuple]:
    out = []
    for raw in batch:
        text, verdict, info = clean_document(raw, _CONFIG)
        if text is None:
            out.append((None, verdict, info, raw, None, None))
            continue
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        sig = _HASHER.signature(text) if _HASHER else None
        out.append((text, verdict, info, None, digest, sig))
    return out


# ---- main side -----------------------------------------------------------------------------

def _texts(paths: list[Path]) -> Iterator[str]:
    for path in paths:
        for _, rec in iter_canonical(path, stage="pt"):
            yield rec.text


def _batches(items: Iterator[str], failure: list) -> Iterator[list[str]]:
    """Batches for the pool. An input error is stashed, not raised: `Pool.imap` hangs when its
    iterable raises (CPython issue 66587), so the caller re-raises it after the pool drains."""
    batch: list[str] = []
    try:
        for item in items:
            batch.append(item)
            if len(batch) == BATCH:
                yield batch
                batch = []
    except Exception as e:  # noqa: BLE001  re-raised by prepare_pretraining
        failure.append(e)
        return
    if batch:
        yield batch


def _sample_general(paths: list[Path], k: int, seed: int) -> list[str]:
    """Reservoir sample of k general documents (memory holds only k)."""
    rng = random.Random(seed)
    sample: list[str] = []
    for i, text in enumerate(_texts(paths)):
        if i < k:
            sample.append(text)
        else:
            j = rng.randint(0, i)
            if j < k:
                sample[j] = text
    return sample


def prepare_pretraining(inputs: list[str | Path], out: str | Path, config: PrepareConfig | None = None,
                        removed_path: str | Path | None = None) -> PrepareReport:
    config = config or PrepareConfig()
    inputs = [Path(p) for p in inputs]
    out = Path(out)
    if out.suffix.lower() not in (".jsonl", ".txt"):
        raise ConfigError("OUT", f"must end in .jsonl or .txt, got '{out.name}'",
                          "A .jsonl file holds one {\"text\": ...} per line.")
    if config.dedup:
        from .minhash import MinHasher

        try:
            MinHasher(config.num_perm)
        except ValueError as e:
            raise ConfigError("--num-perm", str(e), "Use 64, 128 or 256.") from None
    workers = config.workers or os.cpu_count() or 1
    report = PrepareReport(inputs=[str(p) for p in inputs], output=str(out), workers=workers)
    removed, pii, langs = Counter(), Counter(), Counter()
    exact: set[bytes] = set()
    from .minhash import LSHIndex

    index = LSHIndex(config.near_dup_threshold, config.num_perm) if config.dedup else None
    removed_file = open(removed_path, "w", encoding="utf-8") if removed_path else None  # noqa: SIM115

    def drop(reason: str, text: str) -> None:
        removed[reason] += 1
        if removed_file:
            removed_file.write(json.dumps({"reason": reason, "text": text}, ensure_ascii=False) + "\n")

    failure: list[Exception] = []
    with atomic_path(out.with_name(out.name + ".domain")) as domain_tmp:
        with domain_tmp.open("w", encoding="utf-8") as domain:
            if workers > 1:
                pool = get_context("spawn").Pool(workers, initializer=_init, initargs=(config,))
                results = pool.imap(_work, _batches(_texts(inputs), failure), chunksize=1)
            else:
                _init(config)
                pool, results = None, map(_work, _batches(_texts(inputs), failure))
            try:
                for batch in results:
                    for text, verdict, info, raw, digest, sig in batch:
                        report.documents_in += 1
                        report.lines_dropped += info["lines_dropped"]
                        if text is None:
                            drop(verdict, raw)
                            continue
                        if config.dedup:
                            if digest in exact:
                                drop("exact_duplicate", text)
                                continue
                            exact.add(digest)
                            if index.find_or_add(sig) is not None:
                                drop("near_duplicate", text)
                                continue
                        pii.update(info.get("pii", {}))
                        langs[verdict] += 1
                        report.kept_domain += 1
                        domain.write(json.dumps(text, ensure_ascii=False) + "\n")
                if failure:
                    raise failure[0]
            finally:
                if pool:
                    pool.terminate()
                if removed_file:
                    removed_file.close()
        general = _mix(config, report, pii)
        report.documents_out = _interleave(out, domain_tmp, general, report.kept_domain)
    report.removed = dict(removed)
    report.pii_masked = dict(pii)
    report.languages = dict(langs)
    with atomic_path(report_path(out)) as tmp:
        tmp.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


def report_path(out: Path) -> Path:
    return out.with_name(out.stem + ".report.json")


def _mix(config: PrepareConfig, report: PrepareReport, pii: Counter) -> list[str]:
    if not config.mix or config.mix_ratio <= 0:
        return []
    want = round(report.kept_domain * config.mix_ratio / (1 - config.mix_ratio))
    report.general_wanted = want
    no_dedup = config.model_copy(update={"dedup": False})
    general = []
    for raw in _sample_general(config.mix, int(want * 1.2) + 1, config.seed):
        text, _, info = clean_document(raw, no_dedup)
        if text is not None and len(general) < want:
            general.append(text)
            pii.update(info.get("pii", {}))
    random.Random(config.seed).shuffle(general)
    report.general_mixed = len(general)
    return general


def _interleave(out: Path, domain_tmp: Path, general: list[str], n_domain: int) -> int:
    """Spread the general documents evenly between the domain ones."""
    def docs():
        g = 0
        with domain_tmp.open(encoding="utf-8") as f:
            for i, line in enumerate(f):
                while g < len(general) and g * n_domain <= i * len(general):
                    yield {"text": general[g]}
                    g += 1
                yield {"text": json.loads(line)}
        yield from ({"text": t} for t in general[g:])

    return write_records(out, docs())
