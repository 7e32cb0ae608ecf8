"""Per-case checks for `llmp prompt compare`: contains, regex, JSON, JSON Schema, length, LLM judge.

In an inputs file a check is a one-key mapping (plus options), validated before anything runs:

    checks:
      - contains: Paris            # case-insensitive substring
      - not_contains: "As an AI"
      - regex: "^\\d{4}-\\d{2}-\\d{2}$"
      - json: true                 # the answer parses as JSON (a ```json fence is allowed)
      - json_schema: {type: object, required: [name]}
      - max_chars: 280
      - max_words: 50
      - judge: "Is the answer polite and does it give a date?"
        min_score: 4               # the judge scores 1-5; pass at this score or above
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contains: str | None = None
    not_contains: str | None = None
    regex: str | None = None
    json_: bool | None = Field(None, alias="json")
    json_schema: dict | None = None
    max_chars: int | None = Field(None, ge=1)
    max_words: int | None = Field(None, ge=1)
    judge: str | None = None
    min_score: int = Field(4, ge=1, le=5)

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in CHECK_KINDS if getattr(self, _attr(k)) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a check needs exactly one of {', '.join(CHECK_KINDS)}; got {kinds or 'none'}")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as e:
                raise ValueError(f"regex {self.regex!r} is not valid: {e}") from e
        if self.json_schema is not None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(self.json_schema)
            except SchemaError as e:
                raise ValueError(f"json_schema is not a valid JSON Schema: {e.message}") from e
        return self

    @property
    def kind(self) -> str:
        return next(k for k in CHECK_KINDS if getattr(self, _attr(k)) is not None)

    @property
    def value(self):
        return getattr(self, _attr(self.kind))

    def label(self) -> str:
        value = self.value
        shown = "" if isinstance(value, bool) else json.dumps(value, ensure_ascii=False)
        return f"{self.kind} {shown[:40]}".strip()


@dataclass
class CheckResult:
    kind: str
    label: str
    passed: bool
    detail: str = ""


def _attr(kind: str) -> str:
    return "json_" if kind == "json" else kind


def parse_json_answer(text: str):
    """The JSON in an answer: the whole text, or the body of a ```json fence. Raises ValueError."""
    fenced = re.search(r"```(?:json)?\s*\n(.*?)```", text, re.S)
    return json.loads(fenced.group(1) if fenced else text.strip())


def count_words(text: str) -> int:
    """Latin words plus one per CJK character (how Chinese length limits are usually meant)."""
    return len(re.findall(r"[\u4e00-\u9fff]|[A-Za-z0-9'’-]+", text))


def _contains(check: Check, output: str) -> tuple[bool, str]:
    return check.contains.lower() in output.lower(), ""


def _not_contains(check: Check, output: str) -> tuple[bool, str]:
    return check.not_contains.lower() not in output.lower(), ""


def _regex(check: Check, output: str) -> tuple[bool, str]:
    return re.search(check.regex, output, re.S | re.M) is not None, ""


def _json(check: Check, output: str) -> tuple[bool, str]:
    try:
        parse_json_answer(output)
    except ValueError as e:
        return False, f"not JSON: {e}"
    return True, ""


def _json_schema(check: Check, output: str) -> tuple[bool, str]:
    from jsonschema import Draft202012Validator

    try:
        data = parse_json_answer(output)
    except ValueError as e:
        return False, f"not JSON: {e}"
    errors = sorted(Draft202012Validator(check.json_schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(root)"
        return False, f"{where}: {errors[0].message}"
    return True, ""


def _max_chars(check: Check, output: str) -> tuple[bool, str]:
    return len(output) <= check.max_chars, f"{len(output)} chars"


def _max_words(check: Check, output: str) -> tuple[bool, str]:
    n = count_words(output)
    return n <= check.max_words, f"{n} words"


# kind -> checker(check, output) -> (passed, detail). The judge needs a model: see compare.py.
CHECKERS: dict[str, Callable[[Check, str], tuple[bool, str]]] = {
    "contains": _contains, "not_contains": _not_contains, "regex": _regex, "json": _json,
    "json_schema": _json_schema, "max_chars": _max_chars, "max_words": _max_words,
}
CHECK_KINDS = [*CHECKERS, "judge"]

JUDGE_PROMPT = {
    "system": "You are a strict, fair grader. You grade an answer against a rubric.",
    "user": ("Grade the answer against the rubric on a scale from 1 (fails the rubric) to 5 (fully meets "
             "it).\nReply with only one line of the form 'Score: N - one short reason'.\n\n"
             "<rubric>\n{rubric}\n</rubric>\n\n<question>\n{question}\n</question>\n\n"
             "<answer>\n{answer}\n</answer>"),
}


def judge_messages(rubric: str, question: str, answer: str) -> list[dict]:
    return [{"role": "system", "content": JUDGE_PROMPT["system"]},
            {"role": "user", "content": JUDGE_PROMPT["user"].format(rubric=rubric, question=question,
                                                                   answer=answer)}]


def parse_judge_score(text: str) -> int | None:
    match = re.search(r"(?i)score\s*[:=]?\s*([1-5])\b", text) or re.search(r"\b([1-5])\b", text)
    return int(match.group(1)) if match else None


def run_check(check: Check, output: str) -> CheckResult:
    passed, detail = CHECKERS[check.kind](check, output)
    return CheckResult(check.kind, check.label(), passed, detail)
