"""`llmp eval MODEL --task qa --data FILE`: generated answers scored against references.

FILE is any conversation dataset `llmp data` reads (alpaca, sharegpt, OpenAI messages, Qianfan,
TRL prompt-completion ...): the turns before the last answer are the prompt, the answer is the
reference. Metrics:
- `exact`: the answer equals the reference after normalising (NFKC, case, punctuation, spaces);
- `contains`: the normalised reference occurs in the normalised answer;
- `judge`: an LLM judge (`--judge-model`, a local model or one served at `--judge-base-url`)
  grades the answer 1-5 against the reference; it passes at `min_score` or above.

Answers are generated greedily (temperature 0, seed 0) through the model's `ChatEngine`, so the
cached answers are reproducible; with `--base-url` the model under test is the one that
OpenAI-compatible endpoint serves under MODEL's name.
"""

from __future__ import annotations

import re
import time
import unicodedata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DatasetFormatError
from .journal import Journal, run_pending
from .target import EvalModel

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
JUDGE_RUBRIC = ("The answer must agree with this reference answer in meaning (wording may differ; "
                "extra correct detail is fine, contradicting it is not): {reference}")


class QaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field("contains", pattern="^(exact|contains|judge)$")
    format: str = "auto"
    max_tokens: int = Field(128, ge=1)
    system: str | None = None
    min_score: int = Field(4, ge=1, le=5)
    limit: int | None = Field(None, ge=1)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


def exact_match(answer: str, reference: str) -> bool:
    return normalise(answer) == normalise(reference)


def contains(answer: str, reference: str) -> bool:
    ref, ans = normalise(reference), normalise(answer)
    if not ref:
        return False
    if f" {ref} " in f" {ans} ":
        return True
    # Chinese is written without spaces between words: compare without them
    return not ref.isascii() and ref.replace(" ", "") in ans.replace(" ", "")


METRICS = {"exact": exact_match, "contains": contains}


def read_cases(path: Path, config: QaConfig) -> list[dict]:
    from ..data.validate import iter_canonical

    cases = []
    for line, rec in iter_canonical(path, config.format):
        turns = rec.conversation()
        if not turns or turns[-1].role != "assistant":
            raise DatasetFormatError(path, line, None, "has no reference answer (the last turn is not "
                                     "an answer).", "qa data pairs each prompt with its reference "
                                     'answer, e.g. {"instruction": "...", "output": "..."}.')
        system = rec.system or config.system
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "assistant" if t.role == "assistant" else "user", "content": t.content}
            for t in turns[:-1]]
        cases.append({"id": str(line), "messages": messages, "reference": turns[-1].content})
        if config.limit and len(cases) >= config.limit:
            break
    if not cases:
        raise DatasetFormatError(path, None, None, "holds no question/answer pairs.",
                                 'Use one {"instruction": ..., "output": ...} (or messages) per line.')
    return cases


def load_chat_engine(model: EvalModel, engine: str | None = None, threads: int | None = None):
    """The engine that chats with `model`; a LoRA run's adapter is merged into its base in memory."""
    from ..chat.engine import load_engine

    if model.info.format == "remote":
        from ..chat.remote import connect

        return connect(model.info.url, model.info.name, model.api_key)

    runner = load_engine(model.info, "transformers" if model.adapter else engine, threads=threads)
    if model.adapter is not None:
        from peft import PeftModel

        runner.lm = PeftModel.from_pretrained(runner.lm, str(model.adapter)).merge_and_unload().eval()
    return runner


def run_qa(model: EvalModel, data: str | Path, config: QaConfig | None = None, *,
           engine: str | None = None, judge=None, threads: int | None = None, progress=None,
           use_cache: bool = True) -> dict:
    """`judge` is a `prompts.backends.Backend` (needed for metric "judge")."""
    from ..chat.engine import GenerationParams
    from ..prompts.checks import judge_messages, parse_judge_score

    config = config or QaConfig()
    data = Path(data)
    if not data.is_file():
        raise DatasetFormatError(data, None, None, "no such file", "Check --data.")
    cases = read_cases(data, config)
    settings = config.model_dump() | {"engine": engine or "",
                                      "judge": getattr(judge, "id", None) if config.metric == "judge" else None}
    journal = Journal("qa", model.fingerprint, data, settings, fresh=not use_cache)
    if use_cache and (cached := journal.result()):
        return cached | {"cached": True}
    started = time.perf_counter()
    runner = None
    params = GenerationParams(temperature=0, max_tokens=config.max_tokens, seed=0)
    judge_params = GenerationParams(temperature=0, max_tokens=48, seed=0)

    def score(part: list[dict]) -> list[dict]:
        nonlocal runner
        if runner is None:
            runner = load_chat_engine(model, engine, threads)
        out = []
        for case in part:
            answer = runner.chat(case["messages"], params).text().strip()
            record = {"answer": answer, "reference": case["reference"]}
            if config.metric == "judge":
                question = case["messages"][-1]["content"]
                verdict = judge.complete(judge_messages(JUDGE_RUBRIC.format(reference=case["reference"]),
                                                        question, answer), judge_params).text
                score_ = parse_judge_score(verdict)
                record |= {"judge": verdict.strip()[:300], "score": score_,
                           "correct": bool(score_ and score_ >= config.min_score)}
            else:
                record["correct"] = METRICS[config.metric](answer, case["reference"])
            out.append(record)
        return out

    run_pending(journal, cases, lambda c: c["id"], score, chunk=1, progress=progress)
    records = [journal.done[c["id"]] for c in cases]
    items = [{"id": c["id"], "question": c["messages"][-1]["content"], **r} for c, r in zip(cases, records)]
    result = {
        "task": "qa", "model": model.label, "data": str(data), "settings": settings,
        "metrics": {"acc": sum(r["correct"] for r in records) / len(records), "n": len(records),
                    "metric": config.metric},
        "items": items, "seconds": round(time.perf_counter() - started, 3),
        "resumed_items": journal.resumed,
    }
    return journal.finish(result) | {"cached": False}
