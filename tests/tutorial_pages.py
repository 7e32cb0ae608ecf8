"""Read the tutorial's runnable commands out of its Markdown pages (docs/tutorial/{zh,en}/*.md).

A runnable step is a fenced block whose info string is ``bash run`` (optionally ``bash run exit=N``
for a command that is meant to fail with code N). The output the page shows follows in a
``text`` block, and the *substance* that must still hold is written next to it as one or more
HTML comments, invisible on the rendered page::

    ```bash run
    llmp chat --once "Tell me the name of the capital of France." --temperature 0
    ```
    ```text
    The capital of France is Paris.
    ```
    <!-- expect: Paris -->

Each ``expect`` is a regular expression (Python, multi-line) that must match both the shown
output (so the page stays true to itself) and the real output of the command. Timings, paths
and machine-dependent numbers are never in an ``expect``.

``bash run shared`` marks a long step (training, evaluation, export) that is the same command on
the zh and the en page and prints English only: the test session runs it once and both pages
check their markers against that output (tests/shared_commands.py). Blocks marked ``bash coming`` show a
command of a feature that has not landed yet; they are not run. Any other ``bash`` block is an
illustration that needs something CI does not have (a network, a GPU) and says so on the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
EXPECT = re.compile(r"<!--\s*expect:\s*(.*?)\s*-->")


@dataclass
class Step:
    page: str
    line: int
    command: str
    exit_code: int = 0
    shared: bool = False
    shown: str = ""
    expects: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages(lang: str) -> list[Path]:
    return sorted((TUTORIAL / lang).glob("[0-9][0-9]-*.md"))


def steps(page: Path) -> list[Step]:
    text = page.read_text(encoding="utf-8")
    blocks = list(FENCE.finditer(text))
    found: list[Step] = []
    for i, block in enumerate(blocks):
        info = block.group(1).split()
        if info[:2] != ["bash", "run"]:
            continue
        exit_code = next((int(w[5:]) for w in info[2:] if w.startswith("exit=")), 0)
        step = Step(page=str(page.relative_to(ROOT)), line=text.count("\n", 0, block.start()) + 1,
                    command=block.group(2).strip(), exit_code=exit_code, shared="shared" in info[2:])
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        end = nxt.start() if nxt else len(text)
        if nxt and nxt.group(1).strip() == "text" and not text[block.end():nxt.start()].strip():
            step.shown = nxt.group(2)
            following = blocks[i + 2].start() if i + 2 < len(blocks) else len(text)
            end = following
        step.expects = EXPECT.findall(text[block.end():end])
        found.append(step)
    return found


def missing(expects: list[str], output: str) -> list[str]:
    """The expectations that the output does not meet."""
    return [e for e in expects if not re.search(e, output, re.M)]
