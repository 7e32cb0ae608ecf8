"""Validate a dataset file in one streaming pass: format, record shape, and fit for a stage.

`validate_dataset` never stops at the first problem: it reports each one with the line, the field
and a hint, keeps the first `max_problems` (memory stays bounded) and counts the rest.
`iter_canonical` is the strict reader the other commands use: it raises `DatasetFormatError` at
the first bad record. A field that carries meaning for some stage but that the record's format does
not read (a `label` next to OpenAI messages read as sharegpt, a `score` on alpaca) is a problem,
never dropped in silence; `iter_canonical(..., on_ignored=...)` lets a lossy conversion count it
instead.

`fmt` is a format name, "auto", or a `DatasetFormat` built elsewhere (see `dataset_info.py`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ConfigError, DatasetFormatError
from ..workflow import STAGES
from .files import ParseFailure, read_records
from .formats import (IGNORED_HINT, REGISTRY, DatasetFormat, describe_shape, detect_format,
                      get_format, ignored_fields)
from .records import FieldProblem, Record

STAGE_KINDS: dict[str, tuple[tuple[str, ...], str, str]] = {
    # stage -> (accepted kinds, what it needs, how to fix)
    "pt": (("text",), "pt trains on plain text",
           'Use one {"text": "..."} per line or a .txt file with one document per line.'),
    "sft": (("conversation",), "sft needs conversations that end with one answer",
            'e.g. [{"prompt": "...", "response": "..."}] or {"messages": [...]}; ranked data '
            "belongs to --stage rm, prompt sets to --stage grpo/ppo."),
    "rm": (("ranked",), "the reward model needs two or more ranked answers for the last turn",
           'Give the last turn several answers, best first: "response": [["best"], ["second"]].'),
    "dpo": (("ranked",), "dpo needs a chosen and a rejected answer",
            'Add both "chosen" and "rejected" (ranked lists of 3+ are split into pairs).'),
    "kto": (("unpaired", "ranked"), "kto needs answers labelled good or bad",
            'Add "kto_tag"/"label" true|false, or use chosen/rejected pairs.'),
    "grpo": (("prompt", "text"), "RL needs prompts only",
             "Keep only the prompts: `llmp data convert IN OUT --to prompt`."),
    "ppo": (("prompt", "text"), "RL needs prompts only",
            "Keep only the prompts: `llmp data convert IN OUT --to prompt`."),
}


@dataclass
class Problem:
    line: int
    field: str
    problem: str
    hint: str = ""

    def render(self, path: Path | str) -> str:
        hint = f" {self.hint}" if self.hint else ""
        return f"{path}:{self.line}: {self.field}: {self.problem}.{hint}"


@dataclass
class ValidationReport:
    path: Path
    format: str | None = None
    detected: bool = False
    stage: str | None = None
    records: int = 0
    kinds: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0 and self.records > 0


def _check_stage(rec: Record, stage: str) -> FieldProblem | None:
    kinds, need, hint = STAGE_KINDS[stage]
    if rec.kind in kinds:
        return None
    detail = {
        "conversation": "has one answer" if rec.answers or rec.turns else "is empty",
        "ranked": f"has {len(rec.answers or [])} ranked answers",
        "prompt": "has no answer",
        "text": "is plain text",
        "unpaired": "has one labelled answer",
    }[rec.kind]
    return FieldProblem("(record)", f"{need}; this record {detail}", hint)


Event = tuple[int, Record | Problem]


Ignored = Callable[[int, list[str]], None]
ALIKE = {"openai", "lf-v1"}  # one reader: messages with string or parts content


def _resolve(fmt: str | DatasetFormat) -> DatasetFormat | None:
    if isinstance(fmt, DatasetFormat):
        return fmt
    return None if fmt == "auto" else get_format(fmt)


def _ignored_problem(line: int, fmt: DatasetFormat, keys: list[str]) -> Problem:
    hint = IGNORED_HINT.get(keys[0]) or (
        f"{fmt.name} is {fmt.summary}. Pass --format NAME (or --dataset-info) for a format that "
        "reads it, or remove the field.")
    what = "field" if len(keys) == 1 else "fields"
    return Problem(line, ", ".join(keys), f"{what} not read by {fmt.name}: the data would be "
                   "lost", hint)


def _events(path: Path, fmt: str | DatasetFormat, stage: str | None,
            found: Callable[[DatasetFormat], None], on_ignored: Ignored | None = None
            ) -> Iterator[Event]:
    chosen = _resolve(fmt)
    if chosen is not None:
        found(chosen)
    for line, obj in read_records(path):
        if isinstance(obj, ParseFailure):
            yield line, Problem(line, "(json)", obj.problem, obj.hint)
            continue
        if chosen is None:
            chosen = detect_format(obj)
            if chosen is None:
                yield line, Problem(line, "(record)", f"is {describe_shape(obj)}, which matches no "
                                    "known format", f"Known formats: {', '.join(REGISTRY)}.")
                continue
            found(chosen)
        elif not chosen.detect(obj):
            guess = detect_format(obj)
            if (guess is not None and guess.to_canonical is not chosen.to_canonical
                    and {guess.name, chosen.name} != ALIKE):
                yield line, Problem(line, "(record)", f"looks like {guess.name}, but this file is "
                                    f"read as {chosen.name}", "Use one format per file, or pass "
                                    "--format NAME.")
                continue
        try:
            rec = chosen.to_canonical(obj)
        except FieldProblem as e:
            yield line, Problem(line, e.field, e.problem, e.hint)
            continue
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            yield line, Problem(line, "(record)", f"is {describe_shape(obj)}, which does not fit "
                                f"{chosen.name} ({type(e).__name__})", f"{chosen.name} is {chosen.summary}.")
            continue
        ignored = ignored_fields(chosen, obj)
        if ignored:
            if on_ignored is None:
                yield line, _ignored_problem(line, chosen, ignored)
                continue
            on_ignored(line, ignored)
        if stage:
            mismatch = _check_stage(rec, stage)
            if mismatch:
                yield line, Problem(line, mismatch.field, mismatch.problem, mismatch.hint)
                continue
        yield line, rec


def _check_stage_name(stage: str | None) -> None:
    if stage is not None and stage not in STAGE_KINDS:
        raise ConfigError("--stage", f"unknown stage '{stage}'", f"Choose one of: {', '.join(STAGES)}.")


def validate_dataset(path: str | Path, fmt: str | DatasetFormat = "auto", stage: str | None = None,
                     max_problems: int = 1000) -> ValidationReport:
    """Check every record of `path`; see `ValidationReport`. Streams: memory does not grow."""
    _check_stage_name(stage)
    report = ValidationReport(Path(path), detected=fmt == "auto", stage=stage)

    def found(f: DatasetFormat) -> None:
        report.format = f.name

    for _, item in _events(report.path, fmt, stage, found):
        report.records += 1
        if isinstance(item, Problem):
            report.problem_count += 1
            if len(report.problems) < max_problems:
                report.problems.append(item)
        else:
            report.kinds[item.kind] += 1
    return report


def iter_canonical(path: str | Path, fmt: str | DatasetFormat = "auto", stage: str | None = None,
                   on_ignored: Ignored | None = None) -> Iterator[tuple[int, Record]]:
    """Yield `(line, Record)`; raise `DatasetFormatError` at the first bad record.

    Unread meaningful fields are bad records unless `on_ignored(line, keys)` is given."""
    _check_stage_name(stage)
    path = Path(path)
    for line, item in _events(path, fmt, stage, lambda f: None, on_ignored):
        if isinstance(item, Problem):
            raise DatasetFormatError(path, line, item.field, f"{item.problem}.",
                                     f"{item.hint} Run `llmp data validate {path}` to list every "
                                     "problem.".strip())
        yield line, item


def detected_format(path: str | Path) -> str | None:
    """The format of the first record that matches one."""
    for _, obj in read_records(path):
        guess = None if isinstance(obj, ParseFailure) else detect_format(obj)
        if guess:
            return guess.name
    return None
