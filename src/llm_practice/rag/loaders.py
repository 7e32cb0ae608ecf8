"""Turn a file into `Block`s of text, keeping where each came from (page, heading path).

One loader per file type, chosen through `LOADERS` by suffix. Markdown, HTML and DOCX keep
their heading structure (the splitter puts the heading path into each chunk); PDF keeps page
numbers; CSV/XLSX rows and JSON records become one block each. Text encodings are detected
(UTF-8 first, then charset-normalizer, which knows GBK/GB18030 and Big5). Every failure is a
`DocumentLoadError` naming the file and saying what to do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import DocumentLoadError

MAX_FILE_BYTES = 100 * 1024 * 1024  # a bigger file is refused (split it first)


@dataclass
class Block:
    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None  # 1-based PDF page


def read_text(path: Path) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else the detected encoding (GB18030 for GBK)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    if best is None:
        raise DocumentLoadError(path, "not a text file (no text encoding fits its bytes).",
                                "Convert it to UTF-8 text, or add the original document instead.")
    encoding = best.encoding
    if encoding.replace("_", "").lower() in {"gbk", "gb2312", "cp936", "hz"}:
        encoding = "gb18030"  # a superset: never fails where GBK would on rarer characters
    return raw.decode(encoding, errors="replace")


def load_txt(path: Path) -> list[Block]:
    text = read_text(path)
    title = text_title(text)
    return [Block(text, (title,) if title else ())]


_SECTION_NAME = re.compile(r"^\S[^\n]{0,38}$")  # unindented, short: "NAME", "名称", "DESCRIPTION"


def text_title(text: str, max_len: int = 160) -> str | None:
    """The line that names a plain-text document laid out as section names over indented bodies
    (man pages, RFC-style manuals): the body of its first section when that body is one short line,
    as in a man page's "NAME" / "名称" section ("useradd - 创建一个新用户"). None for other layouts.

    Every chunk of the file carries it as its heading (embedded and indexed with the chunk), so a
    passage deep in the file still says which document it belongs to.
    """
    lines = text.splitlines()[:80] + [""]
    for i, line in enumerate(lines[:10]):
        if not _SECTION_NAME.match(line) or not lines[i + 1][:1].isspace():
            continue
        body = []
        for follower in lines[i + 1:]:
            if follower.strip() and not follower[:1].isspace():
                break
            if follower.strip():
                body.append(follower.strip())
        return body[0] if len(body) == 1 and len(body[0]) <= max_len else None
    return None


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def blocks_from_markdown(text: str) -> list[Block]:
    """One block per section; `headings` is the path of enclosing headings (fenced code is not a heading)."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            blocks.append(Block(body, tuple(h for _, h in path)))
        lines.clear()

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _MD_HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            path = [(lv, h) for lv, h in path if lv < level] + [(level, match.group(2))]
        else:
            lines.append(line)
    flush()
    return blocks or ([Block("", tuple(h for _, h in path))] if path else [])


def load_md(path: Path) -> list[Block]:
    return blocks_from_markdown(read_text(path))


_HTML_SKIP = ("script", "style", "nav", "footer", "header", "aside", "noscript", "form", "template")
_HTML_TEXT = ("p", "li", "pre", "blockquote", "td", "th", "dd", "dt", "figcaption", "caption")


def load_html(path: Path) -> list[Block]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(path), "html.parser")
    for tag in soup(list(_HTML_SKIP)):
        tag.decompose()
    root = soup.body or soup
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    for tag in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", *_HTML_TEXT]):
        if tag.name[0] == "h" and tag.name[1:].isdigit():
            level = int(tag.name[1])
            path = [(lv, h) for lv, h in path if lv < level] + [(level, tag.get_text(" ", strip=True))]
            continue
        if tag.find_parent(list(_HTML_TEXT)) is not None:
            continue  # nested text element: its parent carries the text
        text = tag.get_text("\n" if tag.name == "pre" else " ", strip=True)
        if text:
            heads = tuple(h for _, h in path) or ((title,) if title else ())
            if blocks and blocks[-1].headings == heads:
                blocks[-1].text += "\n" + text
            else:
                blocks.append(Block(text, heads))
    if not blocks:  # no structural tags: the visible text
        text = root.get_text("\n", strip=True)
        blocks = [Block(text, (title,) if title else ())] if text else []
    return blocks


