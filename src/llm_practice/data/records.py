"""The canonical record every dataset format converts to and from.

One shape covers all stages: a conversation (optional system prompt, turns with per-turn loss
weights and, for assistant turns, the reasoning kept apart from the answer) plus, for the last user
turn, optional `answers` (one for SFT-style completions with a KTO `label`, two or more ranked best
first for reward models and preference pairs, with optional `scores`). Plain text (`text`) is
post-pretraining data; a conversation that ends with a user turn and has no answers is a prompt for
RL. A `function_call` turn holds the calls as JSON text: one `{"name", "arguments"}` object or a
list of them (LLaMA-Factory's sharegpt convention), `"id"` kept when the source had one.

Plain dataclasses, not pydantic: validation streams millions of records and builds one per line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("user", "assistant", "function_call", "observation")


class FieldProblem(ValueError):
    """Raised by a format's `to_canonical`: which field is wrong, what is wrong, what to do."""

    def __init__(self, field: str, problem: str, hint: str = ""):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.hint = hint


class Unrepresentable(ValueError):
    """Raised by a format's `from_canonical` when the target cannot hold this kind of record."""


@dataclass(slots=True)
class Turn:
    role: str  # one of ROLES
    content: str
    weight: float = 1.0  # 0 drops an assistant turn from the loss
    reasoning: str | None = None  # an assistant turn's chain of thought, apart from its answer
    name: str | None = None  # a tool result: the tool's name (TRL)
    call_id: str | None = None  # a tool result: the id of the call it answers (OpenAI)


@dataclass(slots=True)
class Record:
    turns: list[Turn] = field(default_factory=list)
    system: str | None = None
    answers: list[str] | None = None  # for the last user turn: ranked best first
    scores: list[float] | None = None  # optional, one per answer, higher is better
    label: bool | None = None  # KTO: is the single answer desirable?
    text: str | None = None  # post-pretraining document
    tools: str | None = None  # sharegpt tool descriptions (JSON text)

    @property
    def kind(self) -> str:
        """text | prompt | conversation | ranked | unpaired"""
        if self.text is not None:
            return "text"
        if self.answers:
            if self.label is not None:
                return "unpaired"
            return "ranked" if len(self.answers) >= 2 else "conversation"
        if self.turns and self.turns[-1].role in ("user", "observation"):
            return "prompt"
        return "conversation"

    def conversation(self) -> list[Turn]:
        """The turns with a single answer folded in as the last assistant turn."""
        if self.answers and len(self.answers) == 1 and self.label is None:
            return [*self.turns, Turn("assistant", self.answers[0])]
        return list(self.turns)

    def prompt_turns(self) -> list[Turn]:
        """The turns before the answer(s) being judged or completed."""
        if self.answers:
            return list(self.turns)
        turns = list(self.turns)
        while turns and turns[-1].role in ("assistant", "function_call"):
            turns.pop()
        return turns

    def pieces(self) -> list[str]:
        """Every piece of text, for length statistics."""
        out = [self.text] if self.text is not None else []
        if self.system:
            out.append(self.system)
        out += [t.content for t in self.turns]
        out += [t.reasoning for t in self.turns if t.reasoning]
        out += self.answers or []
        return out


def ranked_pairs(answers: list[str], scores: list[float] | None, mode: str = "all"
                 ) -> tuple[list[tuple[str, str]], int]:
    """Turn a ranked list (best first) into (chosen, rejected) pairs.

    `mode="all"` gives every strictly-ordered pair; `"adjacent"` pairs each answer with the next
    one that ranks strictly lower. Answers with equal scores are never paired; the second value is
    how many pairs were skipped for a tie.
    """
    n = len(answers)
    rank = scores if scores is not None else [float(n - i) for i in range(n)]
    pairs: list[tuple[str, str]] = []
    ties = 0
    for i in range(n):
        for j in range(i + 1, n):
            if rank[i] == rank[j]:
                ties += 1
                continue
            hi, lo = (i, j) if rank[i] > rank[j] else (j, i)
            pairs.append((answers[hi], answers[lo]))
            if mode == "adjacent":
                break
    return pairs, ties
