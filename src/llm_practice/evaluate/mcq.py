"""`llmp eval MODEL --task mcq --data PATH`: multiple-choice benchmarks scored by log-likelihood.

File layouts read as they are published (one CSV per subject):
- C-Eval:  `dev/<subject>_dev.csv`, `val/<subject>_val.csv`, `test/<subject>_test.csv`, header
  `id,question,A,B,C,D,answer[,explanation]` (its test split has no public answers);
- CMMLU:   `dev/<subject>.csv`, `test/<subject>.csv`, header `,Question,A,B,C,D,Answer`;
- MMLU:    `dev/<subject>_dev.csv`, `val/...`, `test/...`, NO header: question, options, answer.
PATH is the folder holding the split folders, or one CSV file. Any number of options (A, B, C,
...) works; column names are matched without regard to case.

The prompt is the MMLU one (`Answer:`), or the C-Eval one (`答案：`) when the questions are
Chinese; `shots` solved examples from the subject's dev split come first. Each option is scored
by the log-likelihood of its letter after the prompt (`scoring="letter"`, as the harness does for
MMLU and C-Eval: one forward pass per question) or of its text (`scoring="text"`; `acc_norm`
divides by the option's length in characters). The prediction is the best-scored option.
"""

from __future__ import annotations

import csv
import re
import string
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError, DatasetFormatError
from .journal import Journal, run_pending
from .target import EvalModel

LETTERS = string.ascii_uppercase
LAYOUT_HINT = ("MCQ files are CSV, one per subject: C-Eval/MMLU `<subject>_<split>.csv` or CMMLU "
               "`<split>/<subject>.csv`, with columns question, A, B, C, D, answer (MMLU: the same "
               "order without a header).")
_CJK = re.compile(r"[\u3400-\u9fff]")


class McqConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    split: str | None = Field(None, description="val or test (default: val when present)")
    shots: int = Field(0, ge=0, le=10, description="solved dev examples before each question")
    scoring: str = Field("letter", pattern="^(letter|text)$")
    lang: str = Field("auto", pattern="^(auto|en|zh)$", description="prompt language")
    subjects: list[str] | None = None
    limit: int | None = Field(None, ge=1, description="questions per subject")


@dataclass(frozen=True)
class Question:
    subject: str
    path: Path
    line: int
    question: str
    options: tuple[str, ...]
    answer: int  # index into options; -1 when the split has no answers

    @property
    def id(self) -> str:
        return f"{self.subject}:{self.line}"


