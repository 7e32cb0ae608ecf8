"""Dataset records for each stage, read through `llmp data`'s readers, shaped the way TRL expects.

| stage | accepts (canonical kinds) | TRL gets |
|---|---|---|
| pt | text | `{"text"}` (language modeling) |
| sft | conversation, ranked (best answer) | `{"input_ids", "assistant_masks"}`: only answers with weight > 0 train |
| rm | ranked (2+ answers, any length) | `{"chosen", "rejected"}` conversational, every strictly ordered pair |
| dpo | ranked | `{"prompt", "chosen", "rejected"}` conversational, every pair |
| kto | unpaired, ranked | `{"prompt", "completion", "label"}`: chosen true, rejected false |
| grpo, rloo, ppo | prompt, text | `{"prompt"}` conversational, plus the record's extra string fields (e.g. `answer`) for reward functions |
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..errors import DatasetFormatError
from ..data.records import Record, Turn, ranked_pairs

ACCEPTS: dict[str, tuple[tuple[str, ...], str | None]] = {
    # stage -> (canonical kinds, the `llmp data` stage whose check matches, or None to check here)
    "pt": (("text",), "pt"),
    "sft": (("conversation", "ranked"), None),
    "rm": (("ranked",), "rm"),
    "dpo": (("ranked",), "dpo"),
    "kto": (("unpaired", "ranked"), "kto"),
    "grpo": (("prompt", "text"), "grpo"),
    "rloo": (("prompt", "text"), "grpo"),
    "ppo": (("prompt", "text"), "ppo"),
}
ROLE = {"user": "user", "assistant": "assistant", "function_call": "assistant", "observation": "user"}
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
          "+ '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
          "{% endif %}")


def resolve_data_path(data: str, recipe_source: str | None) -> Path:
    """The data path as written, else relative to the recipe file's folder."""
    path = Path(data).expanduser()
    if path.exists() or path.is_absolute() or not recipe_source:
        return path
    beside = Path(recipe_source).parent / path
    return beside if beside.exists() else path


def read_stage_records(path: Path, stage: str, fmt: str = "auto", limit: int | None = None
                       ) -> tuple[list[Record], list[dict], Counter]:
    """Every record (strict: the first bad one raises with its line), the raw extras, kinds seen."""
    from ..data.files import read_records
    from ..data.validate import iter_canonical

    if not path.is_file():
        raise DatasetFormatError(path, None, None, "no such file.",
                                 "Check the recipe's data: path (relative paths are read from the current "
                                 "folder, then beside the recipe).")
    kinds, data_stage = ACCEPTS[stage]
    records: list[Record] = []
    counts: Counter = Counter()
    lines: list[int] = []
    for line, rec in iter_canonical(path, fmt, data_stage):
        if rec.kind not in kinds:
            raise DatasetFormatError(path, line, "(record)",
                                     f"stage {stage} needs {' or '.join(kinds)} records; this one is {rec.kind}.",
                                     f"Run `llmp data validate {path}` to see each record's kind.")
        records.append(rec)
        lines.append(line)
        counts[rec.kind] += 1
        if limit and len(records) >= limit:
            break
    if not records:
        raise DatasetFormatError(path, None, None, "holds no records.", "Add at least one record.")
    extras: list[dict] = [{} for _ in records]
    if stage in ("grpo", "rloo", "ppo"):
        wanted = {ln: i for i, ln in enumerate(lines)}
        for line, obj in read_records(path):
            if line in wanted and isinstance(obj, dict):
                extras[wanted[line]] = {k: v for k, v in obj.items()
                                        if isinstance(v, str) and k not in ("prompt", "system", "text", "query")}
    return records, extras, counts


def messages(rec: Record, turns: list[Turn] | None = None) -> list[dict]:
    out = [{"role": "system", "content": rec.system}] if rec.system else []
    return out + [{"role": ROLE[t.role], "content": t.content} for t in (rec.turns if turns is None else turns)]


def ensure_chat_template(tokenizer) -> None:
    """Base models without a chat template train with ChatML, like TRL's own default."""
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHATML


