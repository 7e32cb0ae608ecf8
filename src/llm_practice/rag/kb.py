"""A knowledge base on disk: `LLMP_HOME/kb/<name>/` with `kb.json`, the store, and the BM25 index.

    kb = create_kb("docs")                    # multilingual-e5-small + LanceDB
    report = kb.add(["manual.pdf", "notes/"])  # incremental: unchanged files cost nothing
    hits = kb.search("如何安装？", k=5)

Crash safety. `kb.json` (written atomically) is the truth about which documents are in the
knowledge base. A file is stored under a document id derived from its content hash: before its
rows are written, its id is recorded as *pending*; after, one atomic write moves it to *files*
and moves the replaced version's id to *garbage*; then the old rows are deleted and garbage is
cleared. Searches exclude pending and garbage ids, so a `kill -9` at any point leaves whole
documents only, and the next `kb add` deletes the leftovers and finishes the job (embeddings
already computed come from the cache). Writers hold an exclusive lock on the folder.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from ..errors import (ConfigError, DocumentLoadError, KnowledgeBaseBusyError, KnowledgeBaseExistsError,
                      KnowledgeBaseNotFoundError, NoDocumentsError)
from ..settings import get_settings
from .loaders import LOADERS, file_type, load_file
from .splitter import Chunk, drop_boilerplate, split_blocks
from .store import STORES, VectorStore

_NAME = re.compile(r"[^\W_][\w-]{0,63}")  # letters of any script (产品手册), digits, _ and -
MANIFEST = "kb.json"


class KBConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    embedder: str = "multilingual-e5-small"
    store: str = "lancedb"
    uri: str | None = None
    dim: int = 384
    chunk_tokens: int = Field(200, ge=16, le=2000)
    overlap_tokens: int = Field(30, ge=0, le=500)
    created: str = ""


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_id: str
    source: str
    type: str
    bytes: int
    chunks: int
    added: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: KBConfig
    files: dict[str, FileEntry] = Field(default_factory=dict)  # absolute path -> entry
    pending: list[str] = Field(default_factory=list)
    garbage: list[str] = Field(default_factory=list)


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[str] = field(default_factory=list)  # unsupported types found inside folders
    chunks: int = 0
    boilerplate_lines: int = 0


def kb_root() -> Path:
    return get_settings().kb_dir


def list_kbs() -> list[str]:
    root = kb_root()
    return sorted(p.parent.name for p in root.glob(f"*/{MANIFEST}")) if root.is_dir() else []


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kb-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def check_name(name: str) -> None:
    """A knowledge base's name is a folder name and a URL segment: refuse anything else (e.g. '../x')."""
    if not _NAME.fullmatch(name):
        raise ConfigError("NAME", f"'{name}' is not a valid knowledge-base name.",
                          "Use letters (any language, e.g. 产品手册), digits, '-' and '_' "
                          "(up to 64, starting with a letter or digit).")


def create_kb(name: str, embedder: str = "multilingual-e5-small", store: str = "lancedb",
              uri: str | None = None, chunk_tokens: int = 200, overlap_tokens: int = 30) -> "KnowledgeBase":
    check_name(name)
    if store not in STORES:
        raise ConfigError("--store", f"unknown store '{store}'.", f"Use one of: {', '.join(STORES)}.")
    folder = kb_root() / name
    if (folder / MANIFEST).is_file():
        raise KnowledgeBaseExistsError(name)
    from ..embeddings.registry import resolve_embedder

    info = resolve_embedder(embedder)  # an unknown embedder fails before anything is written
    from ..embeddings import get_embedder

    dim = get_embedder(embedder).dimensions
    config = KBConfig(name=name, embedder=info.name, store=store, uri=uri, dim=dim, chunk_tokens=chunk_tokens,
                      overlap_tokens=overlap_tokens, created=_now())
    folder.mkdir(parents=True, exist_ok=True)
    STORES[store](folder, uri, dim).close()  # a bad URI fails here, before the manifest exists
    _write_json_atomic(folder / MANIFEST, Manifest(config=config).model_dump())
    return KnowledgeBase(name)


def drop_kb(name: str) -> None:
    kb = KnowledgeBase(name)
    with kb.locked():
        if kb.config.uri and kb.config.store == "milvus":
            from pymilvus import MilvusClient

            client = MilvusClient(kb.config.uri)
            client.drop_collection(f"kb_{name}".replace("-", "_"))
            client.close()
        os.replace(kb.folder / MANIFEST, kb.folder / f".{MANIFEST}.dropped")  # gone for readers at once
    shutil.rmtree(kb.folder, ignore_errors=True)


