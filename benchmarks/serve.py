"""Serving throughput: `llmp serve` against `python -m llama_cpp.server`, same GGUF, same load.

For 1, 4 and 8 concurrent streaming clients (each a different prompt, greedy, 128 new tokens):
time to first token, per-stream decode tokens/s, aggregate tokens/s, failed requests.
Target (issue 5): llmp aggregate at 8 streams >= 2x its single-stream figure and >= llama_cpp.server.

The scaling with `--parallel` depends strongly on the CPU (on an AMD EPYC with AVX-512 the
model's own Q4_1 weights barely scale while F16 does; on an Intel Xeon with an AVX2 build both
scale), so besides this machine's full table the script keeps one summary row per CPU in the
section "serve scaling by CPU".

    python benchmarks/serve.py [--tokens 128] [--rounds 2] [--tiny]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import add_tiny_flag, begin, short_label, table, write_per_machine, write_section  # noqa: E402

from llm_practice.models.registry import get_model  # noqa: E402

BIN = Path(sys.executable).parent
# llama-cpp-python's own server needs its `server` extra (pyproject.toml: the `bench` extra).
PEERS = {"python -m llama_cpp.server": ["llama_cpp", "fastapi", "uvicorn", "sse_starlette",
                                        "starlette_context", "pydantic_settings"],
         "the load generator": ["httpx"]}
LIBRARIES = ["fastapi", "uvicorn", "sse-starlette", "starlette-context", "pydantic-settings"]
TOPICS = ["a lighthouse keeper", "a dragon", "a robot chef", "a lost cat", "a space station",
          "a mountain village", "an old library", "a river boat"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], url: str, log: Path) -> subprocess.Popen:
    import httpx

    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"server did not start: {' '.join(cmd)}\n{log.read_text()[-2000:]}")


async def one_stream(client, url: str, topic: str, tokens: int) -> dict:
    body = {"model": "smollm2-135m-instruct", "stream": True, "temperature": 0,
            "max_tokens": tokens, "messages": [{"role": "user",
                                                "content": f"Write a long story about {topic}."}]}
    start = time.perf_counter()
    first = None
    n = 0
    async with client.stream("POST", url + "/v1/chat/completions", json=body) as r:
        if r.status_code != 200:
            return {"ok": False}
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            if data.get("choices") and data["choices"][0]["delta"].get("content"):
                n += 1
                first = first or time.perf_counter()
    end = time.perf_counter()
    if first is None:
        return {"ok": False}
    return {"ok": True, "ttft": first - start, "tokens": n,
            "decode": (n - 1) / (end - first) if n > 1 and end > first else 0.0}


async def load(url: str, streams: int, tokens: int) -> dict:
    import httpx

    async with httpx.AsyncClient(timeout=600) as client:
        start = time.perf_counter()
        results = await asyncio.gather(*[one_stream(client, url, TOPICS[i % len(TOPICS)], tokens)
                                         for i in range(streams)], return_exceptions=True)
        wall = time.perf_counter() - start
    ok = [r for r in results if isinstance(r, dict) and r.get("ok")]
    return {
        "failed": len(results) - len(ok),
        "ttft": statistics.median(r["ttft"] for r in ok) if ok else float("nan"),
        "per_stream": statistics.median(r["decode"] for r in ok) if ok else 0.0,
        "aggregate": sum(r["tokens"] for r in ok) / wall,
    }


PER_CPU = "serve scaling by CPU"
PER_CPU_INTRO = (
    "One row per CPU (and llama.cpp CPU variant) that `benchmarks/serve.py` ran on; the full "
    "tables are in the section \"serve\" for the latest machine. Aggregate tokens/s, bundled "
    "SmolLM2-135M-Instruct, greedy, 128 new tokens, streaming, `--parallel 8`; *x1* = aggregate "
    "at 8 streams over the same server's single stream. Pick `--serve-quant f16` where its "
    "8-stream figure beats the default's on a CPU like yours (README: \"Choosing the weights "
    "for serving\").")


def per_cpu_headers(top: int) -> list[str]:
    return ["CPU; llama.cpp variant", "date", "Q4_1 (default) 1 stream", f"Q4_1 {top} streams (x1)",
            "F16 1 stream", f"F16 {top} streams (x1)", f"llama_cpp.server {top} streams",
            f"faster at {top} streams"]


def servers(gguf: str, threads: str, parallel: int) -> dict[str, tuple[list[str], str]]:
    p1, p2, p3 = free_port(), free_port(), free_port()
    llmp = [str(BIN / "llmp"), "serve", "--no-ui", "--parallel", str(parallel)]
    return {
        "default": (f"llmp serve (batched llama.cpp, {parallel} slots)",
                    [*llmp, "--port", str(p1)], f"http://127.0.0.1:{p1}"),
        "f16": ("llmp serve --serve-quant f16", [*llmp, "--port", str(p3), "--serve-quant", "f16"],
                f"http://127.0.0.1:{p3}"),
        "peer": ("python -m llama_cpp.server",
                 [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--model_alias",
                  "smollm2-135m-instruct", "--port", str(p2), "--n_ctx", "2048", "--n_threads",
                  threads, "--n_threads_batch", threads, "--interrupt_requests", "False"],
                 f"http://127.0.0.1:{p2}"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    add_tiny_flag(ap)
    args = ap.parse_args()
    streams_list = (1, 2) if args.tiny else (1, 4, 8)
    if args.tiny:
        args.tokens, args.rounds = 8, 1
    begin(PEERS, tiny=args.tiny)
    gguf = str(get_model("smollm2-135m-instruct").path)
    threads = str(os.cpu_count())
    top = streams_list[-1]
    rows = []
    summary = {}
    with tempfile.TemporaryDirectory(prefix="llmp-bench-serve-") as logs:
        for key, (label, cmd, url) in servers(gguf, threads, top).items():
            proc = start(cmd, url, Path(logs) / f"{key}.log")
            try:
                asyncio.run(load(url, 1, 16))  # warm-up
                for streams in streams_list:
                    runs = [asyncio.run(load(url, streams, args.tokens)) for _ in range(args.rounds)]
                    agg = statistics.median(r["aggregate"] for r in runs)
                    failed = sum(r["failed"] for r in runs)
                    ttft = statistics.median(r["ttft"] for r in runs)
                    per = statistics.median(r["per_stream"] for r in runs)
                    summary[(key, streams)] = agg
                    rows.append([label, streams, f"{ttft * 1000:.0f}", f"{per:.1f}", f"{agg:.1f}",
                                 failed])
                    print(rows[-1], flush=True)
            finally:
                proc.terminate()
                proc.wait(30)
    scale = summary[("default", top)] / summary[("default", 1)]
    vs_peer = summary[("default", top)] / summary[("peer", top)]
    scale16 = summary[("f16", top)] / summary[("f16", 1)]
    vs_peer16 = summary[("f16", top)] / summary[("peer", top)]
    f16_vs_default = summary[("f16", top)] / summary[("default", top)]
    body = (
        f"Bundled SmolLM2-135M-Instruct Q4_1 GGUF, greedy, {args.tokens} new tokens per request, "
        f"streaming, {threads} threads, median of {args.rounds} rounds; each stream asks for a story "
        "on a different topic. llama_cpp.server runs with `--interrupt_requests False` so that it "
        "queues concurrent requests instead of cutting off the earlier streams (its default).\n\n"
        + table(["server", "concurrent streams", "median time to first token (ms)",
                 "median per-stream tokens/s", "aggregate tokens/s", "failed requests"], rows)
        + f"\nDefault (the model's own Q4_1 weights): aggregate at {top} streams / single stream "
        f"**{scale:.2f}x** (target >= 2x); / llama_cpp.server at {top} streams **{vs_peer:.2f}x** "
        f"(target >= 1x).\n\n`--serve-quant f16` (weights re-encoded once as F16): "
        f"**{scale16:.2f}x** its single stream; **{vs_peer16:.2f}x** llama_cpp.server and "
        f"**{f16_vs_default:.2f}x** the default at {top} streams; its single stream is "
        f"{summary[('f16', 1)] / summary[('default', 1)]:.2f}x the default's.\n"
    )
    write_section("serve", body, LIBRARIES)
    print(body)
    d, f = summary[("default", top)], summary[("f16", top)]
    write_per_machine(PER_CPU, PER_CPU_INTRO, per_cpu_headers(top), [
        short_label(), time.strftime("%Y-%m-%d"), f"{summary[('default', 1)]:.0f}",
        f"{d:.0f} ({scale:.2f}x)", f"{summary[('f16', 1)]:.0f}", f"{f:.0f} ({scale16:.2f}x)",
        f"{summary[('peer', top)]:.0f}", f"F16 ({f / d:.2f}x)" if f > d else f"Q4_1 ({d / f:.2f}x)"])
    failed = [r for r in rows if r[-1]]
    if failed:
        raise SystemExit(f"serve: requests failed (recorded in the table): {failed}")


if __name__ == "__main__":
    main()
