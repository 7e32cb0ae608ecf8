"""Benchmark `llmp download` against `hf download` on the local test hub (127.0.0.1).

Repository: 1 file of 500 MB + 20 files of 5 MB (random bytes). Measures, in the same run:
1. throughput of a full download (each tool `--rounds` times, alternating, best and median kept);
2. bytes re-fetched after `kill -9` at 50 % of the 500 MB file and a rerun of the same command
   (the hub counts every body byte it sends).

Run: `.venv/bin/python benchmarks/download.py [--big-mb 500] [--rounds 2] [--tiny]`; writes its
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import add_tiny_flag, begin, table, write_section  # noqa: E402
from tests.hubserver import LocalHub  # noqa: E402

BIN = Path(sys.executable).parent
REPO = "bench/mixed"
BIG = "model-00001.safetensors"
PEERS = {"hf download": ["huggingface_hub", "bin:hf"]}
LIBRARIES = ["huggingface_hub", "requests"]


def env_for(hub: LocalHub, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}
    return env | {"HF_ENDPOINT": hub.url, "HF_HOME": str(work / "hf-home"), "LLMP_HOME": str(work / "llmp-home"),
                  "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def commands(tool: str, dest: Path, files: tuple[str, ...] = ()) -> list[str]:
    if tool == "llmp":
        return [str(BIN / "llmp"), "download", REPO, *files, "--local-dir", str(dest), "-q"]
    return [str(BIN / "hf"), "download", REPO, *files, "--local-dir", str(dest)]


def timed_download(tool: str, hub: LocalHub, work: Path) -> float:
    dest = work / f"{tool}-full"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.rmtree(work / "hf-home", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(commands(tool, dest), env=env_for(hub, work), check=True, capture_output=True)
    seconds = time.perf_counter() - start
    shutil.rmtree(dest, ignore_errors=True)
    return seconds


def partial_size(tool: str, dest: Path) -> int:
    """Bytes of the big file on disk while it downloads (each tool keeps them in its own place)."""
    pattern = f".llmp-partial/{BIG}.part" if tool == "llmp" else ".cache/huggingface/download/**/*.incomplete"
    return sum(p.stat().st_size for p in dest.glob(pattern) if p.is_file())


def refetch_after_kill(tool: str, hub: LocalHub, work: Path, size: int) -> tuple[int, int, int]:
    """Kill -9 at 50 % of the big file, rerun; return (bytes on disk after the kill,
    bytes lost in flight at the kill, bytes on disk that the rerun fetched again)."""
    dest = work / f"{tool}-kill"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.rmtree(work / "hf-home", ignore_errors=True)
    hub.served.clear()
    env = env_for(hub, work)
    proc = subprocess.Popen(commands(tool, dest, (BIG,)), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        try:
            if partial_size(tool, dest) >= size // 2:
                proc.send_signal(signal.SIGKILL)
                break
        except OSError:
            pass
        time.sleep(0.005)
    proc.wait()
    time.sleep(0.2)  # let the hub notice the closed socket
    on_disk = partial_size(tool, dest)
    in_flight = hub.served_bytes(REPO, BIG) - on_disk  # sent, but in socket buffers or memory
    hub.served.clear()
    subprocess.run(commands(tool, dest, (BIG,)), env=env, check=True, capture_output=True)
    assert (dest / BIG).stat().st_size == size
    refetched = hub.served_bytes(REPO, BIG) - (size - on_disk)  # bytes already on disk, sent again
    shutil.rmtree(dest, ignore_errors=True)
    return on_disk, in_flight, refetched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=int, default=500)
    parser.add_argument("--small-mb", type=int, default=5)
    parser.add_argument("--small-count", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="Print only; do not touch docs/benchmarks.md.")
    add_tiny_flag(parser)
    args = parser.parse_args()
    if args.tiny:
        args.big_mb, args.small_mb, args.small_count, args.rounds = 8, 1, 2, 1
    begin(PEERS, tiny=args.tiny)

    mb = 10**6
    with tempfile.TemporaryDirectory(prefix="llmp-bench-dl-") as tmp:
        work = Path(tmp)
        files: dict[str, int] = {BIG: args.big_mb * mb}
        files |= {f"shard-{i:02d}.bin": args.small_mb * mb for i in range(args.small_count)}
        with LocalHub(work / "hub") as hub:
            hub.add_repo(REPO, files)
            total = sum(files.values())
            times: dict[str, list[float]] = {"llmp": [], "hf": []}
            for _ in range(args.rounds):
                for tool in ("hf", "llmp"):
                    times[tool].append(timed_download(tool, hub, work))
            kills = {tool: refetch_after_kill(tool, hub, work, files[BIG]) for tool in ("hf", "llmp")}

    def mbps(seconds: float) -> float:
        return total / mb / seconds

    rows = []
    for tool, label in (("llmp", "llmp download"), ("hf", "hf download")):
        best, median = min(times[tool]), statistics.median(times[tool])
        on_disk, in_flight, refetched = kills[tool]
        rows.append([label, f"{best:.2f}", f"{mbps(best):.0f}", f"{mbps(median):.0f}",
                     f"{on_disk / mb:.1f}", f"{in_flight / mb:.1f}", f"{refetched / mb:.1f}"])
    ratio = min(times["hf"]) / min(times["llmp"])
    body = (
        f"Local test hub on 127.0.0.1 (`tests/hubserver.py`), repository of 1 x {args.big_mb} MB + "
        f"{args.small_count} x {args.small_mb} MB ({total / mb:.0f} MB), {args.rounds} rounds per tool, "
        "alternating; both tools with their default 8 workers. Then `kill -9` at 50 % of the "
        f"{args.big_mb} MB file and a rerun of the same command: *on disk* = partial bytes the kill left, "
        "*in flight* = bytes the hub had sent that never reached the disk (socket buffers, memory; "
        "lost to any client), *re-fetched* = bytes already on disk that the rerun downloaded again.\n\n"
        + table(["tool", "best s", "best MB/s", "median MB/s", "on disk after kill MB", "in flight MB",
                 "re-fetched MB"], rows)
        + f"\nThroughput llmp / hf (best runs): **{ratio:.2f}x** (target >= 1.0x). "
        f"Re-fetch target: <= one 1 MiB read block per interrupted file.\n"
    )
    print(body)
    if not args.no_write:
        write_section("download", body, LIBRARIES)


if __name__ == "__main__":
    main()
