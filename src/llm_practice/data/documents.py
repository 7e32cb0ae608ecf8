"""Documents for post-pretraining: what one document is, long ones split, boilerplate lines found.

- **Unit.** A `.txt` / `.md` file is one document by default (`file`): for domain text the file is
  the context the model should learn, and cutting it into lines feeds the short-line filter most of
  it. `paragraph` splits a file at blank lines; `line` makes every non-empty line a document (the
  Qianfan post-pretraining export, one document per line). Records of JSONL / JSON / CSV / Parquet
  files (`{"text": ...}`) are documents as they are, whatever the unit.
- **Long documents** are split to at most `max_chars` at paragraph boundaries, starting a new piece
  at a heading when the current one is at least half full; a paragraph longer than `max_chars` is
  split at line ends, then sentence ends, and only then mid-sentence.
- **Boilerplate lines** are found across documents, not inside one: a line (whitespace collapsed)
  that occurs in at least `share` of the documents and in at least `min_docs` of them is a page
  header, footer, navigation or notice. Lines shorter than `min_chars` never count, so short
  section headings repeated in every page (NAME, SYNOPSIS, `## Usage`) stay. Removing them is a line
  step: the document keeps everything else. Counting keeps one 8-byte hash per distinct line.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
INPUT_SUFFIXES = TEXT_SUFFIXES + (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")
UNITS = ("file", "paragraph", "line")
_PARAGRAPHS = re.compile(r"\n[ \t\u3000]*\n")
_SENTENCE_END = re.compile(r"(?<=[。！？!?.;；])\s*")
_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?\s+\S")


def expand_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders become the data files under them (sorted, hidden ones skipped),
    compressed ones (`.gz`, `.bz2`, `.xz`, `.zst`) included."""
    from ..errors import DatasetFormatError
    from .files import inner_suffix

    out: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file() and inner_suffix(p) in INPUT_SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not found:
            raise DatasetFormatError(path, None, None, "this folder holds no data files",
                                     f"Put {', '.join(INPUT_SUFFIXES)} files (optionally .gz/.zst) in it.")
        out += found
    return out


def is_text_file(path: Path) -> bool:
    from .files import inner_suffix

    return inner_suffix(Path(path)) in TEXT_SUFFIXES


def read_documents(paths: Iterable[Path], unit: str = "file") -> Iterator[str]:
    """Yield the documents of each input, in order (see the module docstring for units)."""
    from .files import open_text
    from .validate import iter_canonical

    for path in paths:
        path = Path(path)
        if not is_text_file(path):
            for _, rec in iter_canonical(path, stage="pt"):
                yield rec.text
            continue
        if not path.is_file():
            from ..errors import DatasetFormatError

            raise DatasetFormatError(path, None, None, "no such file", "Check the path.")
        with open_text(path, encoding="utf-8-sig", errors="replace") as f:
            text = f.read().replace("\r\n", "\n")
        yield from UNIT_SPLITTERS[unit](text)


def _file(text: str) -> Iterator[str]:
    if text.strip():
        yield text


def _paragraphs(text: str) -> Iterator[str]:
    yield from (p for p in _PARAGRAPHS.split(text) if p.strip())


def _lines(text: str) -> Iterator[str]:
    yield from (line for line in text.split("\n") if line.strip())


UNIT_SPLITTERS = {"file": _file, "paragraph": _paragraphs, "line": _lines}


# ---- boilerplate -------------------------------------------------------------------------

def line_key(line: str, min_chars: int) -> bytes | None:
    collapsed = " ".join(line.split())
    if len(collapsed) < min_chars:
        return None
    return hashlib.blake2b(collapsed.encode("utf-8"), digest_size=8).digest()


@dataclass
class Boilerplate:
    keys: frozenset = frozenset()
    min_chars: int = 16
    documents: int = 0  # documents counted
    examples: list[str] = field(default_factory=list)  # the lines found, most frequent first


def find_boilerplate(documents: Iterable[str], share: float, min_docs: int, min_chars: int,
                     keep_examples: int = 20) -> Boilerplate:
    """One pass over the documents: lines that repeat across many of them."""
    seen: Counter = Counter()
    sample: dict[bytes, str] = {}
    n = 0
    for doc in documents:
        n += 1
        keys = {}
        for line in doc.split("\n"):
            key = line_key(line, min_chars)
            if key is not None:
                keys[key] = line
        seen.update(keys.keys())
        for key, line in keys.items():
            if seen[key] == min_docs:  # remember the text of candidates only
                sample[key] = " ".join(line.split())
    need = max(min_docs, share * n)
    found = [k for k, c in seen.most_common() if c >= need]
    return Boilerplate(frozenset(found), min_chars, n, [sample[k] for k in found[:keep_examples]])


def remove_boilerplate(text: str, boilerplate: Boilerplate) -> tuple[str, int, int]:
    """-> (text without the boilerplate lines, characters removed, lines removed)."""
    if not boilerplate.keys:
        return text, 0, 0
    kept, lines = [], 0
    for line in text.split("\n"):
        if line_key(line, boilerplate.min_chars) in boilerplate.keys:
            lines += 1
        else:
            kept.append(line)
    out = "\n".join(kept)
    return out, len(text) - len(out), lines


# ---- splitting ---------------------------------------------------------------------------

def is_heading(paragraph: str) -> bool:
    first = paragraph.lstrip("\n").split("\n", 1)[0].strip()
    return bool(first) and (first.startswith("#") or (len(first) <= 60 and (
        (first.isupper() and any(c.isalpha() for c in first)) or bool(_NUMBERED.match(first)))))


def split_document(text: str, max_chars: int) -> list[str]:
    """Pieces of at most `max_chars`, cut at paragraph (then line, then sentence) boundaries."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    for para in _PARAGRAPHS.split(text):
        if para.strip():
            pieces += [para] if len(para) <= max_chars else _split_long(para, max_chars)
    chunks, current, size = [], [], 0
    for piece in pieces:
        add = len(piece) + (2 if current else 0)
        if current and (size + add > max_chars or (is_heading(piece) and size >= max_chars // 2)):
            chunks.append("\n\n".join(current))
            current, size, add = [], 0, len(piece)
        current.append(piece)
        size += add
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _pack(parts: list[str], sep: str, max_chars: int) -> list[str]:
    out, current = [], ""
    for part in parts:
        joined = f"{current}{sep}{part}" if current else part
        if len(joined) <= max_chars:
            current = joined
            continue
        if current:
            out.append(current)
        while len(part) > max_chars:  # no boundary left: cut
            out.append(part[:max_chars])
            part = part[max_chars:]
        current = part
    if current:
        out.append(current)
    return out


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    lines: list[str] = []
    for line in paragraph.split("\n"):
        if len(line) <= max_chars:
            lines.append(line)
        else:
            sentences = [s for s in _SENTENCE_END.split(line) if s]
            lines += _pack(sentences, " " if line.isascii() else "", max_chars)
    return _pack(lines, "\n", max_chars)
