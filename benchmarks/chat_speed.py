"""Chat speed: llmp's default engine against raw llama-cpp-python and raw transformers `generate`.

Same model (the bundled SmolLM2-135M-Instruct GGUF), same prompt, greedy decoding, same thread
count, in one run. Also times `llmp chat --once` as a user runs it: process start to full answer.
Targets (issue 2): llmp decode >= 0.9x raw llama.cpp; `llmp chat --once` <= 3 s.

    python benchmarks/chat_speed.py [--tokens 128] [--repeats 3] [--tiny]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import add_tiny_flag, begin, table, write_section  # noqa: E402

from llm_practice.chat.engine import GenerationParams, default_threads, load_engine  # noqa: E402
from llm_practice.models.registry import get_model  # noqa: E402

PEERS = {"raw llama-cpp-python": ["llama_cpp"], "raw transformers": ["transformers", "torch"]}
LIBRARIES = ["transformers", "torch"]
PROMPT = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]


def timed(deltas) -> tuple[float, float, int]:
    """Return (time to first token, decode tokens/s after the first, chunks) for an iterator."""
    start = time.perf_counter()
    first = None
    n = 0
    for _ in deltas:
        n += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    decode = (n - 1) / (end - first) if n > 1 else 0.0
    return first - start, decode, n


def raw_llamacpp(path: Path, tokens: int, threads: int):
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                verbose=False)

    def run():
        chunks = llm.create_chat_completion(messages=PROMPT, temperature=0, max_tokens=tokens,
                                            stream=True)
        return (c for c in chunks if c["choices"][0]["delta"].get("content"))

    return run


def llmp_engine(tokens: int, threads: int, engine: str):
    runner = load_engine(get_model("smollm2-135m-instruct"), engine, threads=threads)
    params = GenerationParams(temperature=0, max_tokens=tokens)
    return lambda: runner.chat(PROMPT, params)


def raw_transformers(folder: Path, tokens: int, threads: int):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, TextIteratorStreamer

    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()

    def run():
        inputs = tok.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt",
                                         return_dict=True)
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
        thread = threading.Thread(target=lambda: model.generate(
            **inputs, max_new_tokens=tokens, do_sample=False, streamer=streamer,
            eos_token_id=tok.convert_tokens_to_ids("<|im_end|>")))
        thread.start()
        yield from (d for d in streamer if d)
        thread.join()

    return run


def once_wall(repeats: int) -> float:
    llmp = Path(sys.executable).parent / "llmp"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(llmp), "chat", "--once", "Tell me the name of the capital of France.",
                        "--temperature", "0"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def help_wall(repeats: int) -> float:
    llmp = Path(sys.executable).parent / "llmp"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(llmp), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    add_tiny_flag(ap)
    args = ap.parse_args()
    if args.tiny:
        args.tokens, args.repeats = 8, 1
    begin(PEERS, tiny=args.tiny)
    threads = default_threads()
    model = get_model("smollm2-135m-instruct")
    from llm_practice.chat.hf import dequantized_folder

    runners = {
        "raw llama-cpp-python": raw_llamacpp(model.path, args.tokens, threads),
        "llmp (default engine: llama.cpp)": llmp_engine(args.tokens, threads, None),
        "raw transformers generate (fp32)":
            raw_transformers(dequantized_folder(model.path), args.tokens, threads),
        "llmp --engine transformers": llmp_engine(args.tokens, threads, "transformers"),
    }
    for run in runners.values():
        timed(run())  # warm-up
    # Interleave the runners round by round so background load hits them alike; report medians.
    samples: dict[str, list] = {label: [] for label in runners}
    for _ in range(args.repeats):
        for label, run in runners.items():
            samples[label].append(timed(run()))
    rows = []
    measured = {}
    for label, results in samples.items():
        ttft = statistics.median(r[0] for r in results)
        decode = statistics.median(r[1] for r in results)
        measured[label] = decode
        rows.append([label, f"{ttft * 1000:.0f}", f"{decode:.1f}", results[0][2]])
        print(rows[-1], flush=True)
    ratio = measured["llmp (default engine: llama.cpp)"] / measured["raw llama-cpp-python"]
    wall = once_wall(args.repeats)
    help_n = max(1 if args.tiny else 5, args.repeats)
    help_s = help_wall(help_n)
    body = (
        f"Model: bundled SmolLM2-135M-Instruct Q4_1 GGUF; prompt: \"{PROMPT[0]['content']}\"; greedy; "
        f"up to {args.tokens} tokens; {threads} threads; median of {args.repeats} interleaved rounds after a warm-up.\n\n"
        + table(["runner", "time to first token (ms)", "decode tokens/s", "tokens"], rows)
        + f"\nllmp default engine / raw llama.cpp decode speed: **{ratio:.2f}x** (target >= 0.9x).\n\n"
        f"`llmp chat --once \"Tell me the name of the capital of France.\"`, process start to full answer, "
        f"median of {args.repeats}: **{wall:.2f} s** (target <= 3 s).\n\n"
        f"`llmp --help` (imports no torch, transformers or llama.cpp), median of {help_n}: "
        f"**{help_s * 1000:.0f} ms**.\n"
    )
    write_section("chat_speed", body, LIBRARIES)
    print(body)


if __name__ == "__main__":
    os.environ.setdefault("LLMP_LANG", "en")
    main()
