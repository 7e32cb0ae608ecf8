"""Atomic writes: a file or folder appears at its final path complete, or not at all.

Everything is written next to the target under a temporary name and moved into place with
`os.replace` (atomic within one file system), so a crash, Ctrl-C or full disk never leaves a
half-written manifest, cache entry or report behind, and what was there before survives a failure.

    with atomic_path(report) as tmp:       # any writer that takes a path
        frame.to_parquet(tmp)
    atomic_write(manifest, json.dumps(data))
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path, *, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary path (a file, or an empty folder with `folder=True`) next to `path`; when
    the block succeeds it replaces `path`, otherwise it is removed. A folder that another process
    completed first is kept, and ours is dropped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    else:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        try:
            os.replace(tmp, path)
        except OSError:
            if not (folder and path.is_dir()):
                raise
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write text (UTF-8, newlines as given) or bytes to `path` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(data)
    return path


def atomic_write_json(path: str | Path, obj, indent: int | None = None) -> Path:
    return atomic_write(path, json.dumps(obj, ensure_ascii=False, indent=indent))
