"""The map stage of `prepare-pt`, per input file, optionally kept in a work folder to resume.

`prepare-pt` is a map step (clean, filter, mask, split and hash each document: parallel, file by
file) followed by a reduce step (exact and near-duplicate removal across the whole corpus, mixing,
writing: one process, in input order). With a work folder each input file's map results are
written there as one file, atomically (a temporary file, then a rename), named by a fingerprint of
the input (path, size, modification time), of the options that change the results and of the
boilerplate found. A run stopped at any point, `kill -9` included, leaves only complete result
files; the next run with the same inputs and options reads them and maps only the other files.
The reduce step always runs again (it is the sequential, cheap part), so every kept document is
written exactly once. Per-file map tasks are also the seam where a cluster executor would plug in.

Result files are pickles that this code wrote itself into the user's own work folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Callable, Iterator

# options that change only the reduce step, or nothing at all
REDUCE_ONLY = {"workers", "executor", "address", "mix", "mix_ratio", "near_dup_threshold",
               "work_dir", "format", "shard_size"}
# options that change nothing in the output
RUN_ONLY = {"workers", "executor", "address", "work_dir"}

Batches = Iterator[list[tuple]]


def fingerprint(path: Path, options: dict, boilerplate_keys) -> str:
    stat = path.stat()
    h = hashlib.sha256()
    h.update(json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns], default=str).encode())
    h.update(json.dumps({k: v for k, v in sorted(options.items()) if k not in REDUCE_ONLY},
                        default=str).encode())
    for key in sorted(boilerplate_keys):
        h.update(key)
    return h.hexdigest()[:32]


def output_fingerprint(inputs: list[Path], options: dict, boilerplate_keys, mix: list[Path]) -> str:
    """Names what a whole run writes: every input's map fingerprint, the general corpus files and
    every option that changes the output (the shard journal in the work folder is keyed by it)."""
    h = hashlib.sha256()
    for path in inputs:
        h.update(fingerprint(path, options, boilerplate_keys).encode())
    for path in mix:
        stat = path.stat()
        h.update(json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns]).encode())
    h.update(json.dumps({k: v for k, v in sorted(options.items()) if k not in RUN_ONLY},
                        default=str).encode())
    return h.hexdigest()[:32]


def map_files(inputs: list[Path], options: dict, boilerplate_keys, work_dir: Path | None,
              run: Callable[[list[Path]], Batches], done: Callable[[bool], None]) -> Batches:
    """Yield map result batches for every input, in order; `run(files)` maps files that have no
    stored results; `done(reused)` is told, per file, whether stored results were reused."""
    if work_dir is None:
        yield from run(inputs)
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    for path in inputs:
        stored = work_dir / f"map-{fingerprint(path, options, boilerplate_keys)}.pkl"
        if stored.exists():
            done(True)
            yield from _load(stored)
            continue
        tmp = stored.with_name(f".{stored.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                for batch in run([path]):
                    pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, stored)
        finally:
            if tmp.exists():
                tmp.unlink()
        done(False)
        yield from _load(stored)


def _load(path: Path) -> Batches:
    with path.open("rb") as f:
        while True:
            try:
                yield pickle.load(f)
            except EOFError:
                return
