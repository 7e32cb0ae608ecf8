"""Read and write dataset files: JSONL, JSON, CSV, TXT, XLSX and Parquet.

JSONL, JSON, CSV and TXT files may be compressed (`.gz`, `.bz2`, `.xz`, `.zst`; zstd needs the
`data` extra): `data.jsonl.gz` is read as JSONL, streaming, without unpacking it to disk.

Readers stream: they yield `(line, obj)` one record at a time, so memory stays flat however big
the file is. `line` is the 1-based line of JSONL/JSON/CSV/TXT files and the row number of XLSX
and Parquet files. A record that cannot be parsed is yielded as a `ParseFailure` so a validator
can report it and go on. JSON documents are streamed with `json.JSONDecoder.raw_decode` over a
sliding buffer (no extra dependency, exact line numbers). XLSX and Parquet need the `data` extra.

Writers write to a temporary file next to the target and `os.replace` it, so a failed run never
leaves half a file.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..atomic import atomic_path
from ..errors import DatasetFormatError, EngineMissingError

CHUNK = 1 << 20
MAX_ITEM = 256 << 20  # a single JSON value larger than this is reported as broken
EXTENSIONS = (".jsonl", ".json", ".csv", ".txt", ".xlsx", ".parquet")
DATA_EXTRA = "pip install 'llm-practice[data]'"


@dataclass(slots=True)
class ParseFailure:
    problem: str
    hint: str = ""
    fatal: bool = False  # True when the rest of the file cannot be read either


COMPRESSED = (".gz", ".bz2", ".xz", ".zst")


def inner_suffix(path: Path) -> str:
    """`.jsonl` for `data.jsonl.gz`; the plain suffix otherwise."""
    suffix = path.suffix.lower()
    if suffix in COMPRESSED:
        return Path(path.stem).suffix.lower()
    return suffix


def open_text(path: Path, **kwargs):
    """Open for reading text, through the decompressor the suffix names."""
    suffix = path.suffix.lower()
    if suffix not in COMPRESSED:
        return path.open(**kwargs)
    if suffix == ".zst":
        zstandard = _need("zstandard")
        return zstandard.open(path, "rt", **kwargs)
    import bz2
    import gzip
    import lzma

    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
    return opener(path, "rt", **kwargs)


def open_write_text(path: Path, suffix: str):
    """Open `path` (a temporary file) for writing text, compressed as `suffix` says."""
    if suffix not in COMPRESSED:
        return path.open("w", encoding="utf-8")
    if suffix == ".zst":
        return _need("zstandard").open(path, "wt", encoding="utf-8")
    import bz2
    import gzip
    import lzma

    return {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix](path, "wt", encoding="utf-8")


def open_binary(path: Path):
    suffix = path.suffix.lower()
    if suffix == ".zst":
        return _need("zstandard").open(path, "rb")
    if suffix in COMPRESSED:
        import bz2
        import gzip
        import lzma

        return {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix](path, "rb")
    return path.open("rb")


def _kind(path: Path) -> str:
    suffix = inner_suffix(path)
    if path.suffix.lower() in COMPRESSED and suffix in (".xlsx", ".parquet"):
        raise DatasetFormatError(path, None, None, f"a compressed {suffix} file cannot be read",
                                 "Unpack it first; XLSX and Parquet are compressed already.")
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".parquet", ".txt"):
        return suffix[1:]
    raise DatasetFormatError(
        path, None, None, f"unknown file type '{suffix or '(none)'}'",
        f"Use one of: {', '.join(EXTENSIONS)}.",
    )


def read_records(path: str | Path) -> Iterator[tuple[int, Any]]:
    path = Path(path)
    if not path.is_file():
        raise DatasetFormatError(path, None, None, "no such file", "Check the path.")
    kind = _kind(path)
    if kind == "json" and _looks_like_jsonl(path):
        kind = "jsonl"
    yield from READERS[kind](path)


def _looks_like_jsonl(path: Path) -> bool:
    """A `.json` file whose first two non-empty lines each hold one whole JSON value."""
    decoder = json.JSONDecoder()
    seen = 0
    with open_text(path, encoding="utf-8-sig", errors="replace") as f:
        for raw in iter(lambda: f.readline(CHUNK + 1), ""):  # bounded: a minified file is one line
            if len(raw) > CHUNK:
                return False
            raw = raw.strip()
            if not raw:
                continue
            try:
                _, end = decoder.raw_decode(raw)
            except json.JSONDecodeError:
                return False
            if end != len(raw):
                return False
            seen += 1
            if seen == 2:
                return True
    return False


def _read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    loads = json.loads
    with open_binary(path) as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                yield number, loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                yield number, ParseFailure(
                    f"bad JSON ({getattr(e, 'msg', e)} at column {getattr(e, 'colno', '?')})",
                    "Each line must be one complete JSON value; check quotes, commas and brackets.",
                )


def _read_json(path: Path) -> Iterator[tuple[int, Any]]:
    """Stream the items of a top-level JSON array (a single object is one record)."""
    decoder = json.JSONDecoder()
    with open_text(path, encoding="utf-8-sig") as f:
        buf = f.read(CHUNK)
        eof = len(buf) < CHUNK
        pos, line = 0, 1

        def skip(chars: str) -> None:
            nonlocal pos, line
            while True:
                while pos < len(buf) and buf[pos] in chars:
                    line += buf[pos] == "\n"
                    pos += 1
                if pos < len(buf) or eof:
                    return
                refill()

        def refill() -> None:
            nonlocal buf, pos, eof
            more = f.read(max(CHUNK, len(buf) - pos))
            eof = not more
            buf = buf[pos:] + more
            pos = 0

        skip(" \t\r\n")
        if pos >= len(buf):
            return
        array = buf[pos] == "["
        if array:
            pos += 1
        while True:
            skip(" \t\r\n," if array else " \t\r\n")
            if pos >= len(buf):
                if array:
                    yield line, ParseFailure("the JSON array is not closed with ']'",
                                             "The file looks truncated.", fatal=True)
                return
            if array and buf[pos] == "]":
                return
            start_line = line
            while True:
                try:
                    obj, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as e:
                    if eof or len(buf) - pos > MAX_ITEM:
                        yield start_line + buf.count("\n", pos, e.pos), ParseFailure(
                            f"bad JSON ({e.msg}); the rest of the file cannot be read",
                            "Fix this spot (quotes, commas, brackets), or use JSONL so one bad "
                            "line does not hide the rest.", fatal=True)
                        return
                    refill()
            line += buf.count("\n", pos, end)
            pos = end
            yield start_line, obj
            if not array:
                skip(" \t\r\n")
                if pos < len(buf):
                    yield line, ParseFailure("extra data after the JSON value",
                                             "Put records in a [...] array, or use JSONL.",
                                             fatal=True)
                return


def _cell(value: Any) -> Any:
    """CSV/XLSX cells holding JSON lists or objects (history, response, messages) are decoded."""
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in ("[", "{"):
            try:
                return json.loads(s)
            except json.JSONDecodeError:
                return value
        return value
    if isinstance(value, float) and value != value:  # NaN from an empty cell
        return None
    return value


def _row(headers: list[str], values):
    row = {h: _cell(v) for h, v in zip(headers, values) if h and v not in (None, "")}
    return row["data"] if set(row) == {"data"} else row  # a list-shaped record (see `_flat`)


def _read_csv(path: Path) -> Iterator[tuple[int, Any]]:
    with open_text(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter="\t" if inner_suffix(path) == ".tsv" else ",")
        headers = next(reader, None)
        if headers is None:
            return
        start = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                yield start, _row(headers, values)
            start = reader.line_num + 1


def _read_txt(path: Path) -> Iterator[tuple[int, Any]]:
    with open_text(path, encoding="utf-8-sig", errors="replace") as f:
        for number, raw in enumerate(f, 1):
            raw = raw.rstrip("\r\n")
            if raw.strip():
                yield number, raw


def _need(module: str):
    from importlib import import_module

    try:
        return import_module(module)
    except ImportError as e:
        raise EngineMissingError(module, DATA_EXTRA, "needed for this file type") from e


def _read_xlsx(path: Path) -> Iterator[tuple[int, Any]]:
    openpyxl = _need("openpyxl")
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.active.iter_rows(values_only=True)
        headers = [str(h) if h is not None else "" for h in next(rows, ())]
        for number, values in enumerate(rows, 2):
            if any(v not in (None, "") for v in values):
                yield number, _row(headers, values)
    finally:
        book.close()


def _read_parquet(path: Path) -> Iterator[tuple[int, Any]]:
    pq = _need("pyarrow.parquet")
    number = 1
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            yield number, _row(list(row), list(row.values()))


READERS = {"jsonl": _read_jsonl, "json": _read_json, "csv": _read_csv, "txt": _read_txt,
           "xlsx": _read_xlsx, "parquet": _read_parquet}


# ---- writers -------------------------------------------------------------------------------



def _flat(obj: Any) -> dict:
    """Tabular files hold one record per row; nested values are stored as JSON text."""
    if not isinstance(obj, dict):
        obj = {"data": obj}
    return {k: v if isinstance(v, (str, int, float, bool)) or v is None
            else json.dumps(v, ensure_ascii=False) for k, v in obj.items()}


def write_records(path: str | Path, objs) -> int:
    """Write an iterable of JSON-able objects in the format the extension names."""
    path = Path(path)
    kind = _kind(path)
    if kind not in ("jsonl", "json", "txt") and path.suffix.lower() in COMPRESSED:
        raise DatasetFormatError(path, None, None, "only JSONL, JSON and TXT are written compressed",
                                 "Write .jsonl.gz, or an uncompressed .csv.")
    count = 0
    with atomic_path(path) as tmp:
        if kind in ("jsonl", "json", "txt"):
            with open_write_text(tmp, path.suffix.lower()) as f:
                f.write("[\n" if kind == "json" else "")
                for obj in objs:
                    if kind == "txt":
                        text = obj.get("text", obj.get("prompt")) if isinstance(obj, dict) else obj
                        if not isinstance(text, str):
                            raise DatasetFormatError(path, None, None,
                                                     "a .txt file holds only plain text or prompts",
                                                     "Write .jsonl instead.")
                        f.write(" ".join(text.splitlines()) + "\n")
                    elif kind == "json":
                        f.write((",\n" if count else "") + json.dumps(obj, ensure_ascii=False))
                    else:
                        f.write(json.dumps(obj, ensure_ascii=False) + "\n")
                    count += 1
                f.write("\n]\n" if kind == "json" else "")
        else:
            rows = [_flat(o) for o in objs]  # tabular writers need the columns up front
            count = len(rows)
            columns = list(dict.fromkeys(k for r in rows for k in r))
            TABULAR[kind](tmp, columns, rows)
    return count


def _write_csv(tmp: Path, columns, rows) -> None:
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def _write_xlsx(tmp: Path, columns, rows) -> None:
    openpyxl = _need("openpyxl")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(columns)
    for r in rows:
        sheet.append([r.get(c) for c in columns])
    book.save(tmp)


def _write_parquet(tmp: Path, columns, rows) -> None:
    pa = _need("pyarrow")
    pq = _need("pyarrow.parquet")
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    pq.write_table(table, tmp)


TABULAR = {"csv": _write_csv, "xlsx": _write_xlsx, "parquet": _write_parquet}
