"""Loop rate: how often the bundled model's answers fall into a loop, without and with the
repeat penalty (1.0, i.e. off, against llmp's default `DEFAULT_REPEAT_PENALTY`).

Twenty open prompts (poems, haiku, lists, stories; ten English, ten Chinese) on the bundled
SmolLM2-135M-Instruct through the llama.cpp engine (8 batch slots, so the answers run together),
greedy (and with `--sampled` also at the CLI's default temperature 0.7, seed 0). The loop rule is `loop_reason` below:
an answer loops when one line (5+ characters) appears 3+ times, or when one 8-gram of units
(words; each CJK character is a unit) appears 3+ times.

    python benchmarks/loops.py [--max-tokens 160] [--sampled] [--tiny]

`--tiny` runs four prompts, 48 tokens, and writes only where $LLMP_BENCH_DOC points.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import add_tiny_flag, begin, table, write_section  # noqa: E402

from llm_practice.chat.engine import DEFAULT_REPEAT_PENALTY, GenerationParams, load_engine  # noqa: E402
from llm_practice.models.bundled import BUNDLED_NAME  # noqa: E402
from llm_practice.models.registry import get_model  # noqa: E402

PROMPTS = [
    "Write a haiku about the sea.",
    "Write a short poem about autumn leaves.",
    "List ten fruits, one per line.",
    "Write a short story about a lighthouse keeper.",
    "Write a poem about the moon and the stars.",
    "List five tips for learning to cook.",
    "Write a haiku about a cat in the rain.",
    "Tell a bedtime story about a small dragon.",
    "Write a song about a long road home.",
    "List the days of the week and one thing to do on each.",
    "写一首关于春天的诗。",
    "写一首关于月亮的俳句。",
    "列出十种水果，每行一种。",
    "讲一个关于小猫的故事。",
    "写一首关于大海的短诗。",
    "列出五个学习英语的方法。",
    "写一个关于老渔夫的短故事。",
    "写一首关于秋天的诗。",
    "列出一周七天，每天做一件事。",
    "写一首关于家乡的歌。",
]
TINY = [PROMPTS[0], PROMPTS[2], PROMPTS[10], PROMPTS[13]]
NGRAM, REPEATS, MIN_LINE = 8, 3, 5
_UNIT = re.compile(r"[\u3400-\u9fff]|[^\s\u3400-\u9fff\u3000-\u303f\uff00-\uffef.,;:!?\"'()]+")


def loop_reason(text: str) -> str | None:
    """Why `text` counts as a loop (None when it does not): a repeated line or 8-gram."""
    lines = Counter(line.strip() for line in text.splitlines() if len(line.strip()) >= MIN_LINE)
    line, count = lines.most_common(1)[0] if lines else ("", 0)
    if count >= REPEATS:
        return f"line x{count}: {line[:40]!r}"
    units = [u.lower() for u in _UNIT.findall(text)]
    grams = Counter(tuple(units[i:i + NGRAM]) for i in range(len(units) - NGRAM + 1))
    gram, count = grams.most_common(1)[0] if grams else ((), 0)
    if count >= REPEATS:
        return f"{NGRAM}-gram x{count}: {' '.join(gram)[:40]!r}"
    return None


def run(engine, prompts: list[str], params: GenerationParams) -> list[str]:
    streams = [engine.chat([{"role": "user", "content": p}], params) for p in prompts]
    return [s.text() for s in streams]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--sampled", action="store_true", help="also run at temperature 0.7")
    add_tiny_flag(parser)
    args = parser.parse_args()
    begin({}, tiny=args.tiny)  # no peer: the same engine with the penalty off is the baseline
    prompts = TINY if args.tiny else PROMPTS
    max_tokens = 48 if args.tiny else args.max_tokens
    temperatures = [0.0, 0.7] if args.sampled and not args.tiny else [0.0]
    engine = load_engine(get_model(BUNDLED_NAME), slots=8, context=1024)
    rows, examples = [], []
    for temperature in temperatures:
        for penalty in (1.0, DEFAULT_REPEAT_PENALTY):
            params = GenerationParams(temperature=temperature, seed=0, max_tokens=max_tokens,
                                      repeat_penalty=penalty)
            started = time.perf_counter()
            answers = run(engine, prompts, params)
            seconds = time.perf_counter() - started
            reasons = [loop_reason(a) for a in answers]
            looped = [i for i, r in enumerate(reasons) if r]
            en = sum(1 for i in looped if not re.search(r"[\u3400-\u9fff]", prompts[i]))
            zh = len(looped) - en
            rows.append([temperature, penalty, f"{len(looped)}/{len(prompts)}", en, zh,
                         round(sum(len(a) for a in answers) / len(answers)), f"{seconds:.0f}"])
            examples += [[temperature, penalty, prompts[i], reasons[i]] for i in looped]
            print(f"temperature {temperature} repeat_penalty {penalty}: {len(looped)}/{len(prompts)} "
                  f"loop ({seconds:.0f} s)", flush=True)
            for i in looped:
                print(f"  {prompts[i]} -> {reasons[i]}")
    engine.close()
    body = (
        f"Loop rate of the bundled {BUNDLED_NAME} (llama.cpp engine) on twenty open prompts "
        f"(ten en, ten zh: poems, haiku, lists, stories), up to {max_tokens} tokens each, "
        f"repeat penalty off (1.0) against llmp's default ({DEFAULT_REPEAT_PENALTY}, last 64 tokens, "
        "llama.cpp's penalties sampler). A loop: one line of 5+ characters 3+ times, or one 8-gram "
        "of words (CJK: characters) 3+ times. Temperature 0.7 uses seed 0. Times are wall clock on "
        "2 CPU cores shared with other jobs, so they are noisy.\n\n"
        + table(["temperature", "repeat penalty", "answers that loop", "en", "zh", "mean chars", "seconds"],
                rows)
        + "\nLooping answers:\n\n"
        + table(["temperature", "repeat penalty", "prompt", "rule hit"], examples)
    )
    write_section("loops", body)


if __name__ == "__main__":
    main()