def _ids(tokenizer, msgs: list[dict], generation_prompt: bool = False) -> list[int]:
    text = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=generation_prompt)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def sft_example(tokenizer, rec: Record, max_length: int) -> dict:
    """Tokens of the whole conversation and a mask that is 1 only on answers with weight > 0.

    Each assistant turn's tokens are the difference between the conversation rendered up to and
    including it and the one rendered up to its generation prompt, so the mask follows the model's
    own chat template (system prompt, role headers and user turns never train).
    """
    turns = rec.conversation() if rec.kind != "ranked" else [*rec.turns, Turn("assistant", rec.answers[0])]
    msgs = messages(rec, turns)
    offset = 1 if rec.system else 0
    ids = _ids(tokenizer, msgs)
    mask = [0] * len(ids)
    for i, turn in enumerate(turns):
        if ROLE[turn.role] != "assistant" or turn.weight <= 0:
            continue
        start = len(_ids(tokenizer, msgs[: offset + i], generation_prompt=True))
        end = len(_ids(tokenizer, msgs[: offset + i + 1]))
        for k in range(start, min(end, len(ids))):
            mask[k] = 1
    return {"input_ids": ids[:max_length], "assistant_masks": mask[:max_length]}


def _pairs(rec: Record, mode: str) -> list[tuple[str, str]]:
    return ranked_pairs(rec.answers or [], rec.scores, mode)[0]


def build_dataset(stage: str, records: list[Record], extras: list[dict], tokenizer=None,
                  max_length: int = 512, pairs: str = "all"):
    """A `datasets.Dataset` in the shape the stage's TRL trainer takes (see the table above)."""
    from datasets import Dataset

    rows: list[dict] = []
    for rec, extra in zip(records, extras):
        rows.extend(ROWS[stage](rec, extra, tokenizer, max_length, pairs))
    if not rows:
        raise DatasetFormatError("(data)", None, None, f"gives no {stage} training examples "
                                 "(ranked answers with equal scores are never paired).",
                                 "Give the answers different scores, or add records.")
    return Dataset.from_list(rows)


def _text_rows(rec, extra, tok, n, pairs):
    return [{"text": rec.text}]


def _sft_rows(rec, extra, tok, n, pairs):
    return [sft_example(tok, rec, n)]


def _rm_rows(rec, extra, tok, n, pairs):
    prompt = messages(rec)
    return [{"chosen": prompt + [{"role": "assistant", "content": c}],
             "rejected": prompt + [{"role": "assistant", "content": r}]} for c, r in _pairs(rec, pairs)]


def _dpo_rows(rec, extra, tok, n, pairs):
    prompt = messages(rec)
    return [{"prompt": prompt, "chosen": [{"role": "assistant", "content": c}],
             "rejected": [{"role": "assistant", "content": r}]} for c, r in _pairs(rec, pairs)]


def _kto_rows(rec, extra, tok, n, pairs):
    prompt = messages(rec)
    if rec.kind == "unpaired":
        return [{"prompt": prompt, "completion": [{"role": "assistant", "content": rec.answers[0]}],
                 "label": bool(rec.label)}]
    seen: set[tuple[str, bool]] = set()
    out = []
    for chosen, rejected in _pairs(rec, pairs):
        for text, label in ((chosen, True), (rejected, False)):
            if (text, label) not in seen:
                seen.add((text, label))
                out.append({"prompt": prompt, "completion": [{"role": "assistant", "content": text}],
                            "label": label})
    return out


def _prompt_rows(rec, extra, tok, n, pairs):
    if rec.kind == "text":
        prompt = [{"role": "user", "content": rec.text}]
    else:
        prompt = messages(rec, rec.prompt_turns())
    return [{"prompt": prompt, **extra}]


ROWS = {"pt": _text_rows, "sft": _sft_rows, "rm": _rm_rows, "dpo": _dpo_rows, "kto": _kto_rows,
        "grpo": _prompt_rows, "rloo": _prompt_rows, "ppo": _prompt_rows}
