"""Run prompt variants side by side on the same inputs, check the answers, cache the results.

    variants = [find_prompt("a.yaml"), find_prompt("b.txt")]
    cases = load_cases("inputs.yaml")
    report = compare_prompts(variants, cases, make_backend(None, None), CompareConfig(max_tokens=64))
    write_csv(report, "out/compare.csv"); write_html(report, "out/compare.html")

Every prompt is rendered for every case before any request is sent, so a missing variable fails
at once. Answers are cached on disk (`LLMP_HOME/cache/prompt-compare/`) under a key made of the
backend's exact model id, the messages and the sampling settings; the seed is fixed (default 0)
so a rerun reproduces the same table. Requests run on a thread pool.
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..atomic import atomic_write_json
from ..chat.engine import GenerationParams
from ..errors import PromptFileError
from ..settings import get_settings
from .backends import Backend, Completion
from .checks import Check, CheckResult, judge_messages, parse_judge_score, run_check
from .library import AnyPrompt, render


class Case(BaseModel):
    """One input: the variables to fill and the checks its answers must pass."""

    model_config = ConfigDict(extra="forbid")
    id: str
    vars: dict[str, str] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)


class CompareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(0.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int = Field(256, ge=1)
    seed: int = Field(0, ge=0)
    concurrency: int = Field(4, ge=1, le=64)
    use_cache: bool = True

    def params(self) -> GenerationParams:
        return GenerationParams(temperature=self.temperature, top_p=self.top_p,
                                max_tokens=self.max_tokens, seed=self.seed)


@dataclass
class Result:
    case: str
    variant: str
    output: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    cached: bool = False
    error: str | None = None

    @property
    def passed(self) -> bool | None:
        """True/False when the case has checks, None when it has none."""
        if self.error:
            return False
        return all(c.passed for c in self.checks) if self.checks else None


@dataclass
class CompareReport:
    variants: list[str]
    cases: list[str]
    prompts: dict[str, str]  # variant -> the prompt text for the first case (shown in the report)
    results: list[Result]
    backend: str
    config: dict

    def cell(self, case: str, variant: str) -> Result:
        return next(r for r in self.results if r.case == case and r.variant == variant)

    def summary(self) -> list[dict]:
        rows = []
        for variant in self.variants:
            mine = [r for r in self.results if r.variant == variant]
            checked = [r for r in mine if r.passed is not None]
            rows.append({
                "variant": variant,
                "passed": sum(1 for r in checked if r.passed),
                "checked": len(checked),
                "checks_passed": sum(c.passed for r in mine for c in r.checks),
                "checks_total": sum(len(r.checks) for r in mine),
                "mean_latency_s": round(sum(r.latency_s for r in mine) / max(1, len(mine)), 3),
                "completion_tokens": sum(r.completion_tokens for r in mine),
                "cached": sum(1 for r in mine if r.cached),
                "errors": sum(1 for r in mine if r.error),
            })
        return rows

    def to_json(self) -> dict:
        return {"backend": self.backend, "config": self.config, "variants": self.variants,
                "cases": self.cases, "prompts": self.prompts, "summary": self.summary(),
                "results": [asdict(r) | {"passed": r.passed} for r in self.results]}


def load_cases(path: str | Path) -> list[Case]:
    """Read cases from YAML, JSON or JSONL.

    Accepted shapes: a list of cases, or `{checks: [...], cases: [...]}` where the top-level
    checks apply to every case. A case is `{id, vars: {...}, checks: [...]}`, or the shorthand
    `{text: "...", checks: [...]}` where every key other than id/checks is a variable.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PromptFileError(path, f"cannot read it ({e}).", "Pass a YAML, JSON or JSONL file.") from e
    records, common, lines = _read_records(path, raw)
    cases = []
    for index, record in enumerate(records):
        line = lines[index] if lines else None
        if not isinstance(record, dict):
            raise PromptFileError(path, f"case {index + 1} is not a mapping.",
                                  'Write each case as {"text": "...", "checks": [...]}.', line=line)
        record = dict(record)
        if "vars" not in record:
            record = {"id": record.pop("id", None), "checks": record.pop("checks", []), "vars": record}
        record["id"] = str(record.get("id") or f"case{index + 1}")
        record["vars"] = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                          for k, v in (record.get("vars") or {}).items()}
        record["checks"] = [*common, *(record.get("checks") or [])]
        try:
            cases.append(Case.model_validate(record))
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise PromptFileError(path, f"case '{record['id']}': {err['msg']}.",
                                  "A check is one of: contains, not_contains, regex, json, json_schema, "
                                  "max_chars, max_words, judge (with optional min_score).",
                                  line=line, field=where) from e
    if not cases:
        raise PromptFileError(path, "no cases in the file.", 'Add cases like {"text": "...", "checks": []}.')
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise PromptFileError(path, f"case id '{dup}' appears more than once.", "Give each case its own id.")
    return cases