def expand_paths(paths: list[str]) -> tuple[list[tuple[str, Path]], list[str], list[tuple[str, str]]]:
    """(display path, absolute path) of every file to add; unsupported files met in folders; missing paths."""
    files: dict[Path, str] = {}
    skipped, missing = [], []
    for given in paths:
        matches = sorted(glob.glob(given, recursive=True)) if glob.has_magic(given) else [given]
        if not matches or not Path(matches[0]).exists():
            missing.append((given, "no such file or folder" if not glob.has_magic(given) else "the pattern matched nothing"))
            continue
        for match in matches:
            path = Path(match)
            if path.is_dir():
                for child in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                    if child.suffix.lower() in LOADERS:
                        files.setdefault(child.resolve(), str(child))
                    else:
                        skipped.append(str(child))
            elif path.is_file():
                files.setdefault(path.resolve(), str(path))
    return [(shown, absolute) for absolute, shown in files.items()], skipped, missing


def _doc_id(data_hash: str, key: str) -> str:
    return data_hash[:32] + hashlib.sha1(key.encode()).hexdigest()[:8]


class KnowledgeBase:
    def __init__(self, name: str):
        check_name(name)
        self.name = name
        self.folder = kb_root() / name
        if not (self.folder / MANIFEST).is_file():
            raise KnowledgeBaseNotFoundError(name, list_kbs())
        self._store: VectorStore | None = None
        self._lexical = None
        self._lexical_mtime = None

    # -- manifest, lock, components ----------------------------------------------------------
    @property
    def manifest(self) -> Manifest:
        return Manifest.model_validate_json((self.folder / MANIFEST).read_text(encoding="utf-8"))

    @property
    def config(self) -> KBConfig:
        return self.manifest.config

    def _save(self, manifest: Manifest) -> None:
        _write_json_atomic(self.folder / MANIFEST, manifest.model_dump())

    @contextmanager
    def locked(self):
        """Exclusive writer lock; a second writer gets KnowledgeBaseBusyError at once."""
        handle = open(self.folder / "lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            raise KnowledgeBaseBusyError(self.name, holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            config = self.config
            self._store = STORES[config.store](self.folder, config.uri, config.dim)
        return self._store

    @property
    def embedder(self):
        from ..embeddings import get_embedder

        return get_embedder(self.config.embedder)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def lexical(self):
        from .lexical import LexicalIndex

        folder = self.folder / "lexical"
        if not folder.is_dir() and (self.folder / "lexical.old").is_dir():
            folder = self.folder / "lexical.old"  # a crash between the two renames of a rebuild
        if not folder.is_dir():
            return None
        mtime = (folder / "rows.parquet").stat().st_mtime_ns
        if self._lexical is None or mtime != self._lexical_mtime:
            self._lexical, self._lexical_mtime = LexicalIndex(folder), mtime
        return self._lexical

    def excluded_docs(self) -> list[str]:
        manifest = self.manifest
        return manifest.pending + manifest.garbage

    # -- reading ----------------------------------------------------------------------------
    def files(self) -> list[FileEntry]:
        return sorted(self.manifest.files.values(), key=lambda e: e.source)

    def chunks(self, source: str | None = None) -> list[dict]:
        """Stored chunks (of one file if `source` is given), in reading order."""
        manifest = self.manifest
        live = {e.doc_id for e in manifest.files.values()}
        if source is not None:
            live = {self._entry_for(source)[1].doc_id}
        rows = [r for r in self.store.rows() if r["doc_id"] in live]
        return sorted(rows, key=lambda r: (r["source"], int(r["id"].rsplit(":", 1)[1])))

    def _entry_for(self, source: str) -> tuple[str, FileEntry]:
        files = self.manifest.files
        absolute = str(Path(source).resolve())
        for key, entry in files.items():
            if source in (key, entry.source) or absolute == key:
                return key, entry
        raise ConfigError("FILE", f"'{source}' is not in knowledge base '{self.name}'.",
                          f"`llmp kb files {self.name}` lists its files.")

    # -- writing ----------------------------------------------------------------------------
    def _finish_interrupted(self, manifest: Manifest) -> Manifest:
        """Delete rows of documents that are pending (crash mid-write) or garbage (replaced)."""
        stale = manifest.pending + manifest.garbage
        live = {e.doc_id for e in manifest.files.values()}
        stale += [d for d in self.store.doc_ids() if d not in live and d not in stale]
        if stale:
            self.store.delete_docs(stale)
            manifest.pending, manifest.garbage = [], []
            self._save(manifest)
        return manifest

    def add(self, paths: list[str], progress: Callable[[str, int, int], None] | None = None,
            group_files: int = 64) -> AddReport:
        """Add files, folders or globs. `progress(stage, done, total)` with stage "files" or "chunks"."""
        found, skipped, missing = expand_paths(paths)
        report = AddReport(skipped=skipped, failed=[(p, reason) for p, reason in missing])
        if not found:
            if skipped:
                raise NoDocumentsError(paths, f"no supported files ({len(skipped)} of other types).",
                                       f"Supported types: {', '.join(sorted(LOADERS))}.")
            if missing:
                raise NoDocumentsError(paths, missing[0][1] + ".", "Check the path (quote globs: 'docs/**/*.md').")
            raise NoDocumentsError(paths, "the folder is empty.", "Point at files or a folder that has documents.")
        with self.locked():
            manifest = self._finish_interrupted(self.manifest)
            todo = []
            for shown, absolute in found:
                data_hash = hashlib.sha256(absolute.read_bytes()).hexdigest() if absolute.stat().st_size < 2**31 else ""
                key = str(absolute)
                doc_id = _doc_id(data_hash, key)
                if key in manifest.files and manifest.files[key].doc_id == doc_id:
                    report.unchanged.append(shown)
                else:
                    todo.append((shown, absolute, doc_id))
            total_files = len(todo)
            if progress:
                progress("files", 0, total_files)
            for start in range(0, len(todo), group_files):
                manifest = self._add_group(todo[start:start + group_files], manifest, report, progress,
                                           start, total_files)
            if todo:
                self._rebuild_lexical(manifest)
                optimize = getattr(self.store, "optimize", None)
                if optimize:
                    optimize()
        return report

    def _add_group(self, group, manifest: Manifest, report: AddReport, progress, done_before: int, total: int):
        config = manifest.config
        embedder = self.embedder
        count = getattr(embedder, "token_count", None) or (lambda text: len(text) // 3 + 1)
        loaded = []
        for shown, absolute, doc_id in group:
            try:
                loaded.append((shown, absolute, doc_id, load_file(absolute)))
            except DocumentLoadError as e:
                report.failed.append((shown, f"{e.problem}" + (f" {e.hint}" if e.hint else "")))
            except (OSError, UnicodeError) as e:
                report.failed.append((shown, f"cannot read it ({e})."))
        report.boilerplate_lines += drop_boilerplate([blocks for *_, blocks in loaded])
        documents = []
        for shown, absolute, doc_id, blocks in loaded:
            chunks = [c for c in split_blocks(blocks, config.chunk_tokens, config.overlap_tokens, count) if c.text]
            if chunks:
                documents.append((shown, absolute, doc_id, chunks))
            else:
                report.failed.append((shown, "no text left after removing repeated headers and footers."))
        texts = [c.embed_text() for *_, chunks in documents for c in chunks]
        embedded = [0]

        def on_batch(n: int) -> None:
            embedded[0] += n
            if progress:
                progress("chunks", embedded[0], len(texts))

        vectors = embedder.embed(texts, "passage", progress=on_batch) if texts else []
        offset = 0
        for number, (shown, absolute, doc_id, chunks) in enumerate(documents):
            rows = [_row(doc_id, shown, absolute, i, c, vectors[offset + i]) for i, c in enumerate(chunks)]
            offset += len(chunks)
            key = str(absolute)
            old = manifest.files.get(key)
            manifest.pending = [doc_id]
            self._save(manifest)  # 1. intent: rows of doc_id may exist but are not live
            self.store.add(rows)  # 2. rows
            manifest.files[key] = FileEntry(doc_id=doc_id, source=shown, type=file_type(absolute),
                                            bytes=absolute.stat().st_size, chunks=len(rows), added=_now())
            manifest.pending = []
            manifest.garbage = [old.doc_id] if old else []
            self._save(manifest)  # 3. commit: the document is live, its old version is garbage
            if old:
                self.store.delete_docs([old.doc_id])
                manifest.garbage = []
                self._save(manifest)
                report.replaced.append(shown)
            else:
                report.added.append(shown)
            report.chunks += len(rows)
            if progress:
                progress("files", done_before + number + 1, total)
        return manifest

    def remove(self, source: str) -> FileEntry:
        with self.locked():
            manifest = self._finish_interrupted(self.manifest)
            key, entry = self._entry_for(source)
            del manifest.files[key]
            manifest.garbage = [entry.doc_id]
            self._save(manifest)
            self.store.delete_docs([entry.doc_id])
            manifest.garbage = []
            self._save(manifest)
            self._rebuild_lexical(manifest)
        return entry

    def _rebuild_lexical(self, manifest: Manifest) -> None:
        from .lexical import build_lexical_index

        previous = self.lexical()
        tokens = {r["id"]: r.get("tokens") for r in previous.rows} if previous is not None else {}
        live = {e.doc_id for e in manifest.files.values()}
        both = self.store.rows_with_vectors()
        rows, vectors = both if both is not None else (self.store.rows(), None)
        kept = [i for i, r in enumerate(rows) if r["doc_id"] in live]
        rows = [rows[i] for i in kept]
        if vectors is not None:
            vectors = vectors[kept]
        for row in rows:
            if tokens.get(row["id"]) is not None:
                row["tokens"] = list(tokens[row["id"]])
        build_lexical_index(self.folder / "lexical", rows, vectors)
        self._lexical = None

    def search(self, query: str, k: int = 5, filters=None, reranker=None):
        from .search import hybrid_search

        return hybrid_search(self, query, k=k, filters=filters or [], reranker=reranker)


def _row(doc_id: str, shown: str, absolute: Path, index: int, chunk: Chunk, vector) -> dict:
    return {"id": f"{doc_id}:{index}", "doc_id": doc_id, "source": shown, "type": file_type(absolute),
            "heading": chunk.heading, "page": chunk.page if chunk.page is not None else -1,
            "start": chunk.start, "end": chunk.end, "text": chunk.text, "vector": vector}
