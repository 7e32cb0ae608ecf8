"""`kb eval`: document hit@k, MRR and answer-keyword recall on a question set you write.

QA file (JSONL, one question per line; see examples/kb/qa.jsonl):

    {"question": "端口在哪里设置？", "sources": ["guide.md"], "keywords": ["8080"]}

`sources`: the file(s) that answer it (a result counts when its path ends with one of them);
`keywords` (optional): words a good answer contains, checked only when answers are generated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DatasetFormatError


class QAItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    sources: list[str] = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)


@dataclass
class EvalReport:
    k: int
    questions: int = 0
    hits: int = 0
    reciprocal_ranks: float = 0.0
    keyword_hits: int = 0
    keyword_total: int = 0
    rows: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        n = max(self.questions, 1)
        return {"questions": self.questions, f"hit@{self.k}": round(self.hits / n, 4),
                "mrr": round(self.reciprocal_ranks / n, 4),
                "keyword_recall": round(self.keyword_hits / self.keyword_total, 4) if self.keyword_total else None,
                "per_question": self.rows}


def read_qa(path: Path) -> list[QAItem]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetFormatError(path, None, None, f"cannot read it ({e}).") from e
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            items.append(QAItem.model_validate(json.loads(line)))
        except json.JSONDecodeError as e:
            raise DatasetFormatError(path, number, None, f"invalid JSON ({e.msg}).",
                                     'Each line is {"question": ..., "sources": [...], "keywords": [...]}.') from e
        except ValidationError as e:
            err = e.errors()[0]
            raise DatasetFormatError(path, number, ".".join(map(str, err["loc"])) or None, err["msg"],
                                     'Each line is {"question": ..., "sources": [...], "keywords": [...]}.') from e
    if not items:
        raise DatasetFormatError(path, None, None, "no questions in the file.", "Write one JSON object per line.")
    return items


def first_hit(files: list[str], expected: list[str]) -> int | None:
    """1-based rank of the first result whose file path ends with an expected source."""
    for rank, file in enumerate(files, 1):
        if any(file == e or file.endswith("/" + e.lstrip("/")) or file.endswith(e) for e in expected):
            return rank
    return None


def evaluate_kb(kb, items: list[QAItem], k: int = 5, answer: Callable[[str], str] | None = None,
                progress: Callable[[int, int], None] | None = None) -> EvalReport:
    report = EvalReport(k=k)
    for number, item in enumerate(items, 1):
        results = kb.search(item.question, k=k)
        rank = first_hit([r.metadata["file"] for r in results], item.sources)
        row = {"question": item.question, "rank": rank}
        report.questions += 1
        if rank is not None:
            report.hits += 1
            report.reciprocal_ranks += 1 / rank
        if answer is not None and item.keywords:
            text = answer(item.question).lower()
            found = [w for w in item.keywords if w.lower() in text]
            report.keyword_hits += len(found)
            report.keyword_total += len(item.keywords)
            row["keywords_found"] = found
        report.rows.append(row)
        if progress:
            progress(number, len(items))
    return report
