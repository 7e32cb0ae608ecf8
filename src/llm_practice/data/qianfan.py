"""Baidu Qianfan formats: SFT and ranked (reward model) turns, and DPO/KTO.

One sample is a JSON array of turns. SFT: `[{"system","prompt","response"}, ...]`, where
`response` is a string or the older `[["answer"]]`, with optional `"weight": 0` to drop a turn's
answer from the loss; at most 150 turns. Ranked: the last turn has two or more answers, best first,
`"response": [["best"], ["second"]]`, optional `"score": [1, 0]` (higher is better).
DPO: `[{"system","user","chosen","rejected"}]`; KTO keeps only one of `chosen` / `rejected`
(`chosen` = desirable). Writing KTO never invents a label: a conversation without one is refused.
"""

from __future__ import annotations

from .fields import (Note, alternating, assistant_turn, need_kind, note_losses, text_field,
                     type_name, weight_field)
from .openai import pair_list
from .records import FieldProblem, Record, Turn, Unrepresentable

SFT_KEYS = frozenset({"system", "prompt", "response", "weight", "score"})
DPO_KEYS = frozenset({"system", "user", "assistant", "chosen", "rejected"})

MAX_TURNS = 150
RESPONSE_HINT = ('response is a string, or a list of [answer] lists: "response": [["best"], '
                 '["second"]] (two or more only in the last turn of ranked data).')


def detect_sft(obj) -> bool:
    return isinstance(obj, list) and bool(obj) and isinstance(obj[0], dict) and "prompt" in obj[0]


def detect_dpo(obj) -> bool:
    return (isinstance(obj, list) and bool(obj) and isinstance(obj[-1], dict)
            and "user" in obj[-1] and ("chosen" in obj[-1] or "rejected" in obj[-1]))


def _turns(obj, where="") -> list:
    if not isinstance(obj, list) or not obj:
        raise FieldProblem(where or "(record)", f"must be a non-empty JSON array of turns, got "
                           f"{type_name(obj)}", 'A Qianfan sample is [{"prompt": ..., "response": ...}].')
    if len(obj) > MAX_TURNS:
        raise FieldProblem("(record)", f"has {len(obj)} turns; Qianfan allows at most {MAX_TURNS}",
                           "Split the conversation into shorter samples.")
    for i, turn in enumerate(obj):
        if not isinstance(turn, dict):
            raise FieldProblem(f"[{i}]", f"must be an object, got {type_name(turn)}",
                               'Each turn looks like {"prompt": "...", "response": "..."}.')
        if i and "system" in turn:
            raise FieldProblem(f"[{i}].system", "may only appear in the first turn",
                               "Move the system prompt to the first turn.")
    return obj


def _answers(turn: dict, where: str) -> list[str]:
    value = turn.get("response")
    if value is None:
        raise FieldProblem(where, "is missing", RESPONSE_HINT)
    if isinstance(value, str):
        value = [[value]]
    if not isinstance(value, list) or not value:
        raise FieldProblem(where, f"must be a string or a list of [answer] lists, got "
                           f"{type_name(value)}", RESPONSE_HINT)
    out = []
    for j, item in enumerate(value):
        if isinstance(item, str):
            item = [item]
        if not (isinstance(item, list) and len(item) == 1 and isinstance(item[0], str)):
            raise FieldProblem(f"{where}[{j}]", f"must be a one-string list like [\"answer\"], got "
                               f"{type_name(item)}", RESPONSE_HINT)
        if not item[0].strip():
            raise FieldProblem(f"{where}[{j}]", "is an empty answer",
                               "Write the answer, or drop the sample.")
        out.append(item[0])
    return out


def to_canonical_sft(obj) -> Record:
    turns = _turns(obj)
    rec = Record(system=text_field(turns[0], "system", "[0].system", required=False))
    last = len(turns) - 1
    for i, turn in enumerate(turns):
        rec.turns.append(Turn("user", text_field(turn, "prompt", f"[{i}].prompt")))
        answers = _answers(turn, f"[{i}].response")
        if i < last:
            if turn.get("score") is not None:
                raise FieldProblem(f"[{i}].score", "is only read on the last turn",
                                   "Scores rank the answers of the last turn; remove it here.")
            if len(answers) != 1:
                raise FieldProblem(f"[{i}].response", f"has {len(answers)} answers; only the last "
                                   "turn may have ranked answers", RESPONSE_HINT)
            rec.turns.append(assistant_turn(answers[0], weight_field(turn, f"[{i}].weight")))
            continue
        score = turn.get("score")
        if score is not None:
            if not (isinstance(score, list) and len(score) == len(answers) and all(
                    isinstance(s, (int, float)) and not isinstance(s, bool) for s in score)):
                raise FieldProblem(f"[{i}].score", f"must be a list of {len(answers)} numbers (one "
                                   f"per answer), got {score!r}", "Higher scores are better, e.g. [2, 1, 0].")
            rec.scores = [float(s) for s in score]
        if len(answers) == 1:
            if score is not None:
                raise FieldProblem(f"[{i}].score", "scores one answer", "A score ranks two or "
                                   "more answers of the last turn; remove it here.")
            rec.turns.append(assistant_turn(answers[0], weight_field(turn, f"[{i}].weight")))
        else:
            if turn.get("weight") not in (None, 1):
                raise FieldProblem(f"[{i}].weight", "is not read for ranked answers",
                                   "A weight drops one answer from the SFT loss; ranked answers "
                                   "are all compared. Remove it.")
            rec.answers = answers
    return rec


