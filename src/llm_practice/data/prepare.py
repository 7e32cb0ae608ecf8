"""`prepare_pretraining`: turn raw domain text into a clean post-pretraining corpus.

What a document is comes first (`documents.py`): a whole `.txt`/`.md` file by default, or its
paragraphs or lines (`doc_unit`); `{"text"}` records as they are. A first pass finds boilerplate
lines that repeat across many documents (headers, footers, navigation).

Pipeline per document (in worker processes, all local cores by default): line steps, which remove
lines and keep the document (boilerplate lines, then after normalisation symbol-heavy, near-empty
and in-document repeated lines) -> document filters (length, symbol ratio, repetition, language)
-> PII masking -> split to `max_chars` at paragraph/heading boundaries -> exact hash + MinHash
signature per piece. The main process then drops exact duplicates and near-duplicates (MinHash
LSH, first one kept), mixes in documents sampled from a general corpus at the given ratio (the
usual advice against catastrophic forgetting), writes the corpus (one file, or a folder of JSONL/Parquet shards with a manifest: `shards.py`),
and writes a JSON report: how
many documents and characters went in and came out, and the characters removed per reason, so a
run that throws away most of the text shows it at once (`--removed` keeps the removed documents).

The map step runs in local processes or as Ray tasks on a cluster (`executors.py`); the reduce
step always runs in this process, so the kept documents do not depend on the executor.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..atomic import atomic_path
from ..errors import ConfigError
from .documents import Boilerplate, expand_inputs, find_boilerplate, is_text_file, read_documents
from .executors import local_executor, ray_executor
from .files import COMPRESSED, inner_suffix, write_records
from .mapstep import clean_document
from .shards import DEFAULT_SHARD_SIZE, MANIFEST, ShardWriter
from .stages import map_files, output_fingerprint

class PrepareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_unit: Literal["file", "paragraph", "line"] = "file"
    min_chars: int = Field(20, ge=0)
    max_chars: int = Field(200_000, ge=100)
    boilerplate: bool = True
    boilerplate_share: float = Field(0.3, gt=0, le=1)
    boilerplate_min_docs: int = Field(3, ge=2)
    boilerplate_min_chars: int = Field(16, ge=1)
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
    executor: Literal["local", "ray"] = "local"
    address: str | None = None  # a Ray cluster; None starts a local one
    work_dir: Path | None = None  # keep per-file map results here; a stopped run resumes
    format: Literal["jsonl", "parquet"] = "jsonl"  # of the shards when OUT is a folder
    shard_size: int | None = Field(None, ge=1)  # documents per shard (OUT a folder)
    seed: int = 0


class PrepareReport(BaseModel):
    inputs: list[str]
    output: str
    doc_unit: str = "file"
    documents_in: int = 0
    documents_out: int = 0
    kept_domain: int = 0  # documents (pieces, after splitting) of domain text written
    documents_split: int = 0  # documents longer than max_chars, cut into pieces
    removed: dict[str, int] = {}  # reason -> documents
    chars_in: int = 0
    chars_out: int = 0  # domain text written
    chars_removed: dict[str, int] = {}  # reason -> characters; chars_in = chars_out + their sum
    lines_removed: dict[str, int] = {}  # reason -> lines removed inside kept or removed documents
    lines_dropped: int = 0
    boilerplate_lines: list[str] = []  # the most frequent boilerplate lines found
    chars_general: int = 0
    pii_masked: dict[str, int] = {}
    languages: dict[str, int] = {}
    general_mixed: int = 0
    general_wanted: int = 0
    workers: int = 1
    files_mapped: int = 0  # input files cleaned in this run
    files_reused: int = 0  # input files whose results a stopped run had left in the work folder
    shards: int = 0  # OUT a folder: shards in it
    shards_written: int = 0
    shards_reused: int = 0  # finished by a stopped run, checked against its journal, not rewritten


# ---- main side -----------------------------------------------------------------------------

def _sample_general(paths: list[Path], k: int, seed: int, unit: str) -> list[str]:
    """Reservoir sample of k general documents (memory holds only k)."""
    rng = random.Random(seed)
    sample: list[str] = []
    for i, text in enumerate(read_documents(paths, unit)):
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
    inputs = expand_inputs(inputs)
    out = Path(out)
    sharded = _is_folder_output(out, config)
    if config.dedup:
        from .minhash import MinHasher

        try:
            MinHasher(config.num_perm)
        except ValueError as e:
            raise ConfigError("--num-perm", str(e), "Use 64, 128 or 256.") from None
    workers = config.workers or os.cpu_count() or 1
    report = PrepareReport(inputs=[str(p) for p in inputs], output=str(out), workers=workers,
                           doc_unit=config.doc_unit)
    boilerplate = Boilerplate()
    mix = expand_inputs(config.mix) if config.mix and config.mix_ratio > 0 else []
    # lines of a text file as documents: repeats among them are dedup's job
    if config.boilerplate and (config.doc_unit != "line"
                               or not all(map(is_text_file, inputs))):
        boilerplate = find_boilerplate(read_documents(inputs, config.doc_unit),
                                       config.boilerplate_share, config.boilerplate_min_docs,
                                       config.boilerplate_min_chars)
        report.boilerplate_lines = boilerplate.examples
    writer = None
    if sharded:  # checked before any work: a folder holding other files is refused
        journal = None
        if config.work_dir:
            key = output_fingerprint(inputs, config.model_dump(), boilerplate.keys, mix)
            journal = Path(config.work_dir) / f"shards-{key}.jsonl"
        writer = ShardWriter(out, config.format, config.shard_size or DEFAULT_SHARD_SIZE, journal)
    removed, pii, langs = Counter(), Counter(), Counter()
    chars, lines = Counter(), Counter()
    exact: set[bytes] = set()
    from .minhash import LSHIndex

    index = LSHIndex(config.near_dup_threshold, config.num_perm) if config.dedup else None
    removed_file = open(removed_path, "w", encoding="utf-8") if removed_path else None  # noqa: SIM115

    def drop(reason: str, text: str) -> None:
        removed[reason] += 1
        if reason.endswith("duplicate"):
            chars[reason] += len(text)
        if removed_file:
            removed_file.write(json.dumps({"reason": reason, "text": text}, ensure_ascii=False) + "\n")

    def done(reused: bool) -> None:
        if reused:
            report.files_reused += 1
        else:
            report.files_mapped += 1

    if config.executor == "ray":
        executor = ray_executor(config, boilerplate, workers, config.address)
    else:
        executor = local_executor(config, boilerplate, workers)
    with executor as run, _scratch(Path(config.work_dir or out.parent), out.name) as domain_tmp:
        results = map_files(inputs, config.model_dump(), boilerplate.keys, config.work_dir, run, done)
        with domain_tmp.open("w", encoding="utf-8") as domain:
            try:
                for batch in results:
                    for pieces, verdict, info, raw in batch:
                        report.documents_in += 1
                        report.chars_in += info["chars_in"]
                        chars.update(info["chars"])
                        lines.update(info["lines"])
                        if pieces is None:
                            drop(verdict, raw)
                            continue
                        pii.update(info.get("pii", {}))
                        report.documents_split += len(pieces) > 1
                        for text, digest, sig in pieces:
                            if config.dedup:
                                if digest in exact:
                                    drop("exact_duplicate", text)
                                    continue
                                exact.add(digest)
                                if index.find_or_add(sig) is not None:
                                    drop("near_duplicate", text)
                                    continue
                            langs[verdict] += 1
                            report.kept_domain += 1
                            report.chars_out += len(text)
                            domain.write(json.dumps(text, ensure_ascii=False) + "\n")
            finally:
                if removed_file:
                    removed_file.close()
        general = _mix(config, report, pii)
        docs = _interleave(domain_tmp, general, report.kept_domain)
        if writer:
            shards = writer.write(docs)
            report.documents_out = sum(s["documents"] for s in shards)
            report.shards, report.shards_written, report.shards_reused = (
                len(shards), writer.written, writer.reused)
        else:
            report.documents_out = write_records(out, ({"text": t} for t in docs))
    report.removed = dict(removed)
    report.chars_removed = {k: v for k, v in chars.most_common() if v}
    report.lines_removed = {k: v for k, v in lines.most_common() if v}
    report.lines_dropped = sum(lines.values())
    report.pii_masked = dict(pii)
    report.languages = dict(langs)
    if writer:
        writer.finish(shards, config.model_dump(mode="json"), report.model_dump(mode="json"))
    else:
        with atomic_path(report_path(out)) as tmp:
            tmp.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


def _is_folder_output(out: Path, config: PrepareConfig) -> bool:
    """OUT ending in .jsonl/.txt (optionally compressed) is one file; a name without an extension,
    an existing folder, or --format parquet / --shard-size make it a folder of shards."""
    one_file = inner_suffix(out) in (".jsonl", ".txt") and not out.is_dir()
    wants_shards = config.format != "jsonl" or config.shard_size is not None
    if one_file and wants_shards:
        flag = "--format" if config.format != "jsonl" else "--shard-size"
        raise ConfigError(flag, f"writes a folder of shards, but OUT '{out.name}' names one file",
                          f"Give OUT as a folder, e.g. '{out.name.split('.')[0]}/'.")
    if one_file:
        return False
    if out.suffix and not wants_shards and not out.is_dir():
        raise ConfigError("OUT", f"must end in .jsonl or .txt (optionally .gz/.zst) for one file, or "
                          f"be a folder for shards, got '{out.name}'",
                          "A .jsonl file holds one {\"text\": ...} per line; a folder name (no "
                          "extension) gets JSONL or Parquet shards and a manifest.json.")
    return True


def report_path(out: Path) -> Path:
    if not _is_file_name(out):
        return out / MANIFEST
    stem = Path(out.stem).stem if out.suffix.lower() in COMPRESSED else out.stem
    return out.with_name(stem + ".report.json")


def _mix(config: PrepareConfig, report: PrepareReport, pii: Counter) -> list[str]:
    if not config.mix or config.mix_ratio <= 0:
        return []
    want = round(report.kept_domain * config.mix_ratio / (1 - config.mix_ratio))
    report.general_wanted = want
    no_dedup = config.model_copy(update={"dedup": False})
    config = config.model_copy(update={"mix": expand_inputs(config.mix)})
    general = []
    for raw in _sample_general(config.mix, int(want * 1.2) + 1, config.seed, config.doc_unit):
        pieces, _, info = clean_document(raw, no_dedup)
        for text in pieces or []:
            if len(general) < want:
                general.append(text)
                report.chars_general += len(text)
        if pieces:
            pii.update(info.get("pii", {}))
    random.Random(config.seed).shuffle(general)
    report.general_mixed = len(general)
    return general


@contextmanager
def _scratch(folder: Path, name: str):
    """A temporary file for the kept domain documents, removed afterwards whatever happens."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".domain.tmp")
    os.close(fd)
    try:
        yield Path(path)
    finally:
        Path(path).unlink(missing_ok=True)


def _is_file_name(out: Path) -> bool:
    return inner_suffix(out) in (".jsonl", ".txt") and not out.is_dir()


def _interleave(domain_tmp: Path, general: list[str], n_domain: int):
    """The output's documents: the general ones spread evenly between the domain ones."""
    g = 0
    with domain_tmp.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            while g < len(general) and g * n_domain <= i * len(general):
                yield general[g]
                g += 1
            yield json.loads(line)
    yield from general[g:]
