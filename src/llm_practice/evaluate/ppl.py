"""`llmp eval MODEL --task ppl --data FILE`: perplexity on held-out text, sliding window.

The documents (any file `llmp data` reads: plain text lines, `{"text"}` records, or
conversations rendered through the model's chat template) are joined with a blank line and
tokenised as one stream. Windows of `window` tokens start every `stride` tokens; each window
scores only the tokens the previous one did not, each predicted from up to `window - 1` tokens
before it (the recipe in the transformers perplexity guide, summed exactly per token):

    ppl = exp( sum of token NLLs / number of scored tokens )

(every token but the first when stride < window; with stride == window each window's first token
goes unscored, as in that guide).

`stride == window` is the fast, disjoint-chunk estimate; a smaller stride gives each token more
context and a lower, truer perplexity at window/stride times the compute.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError, DatasetFormatError
from .journal import Journal, run_pending
from .target import EvalModel

JOIN = "\n\n"


class PplConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: int = Field(1024, ge=8, description="tokens the model sees at once")
    stride: int = Field(512, ge=1, description="tokens between window starts")
    format: str = "auto"
    max_documents: int | None = Field(None, ge=1)


def read_documents(path: Path, fmt: str = "auto", render=None, limit: int | None = None) -> list[str]:
    """Texts of a dataset file; conversations go through `render(messages)` (a chat template)."""
    from ..data.validate import iter_canonical

    docs: list[str] = []
    for _, rec in iter_canonical(path, fmt):
        if rec.kind == "text":
            docs.append(rec.text)
        else:
            messages = ([{"role": "system", "content": rec.system}] if rec.system else []) + [
                {"role": "assistant" if t.role == "assistant" else "user", "content": t.content}
                for t in rec.conversation()]
            docs.append(render(messages) if render else "\n".join(m["content"] for m in messages))
        if limit and len(docs) >= limit:
            break
    if not any(d.strip() for d in docs):
        raise DatasetFormatError(path, None, None, "holds no text to measure perplexity on (the file "
                                 "is empty or has only blank lines).",
                                 "Point --data at held-out text: one document per line in .txt, or "
                                 '{"text": ...} per line in .jsonl.')
    return docs


def windows(n_tokens: int, window: int, stride: int) -> list[tuple[int, int, int]]:
    """(begin, end, scored): tokens[begin:end] is fed; its last `scored` tokens are scored."""
    out, prev_end = [], 0
    for begin in range(0, n_tokens, stride):
        end = min(begin + window, n_tokens)
        # a window's first token has no context inside it, so it is never scored there
        scored = min(end - prev_end, end - begin - 1)
        if scored > 0:
            out.append((begin, end, scored))
        prev_end = end
        if end == n_tokens:
            break
    return out


def run_ppl(model: EvalModel, data: str | Path, config: PplConfig | None = None, *,
            threads: int | None = None, batch_tokens: int = 4096, progress=None,
            use_cache: bool = True) -> dict:
    from .scorer import Scorer

    config = config or PplConfig()
    if config.stride > config.window:
        raise ConfigError("--stride", f"{config.stride} is larger than --window {config.window}; "
                          "tokens between windows would never be scored.",
                          "Use a stride at most the window (e.g. half of it).")
    data = Path(data)
    if not data.is_file():
        raise DatasetFormatError(data, None, None, "no such file", "Check --data.")
    read_documents(data, config.format, None, config.max_documents)  # bad data fails before weights load
    settings = config.model_dump() | {"batch_tokens": batch_tokens}
    journal = Journal("ppl", model.fingerprint, data, settings, fresh=not use_cache)
    if use_cache and (cached := journal.result()):
        return cached | {"cached": True}
    started = time.perf_counter()
    scorer = Scorer(model, threads=threads, batch_tokens=max(batch_tokens, config.window))
    if config.window > scorer.max_length:
        raise ConfigError("--window", f"{config.window} tokens is more than the model's context "
                          f"({scorer.max_length}).", f"Use --window {scorer.max_length} or less.")
    render = _chat_renderer(scorer.tokenizer)
    docs = read_documents(data, config.format, render, config.max_documents)
    ids = scorer.encode(JOIN.join(docs))
    if len(ids) < 2:
        raise DatasetFormatError(data, None, None, f"has only {len(ids)} token(s); perplexity needs "
                                 "at least two.", "Use a longer held-out text.")
    spans = windows(len(ids), config.window, config.stride)

    def score(part):
        nll = scorer.window_nll([(ids[b:e], n) for _, (b, e, n) in part])
        return [{"nll": value, "n": n} for value, n in nll]

    run_pending(journal, list(enumerate(spans)), lambda item: str(item[0]), score,
                chunk=max(1, batch_tokens // config.window), progress=progress)
    total_nll = sum(journal.done[str(i)]["nll"] for i in range(len(spans)))
    total_n = sum(journal.done[str(i)]["n"] for i in range(len(spans)))
    result = {
        "task": "ppl", "model": model.label, "data": str(data),
        "settings": settings, "documents": len(docs), "tokens": len(ids), "scored_tokens": total_n,
        "windows": len(spans),
        "metrics": {"ppl": math.exp(total_nll / total_n), "nll_per_token": total_nll / total_n},
        "seconds": round(time.perf_counter() - started, 3), "resumed_items": journal.resumed,
    }
    return journal.finish(result) | {"cached": False}


def _chat_renderer(tokenizer):
    if not getattr(tokenizer, "chat_template", None):
        return None
    return lambda messages: tokenizer.apply_chat_template(messages, tokenize=False)