def read_subject_file(path: Path, subject: str, need_answers: bool = True) -> list[Question]:
    """One subject's CSV in any of the three layouts, checked row by row."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    rows = [(i, r) for i, r in enumerate(rows, 1) if any(c.strip() for c in r)]
    if not rows:
        raise DatasetFormatError(path, None, None, "is empty.", LAYOUT_HINT)
    first = [c.strip().lower() for c in rows[0][1]]
    if "question" in first or "answer" in first:
        columns, body = first, rows[1:]
        if "question" not in columns:
            raise DatasetFormatError(path, 1, "question", f"missing column 'question' (the header "
                                     f"is: {', '.join(rows[0][1])}).", LAYOUT_HINT)
        q_col = columns.index("question")
        letters = [c for c in columns if len(c) == 1 and c.upper() in LETTERS]
        expected = [LETTERS[i].lower() for i in range(max(len(letters), 2))]
        missing = [c.upper() for c in expected if c not in columns]
        if missing or len(letters) < 2:
            raise DatasetFormatError(path, 1, missing[0] if missing else "A",
                                     f"missing option column(s) {', '.join(missing) or 'A, B'} (the "
                                     f"header is: {', '.join(rows[0][1])}).", LAYOUT_HINT)
        opt_cols = [columns.index(c) for c in expected]
        a_col = columns.index("answer") if "answer" in columns else None
        if a_col is None and need_answers:
            raise DatasetFormatError(path, 1, "answer", "missing column 'answer'.",
                                     LAYOUT_HINT + " Pick a split with answers (e.g. --split val).")
    else:  # MMLU: question, options..., answer
        columns, body = None, rows
        width = len(rows[0][1])
        if width < 4:
            raise DatasetFormatError(path, rows[0][0], None, f"has {width} columns and no header; "
                                     "expected question, at least two options and the answer.", LAYOUT_HINT)
        q_col, opt_cols, a_col = 0, list(range(1, width - 1)), width - 1
    questions = []
    for line, row in body:
        cells = row + [""] * (max([q_col, *opt_cols, a_col or 0]) + 1 - len(row))
        options = tuple(cells[c].strip() for c in opt_cols)
        answer = -1
        raw = cells[a_col].strip().upper() if a_col is not None else ""
        if raw or need_answers:
            valid = LETTERS[:len(options)]
            if len(raw) != 1 or raw not in valid:
                raise DatasetFormatError(path, line, "answer", f"'{raw or '(empty)'}' is not one of the "
                                         f"options {', '.join(valid)}.",
                                         "Each answer is one option letter. C-Eval's test split has no "
                                         "public answers: evaluate --split val.")
            answer = valid.index(raw)
        question = cells[q_col].strip()
        if not question:
            raise DatasetFormatError(path, line, "question", "is empty.", LAYOUT_HINT)
        questions.append(Question(subject, path, line, question, options, answer))
    return questions


def subject_files(root: Path, split: str) -> dict[str, Path]:
    """subject -> CSV of that split (C-Eval/MMLU `<subject>_<split>.csv`, CMMLU `<subject>.csv`)."""
    if root.is_file():
        return {_subject_name(root, split): root}
    folder = root / split
    if not folder.is_dir():
        raise DatasetFormatError(root, None, None, f"has no '{split}' folder (found: "
                                 f"{', '.join(sorted(p.name for p in root.iterdir() if p.is_dir())) or 'none'}).",
                                 "Pass --split with one of the folders, or point --data at the benchmark root.")
    files = {_subject_name(p, split): p for p in sorted(folder.glob("*.csv"))}
    if not files:
        raise DatasetFormatError(folder, None, None, "holds no .csv files.", LAYOUT_HINT)
    return files


def _subject_name(path: Path, split: str) -> str:
    stem = path.stem
    return stem[: -len(split) - 1] if stem.endswith(f"_{split}") else stem


def default_split(root: Path) -> str:
    if root.is_file():
        return "file"
    for split in ("val", "test"):
        if (root / split).is_dir():
            return split
    raise DatasetFormatError(root, None, None, "has neither a 'val' nor a 'test' folder.", LAYOUT_HINT)


def _lang(questions: list[Question], wanted: str) -> str:
    if wanted != "auto":
        return wanted
    text = "".join(q.question for q in questions[:20])
    return "zh" if len(_CJK.findall(text)) > len(text) * 0.1 else "en"


HEADERS = {
    "en": "The following are multiple choice questions (with answers) about {subject}.\n\n",
    "zh": "以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。\n\n",
}
ANSWER_CUE = {"en": "Answer:", "zh": "答案："}
LETTER_SEP = {"en": " ", "zh": ""}  # the continuation after the cue: " A" / "A"


def format_question(q: Question, lang: str, answer: bool) -> str:
    lines = [q.question] + [f"{LETTERS[i]}. {opt}" for i, opt in enumerate(q.options)]
    text = "\n".join(lines) + "\n" + ANSWER_CUE[lang]
    if answer:
        text += LETTER_SEP[lang] + LETTERS[q.answer] + "\n\n"
    return text


def build_prompt(q: Question, shots: list[Question], lang: str) -> str:
    subject = q.subject.replace("_", " ")
    return (HEADERS[lang].format(subject=subject) + "".join(format_question(s, lang, True) for s in shots)
            + format_question(q, lang, False))


def load_benchmark(root: Path, config: McqConfig) -> tuple[str, dict[str, list[Question]], dict[str, list[Question]]]:
    split = config.split or default_split(root)
    files = subject_files(root, split)
    if config.subjects:
        unknown = sorted(set(config.subjects) - set(files))
        if unknown:
            raise ConfigError("--subject", f"unknown subject(s) {', '.join(unknown)}.",
                              f"Subjects in {root}: {', '.join(files)}.")
        files = {s: files[s] for s in config.subjects}
    questions = {s: read_subject_file(p, s)[: config.limit] for s, p in files.items()}
    dev: dict[str, list[Question]] = {}
    if config.shots:
        if root.is_file() or not (root / "dev").is_dir():
            raise ConfigError("--shots", f"{config.shots}-shot needs a 'dev' folder next to '{split}' in {root}.",
                              "Use --shots 0, or add the dev split.")
        dev_files = subject_files(root, "dev")
        for s in questions:
            if s not in dev_files:
                raise DatasetFormatError(root / "dev", None, None, f"has no dev file for subject '{s}'.",
                                         "Add it, or use --shots 0.")
            dev[s] = read_subject_file(dev_files[s], s)[: config.shots]
    return split, questions, dev


def run_mcq(model: EvalModel, data: str | Path, config: McqConfig | None = None, *,
            threads: int | None = None, batch_tokens: int = 4096, progress=None,
            use_cache: bool = True) -> dict:
    from .scorer import Scorer

    config = config or McqConfig()
    root = Path(data)
    if not root.exists():
        raise DatasetFormatError(root, None, None, "no such file or folder", "Check --data.")
    split, questions, dev = load_benchmark(root, config)
    settings = config.model_dump() | {"split": split, "batch_tokens": batch_tokens}
    journal = Journal("mcq", model.fingerprint, root, settings, fresh=not use_cache)
    if use_cache and (cached := journal.result()):
        return cached | {"cached": True}
    started = time.perf_counter()
    scorer = Scorer(model, threads=threads, batch_tokens=batch_tokens)
    langs = {s: _lang(qs, config.lang) for s, qs in questions.items()}
    items = [q for qs in questions.values() for q in qs]

    def score(part: list[Question]) -> list[dict]:
        requests, owners = [], []
        for q in part:
            lang = langs[q.subject]
            prompt = build_prompt(q, dev.get(q.subject, []), lang)
            for i, opt in enumerate(q.options):
                cont = LETTER_SEP[lang] + LETTERS[i] if config.scoring == "letter" else " " + opt
                requests.append((prompt, cont))
                owners.append(q)
        scores = scorer.loglikelihood(requests)
        out, k = [], 0
        for q in part:
            lls = [s for s, _ in scores[k:k + len(q.options)]]
            k += len(q.options)
            norm = [ll / max(1, len(opt)) for ll, opt in zip(lls, q.options)]
            out.append({"subject": q.subject, "line": q.line, "gold": q.answer, "logprobs": lls,
                        "pred": max(range(len(lls)), key=lls.__getitem__),
                        "pred_norm": max(range(len(norm)), key=norm.__getitem__)})
        return out

    run_pending(journal, items, lambda q: q.id, score, chunk=16, progress=progress)
    return journal.finish(_summary(model, root, settings, questions, journal, started)) | {"cached": False}


def _summary(model, root, settings, questions, journal, started) -> dict:
    subjects, correct_all, norm_all, n_all = {}, 0, 0, 0
    for subject, qs in questions.items():
        records = [journal.done[q.id] for q in qs]
        correct = sum(r["pred"] == r["gold"] for r in records)
        correct_norm = sum(r["pred_norm"] == r["gold"] for r in records)
        subjects[subject] = {"n": len(records), "acc": correct / len(records) if records else 0.0,
                             "acc_norm": correct_norm / len(records) if records else 0.0}
        correct_all += correct
        norm_all += correct_norm
        n_all += len(records)
    macro = sum(s["acc"] for s in subjects.values()) / len(subjects) if subjects else 0.0
    items = [{"id": q.id, "subject": q.subject, "correct": journal.done[q.id]["pred"] == q.answer}
             for qs in questions.values() for q in qs]
    return {
        "task": "mcq", "model": model.label, "data": str(root), "settings": settings,
        "metrics": {"acc": correct_all / n_all if n_all else 0.0, "acc_macro": macro,
                    "acc_norm": norm_all / n_all if n_all else 0.0, "n": n_all},
        "subjects": subjects, "items": items,
        "seconds": round(time.perf_counter() - started, 3), "resumed_items": journal.resumed,
    }
