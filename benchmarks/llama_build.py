"""Decode speed of the portable llama.cpp build (all CPU variants) against a native build.

`make install` builds llama-cpp-python with every CPU variant as a loadable backend and no
`-march=native` (issue 10: a native build crashed on a VM that advertised AMX but refused it).
This measures what that costs: raw llama-cpp-python decoding the bundled model, greedy, same
prompt and threads, once with the variant `make smoke` chose, once forced to the AVX2 baseline
(`haswell`), and once with a native build (`-DGGML_NATIVE=ON`) installed into a side folder.

    python benchmarks/llama_build.py [--tokens 128] [--repeats 3] [--native-wheel PATH] [--tiny]

Without a native wheel (default place: ~/.cache/llm-practice/wheels/native/) it says how to
build one and measures the variants only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import add_tiny_flag, begin, table, write_section  # noqa: E402

from llm_practice.chat import cpu_backend  # noqa: E402
from llm_practice.models.bundled import bundled_gguf_path  # noqa: E402

NATIVE_DIR = Path.home() / ".cache/llm-practice/wheels/native"
CHILD = r"""
import json, sys, time
from llama_cpp import Llama
path, tokens, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = Llama(model_path=path, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
msgs = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]
llm.create_chat_completion(messages=msgs, temperature=0, max_tokens=8)  # warm up
first = None; n = 0
for c in llm.create_chat_completion(messages=msgs, temperature=0, max_tokens=tokens, stream=True):
    if c["choices"][0]["delta"].get("content"):
        n += 1
        if first is None:
            first = time.perf_counter()
end = time.perf_counter()
print(json.dumps({"tps": (n - 1) / (end - first)}))
"""


def decode_speed(env: dict, tokens: int, threads: int, repeats: int) -> float:
    model = str(bundled_gguf_path())
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", CHILD, model, str(tokens), str(threads)],
                             capture_output=True, text=True, env=env, timeout=600, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1])["tps"])
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--native-wheel", type=Path)
    add_tiny_flag(ap)
    args = ap.parse_args()
    if args.tiny:
        args.tokens, args.repeats = 8, 1
    begin({"llama-cpp-python": ["llama_cpp"]}, tiny=args.tiny)
    base = {k: v for k, v in os.environ.items() if k != "GGML_BACKEND_PATH"}
    rows = []
    ranked = {v.name: v for v in cpu_backend.ranked_variants()}
    chosen = cpu_backend.chosen_variant()
    if chosen is None or not ranked:
        sys.exit("llama-cpp-python has no CPU variants here: install it with `make install` first")
    configs = [(f"portable build, variant `{chosen['name']}` (chosen by make smoke)", chosen["path"])]
    if "haswell" in ranked and chosen["name"] != "haswell":
        configs.append(("portable build, variant `haswell` (AVX2 baseline)", ranked["haswell"].path))
    results = {}
    for label, path in configs:
        env = {**base, "GGML_BACKEND_PATH": path}
        results[label] = decode_speed(env, args.tokens, args.threads, args.repeats)
    wheel = args.native_wheel or next(iter(sorted(NATIVE_DIR.glob("llama_cpp_python-*.whl"))), None)
    if wheel is None:
        print("No native wheel: build one with\n  CMAKE_ARGS='-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF' "
              f"pip wheel --no-cache-dir --no-deps -w {NATIVE_DIR} llama-cpp-python==0.3.36")
    else:
        with tempfile.TemporaryDirectory() as side:
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                            side, str(wheel)], check=True)
            env = {**base, "PYTHONPATH": side}
            results["native build (`-DGGML_NATIVE=ON`, this CPU only)"] = decode_speed(
                env, args.tokens, args.threads, args.repeats)
    ref = next(iter(results.values()))
    for label, tps in results.items():
        rows.append([label, f"{tps:.1f}", f"{tps / ref:.2f}x"])
        print(f"{label}: {tps:.1f} tok/s")
    body = (f"Raw llama-cpp-python 0.3.36 decoding the bundled SmolLM2-135M Q4_1 GGUF, greedy, "
            f"{args.tokens} tokens, {args.threads} threads, median of {args.repeats} runs, "
            f"one process per run. CPU: {cpu_backend.cpu_model()} "
            f"({' '.join(f for f in cpu_backend.cpu_flags() if 'avx512' in f or 'amx' in f) or 'no AVX-512'}).\n\n"
            + table(["build", "decode tok/s", "vs chosen"], rows))
    write_section("llama_build", body)


if __name__ == "__main__":
    main()
