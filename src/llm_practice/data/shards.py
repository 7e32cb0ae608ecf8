"""Sharded output of `prepare-pt`: a folder of JSONL or Parquet shards and a manifest.

    OUT/part-00000.jsonl      (or .parquet: one string column "text")
    OUT/part-00001.jsonl
    OUT/manifest.json         shards (file, documents, bytes, sha256), totals, settings, report

Each shard holds `shard_size` documents (the last one fewer) and is written under a temporary name,
then renamed, so a reader never sees half a shard. The manifest is written last, the same way, and
the previous manifest is removed before the first shard is replaced: a folder with a manifest is
complete and matches it; a folder without one is being written. The driver writes the shards, in
the reduce step's order, so every executor gives the same files.

Resume: with a work folder each finished shard is also appended to a journal there, keyed by a
fingerprint of the inputs and of every option that changes the output. A run stopped part-way
(`kill -9` included) and started again recomputes the order of documents (the reduce step: cheap)
but does not rewrite a shard the journal lists when the file in OUT still has the recorded size
and sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from ..atomic import atomic_path, atomic_write
from ..errors import ConfigError

FORMATS = ("jsonl", "parquet")
MANIFEST = "manifest.json"
DEFAULT_SHARD_SIZE = 100_000
_OURS = re.compile(r"^(part-\d{5,}\.(jsonl|parquet)|manifest\.json|\.(part-\d{5,}\.(jsonl|parquet)"
                   r"|manifest\.json)\..*\.tmp)$")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: str | Path) -> dict:
    return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))


def read_shards(folder: str | Path) -> Iterator[str]:
    """The documents of a finished sharded output, in order, from the shards its manifest lists."""
    folder = Path(folder)
    for shard in read_manifest(folder)["shards"]:
        path = folder / shard["file"]
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            yield from pq.read_table(path, columns=["text"]).column("text").to_pylist()
        else:
            with path.open(encoding="utf-8") as f:
                yield from (json.loads(line)["text"] for line in f)


class ShardWriter:
    """Writes documents into OUT as shards; `journal` (a file in the work folder) makes it resumable."""

    def __init__(self, folder: Path, fmt: str, shard_size: int, journal: Path | None = None):
        if folder.exists() and not folder.is_dir():
            raise ConfigError("OUT", f"'{folder}' is a file; sharded output (--format, --shard-size, "
                              "or OUT without .jsonl/.txt) writes a folder",
                              "Give a folder name, or OUT ending in .jsonl for one file.")
        others = sorted(p.name for p in folder.iterdir() if not _OURS.match(p.name)) if folder.is_dir() else []
        if others:
            raise ConfigError("OUT", f"folder '{folder}' holds files that are not shards of a "
                              f"prepare-pt output ({', '.join(others[:3])})",
                              "Give a new or empty folder; nothing in it was changed.")
        self.folder, self.fmt, self.shard_size, self.journal = folder, fmt, shard_size, journal
        self.reused = self.written = 0
        self.mode = 0o666 & ~_umask()
        self.done: dict[int, dict] = {}
        if journal and journal.exists():
            for line in journal.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.done[entry["index"]] = entry
                except (ValueError, KeyError, TypeError):  # a line cut by a kill: that shard is redone
                    continue

    def write(self, docs: Iterable[str]) -> list[dict]:
        """Write every document; -> the manifest's shard entries. Call `finish` after it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MANIFEST).unlink(missing_ok=True)  # from here on the folder is unfinished
        for leftover in self.folder.glob(".*.tmp"):
            leftover.unlink()
        entries: list[dict] = []
        docs = iter(docs)
        while chunk := list(islice(docs, self.shard_size)):
            index = len(entries)
            name = f"part-{index:05d}.{self.fmt}"
            path = self.folder / name
            old = self.done.get(index)
            if (old and old.get("file") == name and old.get("documents") == len(chunk)
                    and path.is_file() and path.stat().st_size == old.get("bytes")
                    and sha256(path) == old.get("sha256")):
                self.reused += 1
                entries.append({k: old[k] for k in ("file", "documents", "bytes", "sha256")})
                continue
            with atomic_path(path) as tmp:
                _WRITERS[self.fmt](tmp, chunk)
                os.chmod(tmp, self.mode)  # not mkstemp's 0600: shards are read by other jobs
                entry = {"file": name, "documents": len(chunk), "bytes": tmp.stat().st_size,
                         "sha256": sha256(tmp)}
            self.written += 1
            entries.append(entry)
            if self.journal:
                with self.journal.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"index": index, **entry}) + "\n")
        names = {e["file"] for e in entries}
        for stale in self.folder.glob("part-*"):  # shards of an earlier, longer output
            if stale.name not in names:
                stale.unlink()
        return entries

    def finish(self, entries: list[dict], settings: dict, report: dict) -> Path:
        manifest = {"format": self.fmt, "shard_size": self.shard_size,
                    "documents": sum(e["documents"] for e in entries),
                    "bytes": sum(e["bytes"] for e in entries), "shards": entries,
                    "settings": settings, "report": report}
        path = atomic_write(self.folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
        os.chmod(path, self.mode)
        return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_jsonl(path: Path, texts: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.writelines(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)


def _write_parquet(path: Path, texts: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": pa.array(texts, type=pa.string())}), path, compression="zstd")


_WRITERS = {"jsonl": _write_jsonl, "parquet": _write_parquet}
