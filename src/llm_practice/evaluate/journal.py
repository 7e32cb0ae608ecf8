"""Evaluation results cached by (model, data, settings), resumable after `kill -9`.

Each evaluation gets a folder `LLMP_CACHE/eval/<task>-<key>/`, where `key` hashes the model's
fingerprint, the data's content and every setting that changes a score. Finished items are
appended to `items.jsonl` one line each and flushed to disk after every batch, so a killed run
loses at most the batch in flight; a torn last line (the kill landed mid-write) is ignored. The
summary `result.json` is written atomically once every item is done; a run that finds it
returns it at once.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..atomic import atomic_write
from ..settings import get_settings


def data_fingerprint(path: Path) -> str:
    """sha256 over the bytes of a file, or of every file under a folder (with relative names)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode())
        with file.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:20]


class Journal:
    def __init__(self, task: str, model_fingerprint: str, data: Path, settings: dict,
                 fresh: bool = False):
        self.meta = {"task": task, "model": model_fingerprint, "data": data_fingerprint(data),
                     "settings": settings}
        key = hashlib.sha256(json.dumps(self.meta, sort_keys=True).encode()).hexdigest()[:16]
        self.folder = get_settings().cache_dir / "eval" / f"{task}-{key}"
        self.items_path = self.folder / "items.jsonl"
        self.result_path = self.folder / "result.json"
        self.done: dict[str, dict] = {}
        if fresh and self.folder.is_dir():
            import shutil

            shutil.rmtree(self.folder)
        if self.items_path.is_file():
            with self.items_path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        item = json.loads(line)
                        self.done[item["id"]] = item
                    except (ValueError, KeyError, TypeError):
                        break  # a torn line from a kill: everything after it is redone
        self.resumed = len(self.done)
        self._file = None

    def result(self) -> dict | None:
        if not self.result_path.is_file():
            return None
        try:
            return json.loads(self.result_path.read_text(encoding="utf-8"))
        except ValueError:
            return None

    def append(self, items: list[dict]) -> None:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._rewrite_clean()
            self._file = self.items_path.open("a", encoding="utf-8")
        for item in items:
            self._file.write(json.dumps(item, ensure_ascii=False) + "\n")
            self.done[item["id"]] = item
        self._file.flush()
        os.fsync(self._file.fileno())

    def _rewrite_clean(self) -> None:
        """Drop a torn tail left by a kill before appending after it."""
        if not self.items_path.is_file():
            (self.folder / "meta.json").write_text(json.dumps(self.meta, indent=2), encoding="utf-8")
            return
        lines = [json.dumps(item, ensure_ascii=False) for item in self.done.values()]
        atomic_write(self.items_path, "".join(line + "\n" for line in lines))

    def finish(self, result: dict) -> dict:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.result_path, json.dumps(result, ensure_ascii=False, indent=2))
        return result


def run_pending(journal: Journal, items: list, item_id, score_chunk, chunk: int,
                progress=None) -> None:
    """Score the items the journal does not hold yet, `chunk` at a time, journalling each chunk.

    `score_chunk(items) -> list[dict]` returns one record per item (its "id" is added here);
    `progress(done, total)` is called after each chunk.
    """
    total = len(items)
    pending = [item for item in items if item_id(item) not in journal.done]
    done = total - len(pending)
    if progress:
        progress(done, total)
    for start in range(0, len(pending), chunk):
        part = pending[start:start + chunk]
        records = score_chunk(part)
        journal.append([{"id": item_id(item), **record} for item, record in zip(part, records)])
        done += len(part)
        if progress:
            progress(done, total)