def load_pdf(path: Path) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise FileNotDecryptedError("password")
            except (FileNotDecryptedError, NotImplementedError) as e:
                raise DocumentLoadError(path, "the PDF is encrypted with a password.",
                                        "Save an unencrypted copy (print to PDF) and add that.") from e
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentLoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise DocumentLoadError(path, f"not a readable PDF ({type(e).__name__}: {e}).",
                                "The file may be truncated or corrupt; export it again.") from e
    blocks = [Block(text, (), number) for number, text in enumerate(pages, 1) if text.strip()]
    if not blocks:
        raise DocumentLoadError(path, f"the PDF has {len(pages)} page(s) but no text layer (a scan?).",
                                "Run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`, or `-l chi_sim` for "
                                "Chinese), then add the OCR'd file.")
    return blocks


def load_docx(path: Path) -> list[Block]:
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, PackageNotFoundError) as e:
        raise DocumentLoadError(path, f"not a readable .docx file ({e}).",
                                "Open and save it again in Word or LibreOffice (old .doc files: save as .docx).") from e
    blocks: list[Block] = []
    path_: list[tuple[int, str]] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "") if para.style is not None else ""
        level = _heading_level(style)
        if level:
            path_ = [(lv, h) for lv, h in path_ if lv < level] + [(level, text)]
            continue
        heads = tuple(h for _, h in path_)
        if blocks and blocks[-1].headings == heads:
            blocks[-1].text += "\n" + text
        else:
            blocks.append(Block(text, heads))
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if any(cells):
                blocks.append(Block(" | ".join(cells)))
    return blocks


def _heading_level(style: str) -> int:
    match = re.match(r"(?:Heading|标题)\s*(\d)", style)
    return int(match.group(1)) if match else (1 if style == "Title" else 0)


def _row_text(header: list[str], row: list) -> str:
    pairs = [f"{h}: {v}" for h, v in zip(header, row) if v not in (None, "")]
    return "; ".join(pairs)


def load_csv(path: Path) -> list[Block]:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(read_text(path))))
    if not rows:
        return []
    header = [h.strip() or f"column{i + 1}" for i, h in enumerate(rows[0])]
    return [Block(text) for row in rows[1:] if (text := _row_text(header, row))]


def load_xlsx(path: Path) -> list[Block]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise DocumentLoadError(path, f"not a readable .xlsx file ({e}).", "Save it again as .xlsx or .csv.") from e
    blocks: list[Block] = []
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            continue
        header = [str(h) if h is not None else f"column{i + 1}" for i, h in enumerate(first)]
        blocks += [Block(text, (sheet.title,)) for row in rows if (text := _row_text(header, list(row)))]
    workbook.close()
    return blocks


def _record_text(record) -> str:
    if isinstance(record, dict):
        return "\n".join(f"{k}: {_record_text(v)}" for k, v in record.items() if v not in (None, "", [], {}))
    if isinstance(record, list):
        return "; ".join(_record_text(v) for v in record)
    return str(record)


def load_json(path: Path) -> list[Block]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DocumentLoadError(path, f"line {e.lineno}: invalid JSON ({e.msg}).",
                                "Fix the JSON, or use .jsonl for one record per line.") from e
    records = data if isinstance(data, list) else [data]
    return [Block(t) for r in records if (t := _record_text(r).strip())]


def load_jsonl(path: Path) -> list[Block]:
    blocks = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DocumentLoadError(path, f"line {number}: invalid JSON ({e.msg}).",
                                    "Each line of a .jsonl file must be one JSON value.") from e
        if text := _record_text(record).strip():
            blocks.append(Block(text))
    return blocks


LOADERS: dict[str, Callable[[Path], list[Block]]] = {
    ".txt": load_txt, ".text": load_txt, ".log": load_txt, ".rst": load_txt,
    ".md": load_md, ".markdown": load_md,
    ".html": load_html, ".htm": load_html, ".xhtml": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".csv": load_csv,
    ".xlsx": load_xlsx,
    ".json": load_json,
    ".jsonl": load_jsonl,
}


def file_type(path: Path) -> str:
    return path.suffix.lower().lstrip(".")


def load_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> list[Block]:
    """Blocks of `path`, or `DocumentLoadError` saying why not."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentLoadError(path, f"unsupported file type '{path.suffix or '(none)'}'.",
                                f"Supported: {', '.join(sorted(LOADERS))}.")
    size = path.stat().st_size
    if size == 0:
        raise DocumentLoadError(path, "the file is empty (0 bytes).", "Nothing to index; add a file with content.")
    if size > max_bytes:
        raise DocumentLoadError(path, f"the file is {size / 2**20:.0f} MiB; the limit is {max_bytes // 2**20} MiB.",
                                "Split it into smaller files (e.g. by chapter) and add those.")
    blocks = [b for b in loader(path) if b.text.strip()]
    if not blocks:
        raise DocumentLoadError(path, "no text found in the file.", "Check that it has text content.")
    return blocks