def from_canonical_sft(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("conversation", "ranked"), "qianfan")
    note_losses(rec, note, "qianfan", weights=True, scores=True)
    turns = rec.turns if rec.kind == "ranked" else rec.conversation()
    if rec.kind == "ranked":
        turns = turns + [Turn("assistant", "")]
    pieces = alternating(turns, "qianfan")
    if not pieces:
        raise Unrepresentable("a qianfan sample needs at least one prompt and response")
    out = []
    for (prompt, response), answer_turn in zip(pieces, turns[1::2]):
        item = {"prompt": prompt, "response": [[response]]}
        if answer_turn.weight != 1:
            item["weight"] = answer_turn.weight
        out.append(item)
    if rec.system:
        out[0] = {"system": rec.system, **out[0]}
    if rec.kind == "ranked":
        out[-1]["response"] = [[a] for a in rec.answers]
        if rec.scores is not None:
            out[-1]["score"] = rec.scores
    return [out]


def to_canonical_dpo(obj) -> Record:
    turns = _turns(obj)
    rec = Record(system=text_field(turns[0], "system", "[0].system", required=False))
    for i, turn in enumerate(turns[:-1]):
        rec.turns.append(Turn("user", text_field(turn, "user", f"[{i}].user")))
        rec.turns.append(assistant_turn(text_field(turn, "assistant", f"[{i}].assistant")))
    i, last = len(turns) - 1, turns[-1]
    rec.turns.append(Turn("user", text_field(last, "user", f"[{i}].user")))
    hint = "DPO needs both chosen and rejected; KTO keeps exactly one of them."
    chosen = text_field(last, "chosen", f"[{i}].chosen", hint, required=False)
    rejected = text_field(last, "rejected", f"[{i}].rejected", hint, required=False)
    if chosen is None and rejected is None:
        raise FieldProblem(f"[{i}].chosen", "is missing (and so is rejected)", hint)
    if chosen is not None and rejected is not None:
        rec.answers = [chosen, rejected]
    else:
        rec.answers, rec.label = [chosen or rejected], chosen is not None
    return rec


def _dpo_head(rec: Record) -> list:
    pieces = alternating(rec.turns[:-1], "qianfan-dpo")
    head = [{"user": u, "assistant": a} for u, a in pieces]
    if not rec.turns or rec.turns[-1].role != "user":
        raise Unrepresentable("qianfan-dpo needs a conversation that ends with the user")
    head.append({"user": rec.turns[-1].content})
    if rec.system:
        head[0] = {"system": rec.system, **head[0]}
    return head


def from_canonical_dpo(rec: Record, note: Note, pairs: str) -> list:
    need_kind(rec, ("ranked",), "qianfan-dpo")
    note_losses(rec, note, "qianfan-dpo")
    out = []
    for chosen, rejected in pair_list(rec, note, pairs):
        head = _dpo_head(rec)
        head[-1].update(chosen=chosen, rejected=rejected)
        out.append(head)
    return out


def from_canonical_kto(rec: Record, note: Note, pairs: str) -> list:
    if rec.kind == "conversation":
        raise Unrepresentable("conversations have no KTO label, and a conversion never invents one "
                              "(add label true|false to each record first)")
    need_kind(rec, ("ranked", "unpaired"), "qianfan-kto")
    note_losses(rec, note, "qianfan-kto")
    if rec.kind == "ranked":
        note("ranked answers written as separately labelled ones, best true and the rest false "
             "(the pairing is lost)")
    labelled = ([(rec.answers[0], rec.label)] if rec.kind == "unpaired"
                else [(a, i == 0) for i, a in enumerate(rec.answers)])
    out = []
    for answer, good in labelled:
        head = _dpo_head(rec)
        head[-1]["chosen" if good else "rejected"] = answer
        out.append(head)
    return out
