"""What a prompt asks for, read before any tip is applied: its actions, its constraints, its kind.

    profile = read_task(instructions, full_text, "zh")
    profile.actions      # the task verbs outside negated, conditional and output-format clauses
    profile.kind         # "label" | "json" | "transform" | "extract" | "simulate" | "open"
    profile.template     # the prompt shows the literal output (a JSON skeleton, table columns)
    profile.steps_given  # numbered, "first ... then ...", "先……再……", "步骤：a → b → c"

A tip applies only to some kinds of task: a one-label classification or a JSON template fixes the
output's length, a translation takes its length from the source, an extraction into a given template
lists what the input holds, and a literal template (or a spelled-out label set) needs no
example. The linter asks this module first and marks such tips `n/a`, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import cues

# A clause ends at sentence punctuation, a semicolon, a comma or a line break.
CLAUSE_END = {"en": r"[.!?](?=\s|$)|[;:,\n]", "zh": r"[。！？；;，,：:\n]"}


@dataclass
class TaskProfile:
    actions: list[str] = field(default_factory=list)
    kind: str = "open"
    template: bool = False
    steps_given: bool = False
    sequenced: bool = False  # "then" / "然后" in a clause that holds an action


def clauses(text: str, lang: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of `text`."""
    spans, start = [], 0
    for m in re.finditer(CLAUSE_END[lang], text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def _clause_at(spans: list[tuple[int, int]], at: int) -> tuple[int, int]:
    return next(((s, e) for s, e in spans if s <= at <= e), (at, at))


def constraint_clause(text: str, lang: str) -> bool:
    """A clause that limits the answer rather than asking for an action: negated, conditional or
    about the output's form ("不要输出任何解释", "if unsure, say so", "直接输出改写结果")."""
    return bool(re.search(cues.CONSTRAINT_CLAUSE[lang], text, re.I))


def read_task(instructions: str, prose: str, text: str, lang: str) -> TaskProfile:
    """Profile the task. `instructions`: the prompt with inserted text, examples and quotes blanked
    out; `prose`: the same with short quotes kept (labels are often quoted)."""
    spans = clauses(instructions, lang)
    actions, sequenced = [], False
    for m in re.finditer(cues.VERBS[lang], instructions, re.I | re.M):
        start, end = _clause_at(spans, m.start())
        before = instructions[start:m.start()]
        if constraint_clause(before, lang) or not_a_verb(before, lang):
            continue
        actions.append(m.group(0).lower())
        closing = re.fullmatch(cues.APPENDING[lang], m.group(0), re.I) and actions[:-1]
        sequenced = sequenced or bool(not closing and re.search(cues.SEQUENCE[lang], instructions[start:end], re.I))
    actions = list(dict.fromkeys(actions))
    steps_given = _steps_given(instructions, lang)
    template = _gives_template(instructions, text, lang)
    return TaskProfile(actions, _kind(prose, actions, template, lang), template, steps_given,
                       sequenced or steps_given)


def not_a_verb(before: str, lang: str) -> bool:
    """'the summary', 'is correct': a task word used as a noun or an adjective."""
    return lang == "en" and bool(re.search(r"\b(the|a|an|is|are|be|been|was|were|already|not|its|their|your)\s+$",
                                           before, re.I))


def _kind(instructions: str, actions: list[str], template: bool, lang: str) -> str:
    if re.search(cues.SINGLE_LABEL[lang], instructions, re.I):
        return "label"
    labelling = bool(re.search(cues.LABEL_VERBS[lang], instructions, re.I))
    if labelling and re.search(cues.OUTPUT_SPEC[lang], instructions, re.I | re.M):
        return "label"  # "classify it as positive, negative or neutral"
    if re.search(cues.SIMULATED[lang], instructions, re.I):
        return "simulate"
    if template and re.search(r"(?i)json", instructions) or re.search(cues.ONLY_JSON[lang], instructions, re.I):
        return "json"
    if actions and all(re.fullmatch(cues.TRANSFORM_VERBS[lang], a, re.I) for a in actions):
        return "transform"
    if re.search(cues.REVISED_SOURCE[lang], instructions, re.I):
        return "transform"  # "output the corrected full text"
    if actions and template and all(re.fullmatch(cues.EXTRACT_VERBS[lang], a, re.I) for a in actions):
        return "extract"  # "extract every date and amount as CSV with the header date,amount"
    return "open"


def _gives_template(instructions: str, text: str, lang: str) -> bool:
    """The literal output is shown: a JSON skeleton with keys, table columns, or a format block."""
    return bool(re.search(r'\{\s*"[^"\n]+"\s*:', text)
                or re.search(cues.TABLE_COLUMNS[lang], instructions, re.I | re.M)
                or re.search(r"(?m)^\s*\|[^|\n]+\|[^|\n]+\|", text)
                or re.search(cues.FORMAT_BLOCK[lang], text, re.I))


def _steps_given(instructions: str, lang: str) -> bool:
    """Steps written out: numbered lines or inline markers, ordinal words, a connective sequence
    ("first ..., then ..., finally ...", "先……再……"), or a "Steps:" label followed by a list."""
    if len(re.findall(cues.STEPS[lang], instructions, re.I | re.M)) >= 2:
        return True
    if len(re.findall(cues.INLINE_STEPS[lang], instructions, re.I)) >= 2:
        return True
    if re.search(cues.CONNECTIVE_STEPS[lang], instructions, re.I | re.S):
        return True
    if all(re.search(p, instructions, re.I) for p in cues.PROSE_STEPS[lang]):
        return True
    label = re.search(cues.STEPS_LABEL[lang], instructions, re.I)
    return bool(label and re.search(r"→|->|=>|[;；、,，]|\n\s*[-*•]", instructions[label.end():]))


def tight_length(instructions: str, lang: str) -> re.Match | None:
    """A length limit too small for a breadth demand ("不超过20个字", "under 20 words", "一句话")."""
    from .formula import parse_number

    for m in re.finditer(cues.LIMIT_MAX[lang], instructions, re.I):
        if (re.search(cues.PART_LIMIT[lang], instructions[max(0, m.start() - 16):m.start()], re.I)
                or re.match(r"(?i)\s*(each|apiece|per\b)", instructions[m.end():])):
            continue  # "每条不超过20字", "a title under 10 words": a limit on one part, not on the answer
        unit = m.group(3).lower().rstrip("s").removeprefix("个")
        limit = cues.TIGHT_LIMIT[lang].get(unit)
        if limit is not None and parse_number(m.group(2)) <= limit:
            return m
    for m in re.finditer(cues.TIGHT_PHRASE[lang], instructions, re.I):
        start = max([0, *(b.end() for b in re.finditer(r"[。！？；;，,\n]|[.!?](?=\s)", instructions[:m.start()]))])
        if not re.search(cues.PART_MARK[lang], instructions[start:m.start()], re.I):
            return m  # not "finally, one sentence ...", "每条用一句话": one part of the answer
    return None
