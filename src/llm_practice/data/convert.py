"""Convert a dataset between formats through the canonical record.

Lossless where the target can hold the data; otherwise each kind of loss is counted (weights
dropped, function calls flattened, ...) and records the target cannot hold at all are skipped with
a reason. Ranked lists of 3+ answers become (chosen, rejected) pairs for pair-only targets:
`pairs="all"` (every ordered pair) or `"adjacent"` (each answer with the next lower one); answers
with equal scores are never paired.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .files import write_records
from .formats import get_format
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


def convert_dataset(src: str | Path, dst: str | Path, to: str, fmt: str = "auto",
                    pairs: str = "all") -> ConvertReport:
    if pairs not in PAIR_MODES:
        raise ConfigError("--pairs", f"must be one of {', '.join(PAIR_MODES)}, got '{pairs}'")
    target = get_format(to)
    if Path(src).resolve() == Path(dst).resolve():
        raise ConfigError("OUT", "is the same file as IN", "Write to a new file.")
    report = ConvertReport(source_format=None if fmt == "auto" else fmt)

    def objects():
        for _, rec in iter_canonical(src, fmt):
            report.read += 1
            notes: set[str] = set()
            try:
                out = target.from_canonical(rec, notes.add, pairs)
            except Unrepresentable as e:
                report.skipped[str(e)] += 1
                continue
            for n in notes:
                report.losses[n] += 1
            report.written += len(out)
            yield from out

    write_records(dst, objects())
    if report.source_format is None:
        from .validate import detected_format

        report.source_format = detected_format(src)
    return report
