"""Convert a dataset between formats through the canonical record.

Lossless or nothing: when the target cannot hold something a record carries (per-turn weights,
scores, tool descriptions, a KTO label, function calls, a field the source format does not read),
the conversion stops before anything is written and reports each kind of loss with its count; with
`lossy=True` it writes what the target holds and the report lists what was lost. A conversion never
invents or flips a KTO label: conversations without one are not written as KTO data at all.

Ranked lists of 3+ answers become (chosen, rejected) pairs for pair-only targets: `pairs="all"`
(every ordered pair) or `"adjacent"` (each answer with the next lower one); answers with equal
scores are never paired (a loss).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, LossyConversionError
from .files import write_records
from .formats import DatasetFormat, get_format
from .records import Unrepresentable
from .validate import iter_canonical

PAIR_MODES = ("all", "adjacent")


@dataclass
class ConvertReport:
    source_format: str | None = None
    read: int = 0
    written: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> records
    losses: Counter = field(default_factory=Counter)  # what was lost -> records
    notes: Counter = field(default_factory=Counter)  # transformations that lose nothing
    labels_in: Counter = field(default_factory=Counter)  # KTO label -> records read
    labels_out: Counter = field(default_factory=Counter)  # KTO label -> objects written

    @property
    def lossless(self) -> bool:
        return not self.skipped and not self.losses


def convert_dataset(src: str | Path, dst: str | Path, to: str, fmt: str | DatasetFormat = "auto",
                    pairs: str = "all", lossy: bool = False) -> ConvertReport:
    if pairs not in PAIR_MODES:
        raise ConfigError("--pairs", f"must be one of {', '.join(PAIR_MODES)}, got '{pairs}'")
    target = get_format(to)
    if Path(src).resolve() == Path(dst).resolve():
        raise ConfigError("OUT", "is the same file as IN", "Write to a new file.")
    named = fmt.name if isinstance(fmt, DatasetFormat) else None if fmt == "auto" else fmt
    report = ConvertReport(source_format=named)

    first_seen: dict[str, str] = {}

    def ignored(line: int, keys: list[str]) -> None:
        what = ", ".join(keys)
        key = first_seen.setdefault(what, f"field {what} not read by the source format (first on "
                                          f"line {line}; `llmp data validate` lists them all)")
        report.losses[key] += 1

    def objects():
        for _, rec in iter_canonical(src, fmt, on_ignored=ignored):
            report.read += 1
            if rec.label is not None:
                report.labels_in[rec.label] += 1
            found: dict[str, bool] = {}

            def note(what: str, lossy: bool = True) -> None:
                found[what] = found.get(what, False) or lossy

            try:
                out = target.from_canonical(rec, note, pairs)
            except Unrepresentable as e:
                report.skipped[str(e)] += 1
                continue
            for what, is_loss in found.items():
                (report.losses if is_loss else report.notes)[what] += 1
            report.written += len(out)
            for obj in out:
                label = _label(obj)
                if label is not None:
                    report.labels_out[label] += 1
            yield from out

    def checked():
        yield from objects()
        if not lossy and not report.lossless:  # raised inside the writer: no file is left
            raise LossyConversionError(to, report.read, dict(report.losses.most_common()),
                                       dict(report.skipped.most_common()))

    write_records(dst, checked() if not lossy else objects())
    if report.source_format is None:
        from .validate import detected_format

        report.source_format = detected_format(src)
    return report


def _label(obj) -> bool | None:
    """The KTO label of one written object, in any format's spelling."""
    if isinstance(obj, dict):
        for key in ("label", "kto_tag"):
            if isinstance(obj.get(key), bool):
                return obj[key]
        return None
    if isinstance(obj, list) and obj and isinstance(obj[-1], dict):  # qianfan-kto
        last = obj[-1]
        if ("chosen" in last) != ("rejected" in last):
            return "chosen" in last
    return None
