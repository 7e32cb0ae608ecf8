"""Split loaded blocks into chunks: structure-aware, Chinese-aware, sized in tokens, with overlap.

    >>> chunks = split_blocks([Block("第一句。第二句！", ("指南", "安装"))], chunk_tokens=200)
    >>> chunks[0].headings, chunks[0].text
    (('指南', '安装'), '第一句。第二句！')

Sentences end at 。！？； and their ASCII forms (`.` only before a space or line end, so "3.14"
and "e.g.x" stay whole) and at blank lines; a chunk never crosses a heading (each Markdown/HTML
section is split on its own) and carries its heading path, which is also embedded and indexed so a
question about a section title finds the section. Sizes are in the embedder's tokens.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from .loaders import Block

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])(?![”’」』）)\]])|(?<=\.)(?=\s)|\n\s*\n|(?<=\n)")
_CLAUSE_END = re.compile(r"(?<=[，、,：:])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# Chinese characters and CJK punctuation, fullwidth punctuation (not fullwidth letters: "ＡＢ ＣＤ" keeps its space)
_HAN = r"\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_CJK_GAP = re.compile(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])")


def join_cjk(text: str) -> str:
    """Remove the whitespace between two Chinese characters (or CJK punctuation marks).

    Chinese is written without spaces, but text often arrives with them: hard-wrapped lines break
    words ("标准输\\n       出"), PDF extraction and old conversions space every character
    ("设 定 与 控 制"). Such text is segmented and embedded as if each piece were a word; joined,
    it reads as written. Used for what is embedded and indexed; the stored text is unchanged.

    >>> join_cjk("设 定 与 控 制 loop device 与 档 案\\n       出。")
    '设定与控制 loop device 与档案出。'
    """
    return _CJK_GAP.sub("", text)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about one token per CJK character, one per four other characters."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


@dataclass
class Chunk:
    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None
    block: int = 0  # index of the block in its file
    start: int = 0  # character offsets inside that block
    end: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return " > ".join(self.headings)

    def embed_text(self) -> str:
        """What is embedded: the heading path, then the text (spaces inside Chinese removed)."""
        return f"{join_cjk(self.heading)}\n{join_cjk(self.text)}" if self.headings else join_cjk(self.text)


def _pieces(text: str, pattern: re.Pattern) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in pattern.finditer(text):
        end = match.start()
        if end > start:
            spans.append((start, end))
        start = max(end, match.end())
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _units(text: str, limit: int, count: Callable[[str], int]) -> list[tuple[int, int, int]]:
    """(start, end, tokens) units no bigger than `limit`: sentences, then clauses, then character windows."""
    out = []
    for a, b in _pieces(text, _SENTENCE_END):
        n = count(text[a:b])
        if n <= limit:
            out.append((a, b, n))
            continue
        for c, d in _pieces(text[a:b], _CLAUSE_END):
            m = count(text[a + c:a + d])
            if m <= limit:
                out.append((a + c, a + d, m))
                continue
            step = max(1, (d - c) * limit // max(m, 1))
            for s in range(c, d, step):
                e = min(s + step, d)
                out.append((a + s, a + e, count(text[a + s:a + e])))
    return out


def split_block(block: Block, index: int, chunk_tokens: int, overlap_tokens: int,
                count: Callable[[str], int]) -> list[Chunk]:
    text = block.text
    units = _units(text, chunk_tokens, count)
    chunks: list[Chunk] = []
    window: list[tuple[int, int, int]] = []
    size = 0

    def emit() -> None:
        start, end = window[0][0], window[-1][1]
        chunks.append(Chunk(text[start:end].strip(), block.headings, block.page, index, start, end))

    for unit in units:
        if window and size + unit[2] > chunk_tokens:
            emit()
            kept: list[tuple[int, int, int]] = []
            for previous in reversed(window):  # overlap: the last sentences, up to overlap_tokens
                if sum(u[2] for u in kept) + previous[2] > overlap_tokens:
                    break
                kept.insert(0, previous)
            window, size = kept, sum(u[2] for u in kept)
        window.append(unit)
        size += unit[2]
    if window:
        emit()
    return chunks


def split_blocks(blocks: list[Block], chunk_tokens: int = 200, overlap_tokens: int = 30,
                 count: Callable[[str], int] = estimate_tokens) -> list[Chunk]:
    chunks: list[Chunk] = []
    for index, block in enumerate(blocks):
        chunks += split_block(block, index, chunk_tokens, overlap_tokens, count)
    return chunks


def _line_key(line: str) -> str:
    """Whitespace-normalised line; in short lines numbers are ignored ("Page 3 of 9" == "Page 4 of 9")."""
    line = " ".join(line.split()).lower()
    return re.sub(r"\d+", "#", line) if len(line.split()) <= 4 and len(line) <= 40 else line


def drop_boilerplate(documents: list[list[Block]], min_units: int = 3, share: float = 0.3,
                     max_len: int = 160) -> int:
    """Remove short lines that repeat on many pages or files (headers, footers, navigation), in place.

    A unit is a PDF page or a whole non-PDF file. A line seen in at least `min_units` units and in
    at least `share` of them is kept only where it first appears. Returns the number of lines dropped.
    """
    units = [[b for b in blocks if b.page == page]
             for blocks in documents for page in dict.fromkeys(b.page for b in blocks)]
    seen = Counter()
    for unit in units:
        seen.update({_line_key(line) for b in unit for line in b.text.splitlines()
                     if line.strip() and len(line.strip()) <= max_len})
    threshold = max(min_units, share * len(units))
    common = {key for key, n in seen.items() if n >= threshold}
    if not common:
        return 0
    dropped, first = 0, set()
    for unit in units:
        for block in unit:
            kept = []
            for line in block.text.splitlines():
                key = _line_key(line)
                if key in common and line.strip():
                    if key in first:
                        dropped += 1
                        continue
                    first.add(key)
                kept.append(line)
            block.text = "\n".join(kept)
    return dropped