def _read_records(path: Path, raw: str) -> tuple[list, list, list[int]]:
    if path.suffix.lower() == ".jsonl":
        records, lines = [], []
        for number, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as e:
                    raise PromptFileError(path, f"not valid JSON ({e}).", "Each line must be one JSON object.",
                                          line=number) from e
                lines.append(number)
        return records, [], lines
    import yaml

    try:
        data = yaml.safe_load(raw)  # YAML is a superset of JSON
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise PromptFileError(path, f"not valid YAML/JSON ({getattr(e, 'problem', e)}).",
                              "Check the quoting and indentation.", line=mark.line + 1 if mark else None) from e
    if isinstance(data, dict) and "cases" in data:
        return list(data["cases"] or []), list(data.get("checks") or []), []
    if isinstance(data, list):
        return data, [], []
    raise PromptFileError(path, "expected a list of cases or a mapping with 'cases:'.",
                          'Example: [{"text": "...", "checks": [{"contains": "Paris"}]}]')


def cache_key(backend_id: str, messages: list[dict], params: GenerationParams) -> str:
    payload = json.dumps({"backend": backend_id, "messages": messages, "params": params.model_dump()},
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResultCache:
    """One JSON file per answer, written atomically; safe to share between processes."""

    def __init__(self, root: Path | None = None, enabled: bool = True):
        self.root = root or get_settings().cache_dir / "prompt-compare"
        self.enabled = enabled

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        if not self.enabled:
            return None
        try:
            return Completion(**json.loads(self._path(key).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def put(self, key: str, completion: Completion) -> None:
        if not self.enabled:
            return
        atomic_write_json(self._path(key), asdict(completion))


def _complete(backend: Backend, cache: ResultCache, messages: list[dict], params: GenerationParams
              ) -> tuple[Completion, bool]:
    key = cache_key(backend.id, messages, params)
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    started = time.perf_counter()
    completion = backend.complete(messages, params)
    completion.latency_s = round(time.perf_counter() - started, 3)
    cache.put(key, completion)
    return completion, False


def compare_prompts(variants: dict[str, AnyPrompt], cases: list[Case], backend: Backend,
                    config: CompareConfig | None = None, judge: Backend | None = None,
                    cache: ResultCache | None = None) -> CompareReport:
    """Run every variant on every case; `judge` (default: `backend`) grades the `judge:` checks."""
    config = config or CompareConfig()
    cache = cache or ResultCache(enabled=config.use_cache)
    judge = judge or backend
    params = config.params()
    judge_params = GenerationParams(temperature=0, max_tokens=48, seed=config.seed)
    # Render everything first: a missing variable fails before any request is sent.
    jobs = [(case, name, render(prompt, case.vars, strict=False)) for name, prompt in variants.items()
            for case in cases]

    def run(job) -> Result:
        case, name, rendered = job
        result = Result(case.id, name)
        try:
            completion, result.cached = _complete(backend, cache, rendered.messages, params)
        except Exception as e:  # one failed request is one red cell, not a lost table
            result.error = f"{e.__class__.__name__}: {e}"
            return result
        result.latency_s = completion.latency_s
        result.output = completion.text
        result.prompt_tokens, result.completion_tokens = completion.prompt_tokens, completion.completion_tokens
        result.finish_reason = completion.finish_reason
        for check in case.checks:
            if check.kind == "judge":
                result.checks.append(_judge(check, rendered.text, completion.text, judge, cache, judge_params))
            else:
                result.checks.append(run_check(check, completion.text))
        return result

    with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
        results = list(pool.map(run, jobs))
    first = {name: render(prompt, cases[0].vars, strict=False).text for name, prompt in variants.items()}
    return CompareReport(list(variants), [c.id for c in cases], first, results, backend.id,
                         config.model_dump())


def _judge(check: Check, question: str, answer: str, judge: Backend, cache: ResultCache,
           params: GenerationParams) -> CheckResult:
    try:
        verdict, _ = _complete(judge, cache, judge_messages(check.judge, question, answer), params)
    except Exception as e:
        return CheckResult("judge", check.label(), False, f"judge failed: {e}")
    score = parse_judge_score(verdict.text)
    detail = f"score {score}/5 (pass at {check.min_score}): {verdict.text.strip()[:160]}" if score else \
        f"no score in the judge's answer: {verdict.text.strip()[:160]!r}"
    return CheckResult("judge", check.label(), bool(score and score >= check.min_score), detail)
