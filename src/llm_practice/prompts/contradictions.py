"""The linter's contradiction check: demands on the same answer that cannot both hold.

An error (fails `--strict`) only when the two demands are surely about the same answer: in one
sentence, or joined in one phrase ("brief and detailed", "简短而详细"); otherwise ("be concise but
thorough", a detailed report, then a one-line verdict, a limit on the title only) advice or nothing.
"""

from __future__ import annotations

import re
from typing import Callable

from . import cues
from .formula import parse_number
from .task import tight_length

P = cues.compile_all()


def check_contradictions(doc, report, add: Callable) -> None:
    # An error only when the two demands are surely about the same answer: in one sentence, or joined
    # in one phrase ("brief and detailed", "简短而详细"); otherwise ("be concise but thorough", a detailed
    # report, then a one-line verdict) a judgment call: advice.
    role_sentences = [s for s in _sentences(doc.instructions) if P["ROLE"][doc.lang].search(doc.instructions[s[0]:s[1]])]
    breadth = [m for m in P["BREADTH"][doc.lang].finditer(doc.instructions)
               if not doc.negated(m.start()) and not any(s <= m.start() < e for s, e in role_sentences)]
    tight = tight_length(doc.instructions, doc.lang)
    if breadth and tight:
        # sure: a strong demand ("面面俱到", "in great detail") and the limit in one sentence
        near = [m for m in breadth if _same_sentence(doc, m, tight)
                and P["STRONG_BREADTH"][doc.lang].match(doc.instructions, m.start())]
        first, second = sorted([(near or breadth)[0], tight], key=lambda m: m.start())
        add(doc, report, "contradiction", doc.span(*second.span()), severity="error" if near else "advice",
             name="breadth vs a tight length" if doc.lang == "en" else "要求全面详细 vs 长度极短",
             a=first.group(0), b=second.group(0))
    for name, cue_a, cue_b in cues.CONTRADICTIONS[doc.lang]:
        a = [m for m in re.finditer(cue_a, doc.instructions, re.I) if not doc.negated(m.start())]
        b = breadth if cue_b is None else [m for m in re.finditer(cue_b, doc.instructions, re.I)
                                           if not doc.negated(m.start())]
        if a and b:
            joined = [(x, y) for x in a for y in b if _joined(doc, x, y)]
            first, second = sorted(joined[0] if joined else (a[0], b[0]), key=lambda m: m.start())
            add(doc, report, "contradiction", doc.span(*second.span()), name=name,
                 severity="error" if joined else "advice", a=first.group(0), b=second.group(0))
    limits_max = [(parse_number(m.group(2)), m.group(3).rstrip("s"), m) for m in doc.find("LIMIT_MAX", False)]
    limits_min = [(parse_number(m.group(2)), m.group(3).rstrip("s"), m) for m in doc.find("LIMIT_MIN", False)]
    for high, unit, m_high in limits_max:
        for low, unit_low, m_low in limits_min:
            if unit == unit_low and low > high and not (_per_item(doc, m_high) or _per_item(doc, m_low)):
                second = max(m_high, m_low, key=lambda m: m.start())
                sure = _same_sentence(doc, m_high, m_low)
                add(doc, report, "contradiction", doc.span(*second.span()), severity="error" if sure else "advice",
                     name="length" if doc.lang == "en" else "长度",
                     a=m_high.group(0), b=m_low.group(0))


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds = [0, *(m.end() for m in re.finditer(r"[。！？\n]|[.!?](?=\s)", text)), len(text)]
    return list(zip(bounds, bounds[1:]))


def _same_sentence(doc, a: re.Match, b: re.Match) -> bool:
    """In one sentence, and not two parts of the answer ("one sentence, then a detailed paragraph")."""
    lo, hi = sorted([a.start(), b.start()])
    between = doc.instructions[lo:hi]
    return not (re.search(r"[。！？\n]|[.!?](?=\s)", between) or re.search(cues.NEXT_PART[doc.lang], between, re.I))


def _joined(doc, a: re.Match, b: re.Match) -> bool:
    """Two demands in one phrase: 'brief and detailed', '简短而详细', 'short, detailed'."""
    first, second = sorted([a, b], key=lambda m: m.start())
    gap = doc.instructions[first.end():second.start()]
    return bool(re.fullmatch(r"(?i)\s*(,|/|&|and|而|又|且|和|并且?|、|，)?\s*(very |highly |非常|很|又|也)?\s*(地)?\s*", gap))


def _per_item(doc, m: re.Match) -> bool:
    """A limit on one part or item ("标题不超过20字", "at most 30 words each"), not on the whole answer."""
    return bool(re.search(cues.PART_LIMIT[doc.lang], doc.instructions[max(0, m.start() - 16):m.start()], re.I)
                or re.match(r"(?i)\s*(each|apiece|per\b)", doc.instructions[m.end():]))  # "at most 30 words each"
