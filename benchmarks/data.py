"""Benchmark `llmp data`: validation speed and memory, near-duplicate detection vs datasketch.

1. Validation: generate Qianfan SFT JSONL files of growing size, validate each in a fresh process,
   report MB/s and the process's peak RSS. The target is a peak independent of file size.
2. Near-dedup: the same documents (with planted near-duplicates) through our MinHash LSH and
   through datasketch used directly (MinHash, 128 permutations, MinHashLSH at the same threshold,
   same 5-character shingles), single process, same run; plus our full prepare-pt pipeline on all
   cores. Target: docs/s >= 1x datasketch.

    python benchmarks/data.py            # 20 MB and 200 MB files, 4000 documents
    python benchmarks/data.py --big      # adds a 1 GB file
    python benchmarks/data.py --tiny     # 1 MB file, 200 documents: checks the script works
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import add_tiny_flag, begin, table, write_section  # noqa: E402

THRESHOLD = 0.8
PEERS = {"datasketch": ["datasketch"]}
LIBRARIES = ["datasketch", "numpy"]


def make_jsonl(path: Path, size_mb: int) -> None:
    rng = random.Random(0)
    words = [w for w in "the of and to in is you that it he was for on are as with his they at be this "
             "have from or one had by word but not what all were we when your can said there use an each "
             "which she do how their if will up other about out many then them these so some her would "
             "make like him into time has look two more write go see number no way could people my than "
             "first water been call who oil its now find long down day did get come made may part".split()]
    target = size_mb * 1_000_000
    written = 0
    with path.open("w", encoding="utf-8") as f:
        while written < target:
            sample = [{"prompt": " ".join(rng.choices(words, k=rng.randint(5, 30))),
                       "response": " ".join(rng.choices(words, k=rng.randint(20, 120)))}
                      for _ in range(rng.randint(1, 3))]
            line = json.dumps(sample) + "\n"
            f.write(line)
            written += len(line)


def validate_in_child(path: Path) -> tuple[float, float, int]:
    """-> (seconds, peak RSS MiB, records), measured in a fresh process."""
    code = ("import sys, time, resource\n"
            "from llm_practice.data.validate import validate_dataset\n"
            "t = time.perf_counter(); r = validate_dataset(sys.argv[1], stage='sft')\n"
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, r.records, "
            "r.problem_count)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    seconds, rss_kb, records, problems = out.stdout.split()
    assert problems == "0", problems
    return float(seconds), int(rss_kb) / 1024, int(records)


def make_docs(n: int, seed: int = 1) -> tuple[list[str], set[int]]:
    """n documents (~800 characters, English and Chinese); every 10th is a near-duplicate."""
    rng = random.Random(seed)
    en = "harbour mountain festival river museum railway tower island otter bread kelp crown charter".split()
    zh = list("青岚漓溪云脊灯河星渡岚茶雪蓝花桂米糍码头博物馆地铁学院山泉古城石桥夜市渔船")
    docs, planted = [], set()
    for i in range(n):
        if i % 10 == 9:
            base = list(docs[rng.randrange(len(docs))])
            for _ in range(3):
                at = rng.randrange(len(base))
                base[at] = "x"
            docs.append("".join(base))
            planted.add(i)
        elif i % 2:
            docs.append(" ".join(f"{rng.choice(en)}{rng.randint(0, 99)}" for _ in range(110)))
        else:
            docs.append("".join(rng.choice(zh) for _ in range(700)))
    return docs, planted


def dedup_ours(docs: list[str]) -> set[int]:
    from llm_practice.data.minhash import LSHIndex, MinHasher

    hasher, index = MinHasher(128, 5), LSHIndex(THRESHOLD, 128)
    return {i for i, d in enumerate(docs) if index.find_or_add(hasher.signature(d)) is not None}


def dedup_datasketch(docs: list[str]) -> set[int]:
    import re

    from datasketch import MinHash, MinHashLSH

    space = re.compile(r"\s+")
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
    found = set()
    for i, d in enumerate(docs):
        text = space.sub(" ", d.lower()).strip()
        m = MinHash(num_perm=128)
        m.update_batch([text[j:j + 5].encode("utf-8") for j in range(max(1, len(text) - 4))])
        if lsh.query(m):
            found.add(i)
        else:
            lsh.insert(i, m)
    return found


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def _map_only(run, paths: list[Path]) -> int:
    """Drain an executor's map results (no deduplication, no writing) -> documents mapped."""
    return sum(len(batch) for batch in run(paths))


def executors(n_docs: int, files: int = 8) -> None:
    """prepare-pt with the local executor and with Ray tasks, 1 and 2 workers, on the same input.

    Measured apart: the whole pipeline (docs/s, into a folder of JSONL shards); the map step alone
    (the executor's results drained, nothing deduplicated or written), which is the part workers
    share; the driver's part alone (a run whose map results are all stored in its work folder:
    loading them, global deduplication, writing the shards), which no added worker speeds up; and
    Ray's start-up. The projection per added worker follows from these two measured rates."""
    import ray

    from llm_practice.data.documents import Boilerplate
    from llm_practice.data.executors import local_executor, ray_executor
    from llm_practice.data.prepare import PrepareConfig, prepare_pretraining

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # local instances that live for this run only
    docs, _ = make_docs(n_docs)
    rows, kept, rate = [], set(), {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(files):
            path = Path(tmp) / f"part{i}.jsonl"
            path.write_text("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n"
                                    for d in docs[i::files]), encoding="utf-8")
            paths.append(path)
        for executor, workers in (("local", 1), ("local", 2), ("ray", 1), ("ray", 2)):
            t = time.perf_counter()
            if executor == "ray":
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            start_up = time.perf_counter() - t if executor == "ray" else 0.0
            config = PrepareConfig(workers=workers, executor=executor, shard_size=1000)
            make = {"local": lambda: local_executor(config, Boilerplate(), workers),
                    "ray": lambda: ray_executor(config, Boilerplate(), workers, None)}[executor]
            with make() as run:
                _map_only(run, paths[:1])  # warm-up: workers started, llm_practice imported
                t_map, mapped = timed(_map_only, run, paths)
            out = Path(tmp) / f"{executor}{workers}"
            seconds, report = timed(prepare_pretraining, paths, out, config)
            if executor == "ray":
                ray.shutdown()
            kept.add(tuple(s["sha256"] for s in json.loads((out / "manifest.json").read_text())["shards"]))
            rate[executor, workers] = (len(docs) / seconds, mapped / t_map)
            rows.append([executor, workers, f"{len(docs) / seconds:,.0f}", f"{seconds:.1f}",
                         f"{mapped / t_map:,.0f}", f"{start_up:.1f}" if executor == "ray" else "-",
                         report.kept_domain])
            print(rows[-1], flush=True)
        work = Path(tmp) / "work"
        config = PrepareConfig(workers=1, work_dir=work, shard_size=1000)
        prepare_pretraining(paths, Path(tmp) / "stored", config)
        t_driver, report = timed(prepare_pretraining, paths, Path(tmp) / "driver", config)
        assert report.files_reused == files, report
    driver_rate = len(docs) / t_driver
    per_worker = rate["ray", 1][1]
    load = os.getloadavg()[0]
    projection = table(["Ray workers", "map step (docs/s)", "whole run, at most (docs/s)"],
                       [[n, f"{n * per_worker:,.0f}", f"{min(n * per_worker, driver_rate):,.0f}"]
                        for n in (1, 2, 4, 8, 16)])
    local_map, ray_map = rate["local", 1][1], rate["ray", 1][1]
    write_section("data_executors", (
        f"`llmp data prepare-pt` on {len(docs):,} documents (~750 characters, zh and en, one in ten "
        f"a planted near-duplicate) in {files} JSONL files, into a folder of JSONL shards; Ray "
        "started locally on this machine (start-up timed apart); run with nothing else benchmarking, "
        f"load average {load:.1f} on {os.cpu_count()} cores when it ended. Shards byte-identical "
        f"across the four runs: {len(kept) == 1}.\n\n"
        + table(["executor", "workers", "whole run docs/s", "seconds", "map step alone docs/s",
                 "Ray start (s)", "kept"], rows)
        + f"\nThe driver's part alone (all map results stored in `--work-dir`: loading them, global "
        f"exact and MinHash deduplication, writing the shards): {t_driver:.1f} s, "
        f"{driver_rate:,.0f} docs/s, one process whatever the executor.\n\n"
        f"Ray's overhead, measured: {rows[2][5]} and {rows[3][5]} s to start a local instance. "
        + (f"The map step on one Ray worker ran at {ray_map:,.0f} docs/s against {local_map:,.0f} in "
           "the driver process, so a task's own cost (scheduling, moving its results through Ray's "
           "object store to the driver) is below this machine's noise; the same function also "
           "timed faster inside a Ray worker process than in the driver when measured by hand, "
           "cause not established. "
           if ray_map >= local_map else
           f"The map step on one Ray worker ran at {ray_map:,.0f} docs/s against {local_map:,.0f} in "
           f"the driver process ({1 - ray_map / local_map:.0%} slower: scheduling, moving results "
           "through Ray's object store to the driver, and noise). ")
        + "On this 2-core machine a second worker shares the cores with the driver and other "
        "people's jobs, so the 2-worker rows measure contention, not scaling.\n\n"
        f"Projection per added worker (not measured beyond 2 workers): each Ray worker on a core "
        f"of its own cleans about {per_worker:,.0f} docs/s (the 1-worker map rate above), as long "
        "as it reads the input from storage as fast as here; the driver deduplicates and writes "
        f"{driver_rate:,.0f} docs/s at most, and the two overlap (the driver consumes results as "
        "tasks finish), so a run goes at most at the smaller of the two:\n\n" + projection
        + "\nPast the driver's rate added workers buy nothing: a bigger cluster then needs the "
        "deduplication itself distributed (not done: it is global and exact in one process).\n"),
        [*LIBRARIES, "ray"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", action="store_true", help="also validate a 1 GB file")
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--executors", action="store_true",
                        help="only compare prepare-pt's local and Ray executors")
    add_tiny_flag(parser)
    args = parser.parse_args()
    if args.tiny:
        args.docs = 200
    if args.executors:
        begin({"Ray": ["ray"]}, tiny=args.tiny)
        executors(args.docs)
        return
    sizes = [1] if args.tiny else [20, 200] + ([1000] if args.big else [])
    begin(PEERS, tiny=args.tiny)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"sft_{size}mb.jsonl"
            make_jsonl(path, size)
            mb = path.stat().st_size / 1e6
            seconds, rss, records = validate_in_child(path)
            rows.append([f"{mb:,.0f} MB", f"{records:,}", f"{seconds:.1f}", f"{mb / seconds:.1f}", f"{rss:.0f}"])
            print(rows[-1], flush=True)
            path.unlink()
    validation = table(["file", "records", "seconds", "MB/s", "peak RSS (MiB)"], rows)

    docs, planted = make_docs(args.docs)
    t_ours, found_ours = timed(dedup_ours, docs)
    t_ds, found_ds = timed(dedup_datasketch, docs)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "docs.jsonl"
        src.write_text("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
        from llm_practice.data.prepare import PrepareConfig, prepare_pretraining

        workers = os.cpu_count() or 1
        t_pipe, report = timed(prepare_pretraining, [src], Path(tmp) / "out.jsonl",
                               PrepareConfig(workers=workers, pii=False))
    n = len(docs)

    def recall(found: set[int]) -> str:
        return f"{len(found & planted)}/{len(planted)} planted, {len(found - planted)} others"

    dedup = table(
        ["method", "docs/s", "vs datasketch", "near-duplicates found"],
        [["datasketch MinHash + MinHashLSH (1 process)", f"{n / t_ds:,.0f}", "1.0x", recall(found_ds)],
         ["llmp MinHash + LSH (1 process)", f"{n / t_ours:,.0f}", f"{t_ds / t_ours:.1f}x", recall(found_ours)],
         [f"llmp prepare-pt, whole pipeline ({workers} workers)", f"{n / t_pipe:,.0f}", f"{t_ds / t_pipe:.1f}x",
          f"{report.removed.get('near_duplicate', 0)} near + {report.removed.get('exact_duplicate', 0)} exact"]])
    print(dedup)
    write_section("data", (
        "### Validation (`llmp data validate --stage sft`, Qianfan SFT JSONL, fresh process each)\n\n"
        + validation
        + "\nPeak memory stays flat as the file grows: the file is streamed line by line.\n\n"
        f"### Near-duplicate detection ({n:,} documents of ~700-800 characters, zh and en, "
        f"threshold {THRESHOLD}, 128 slots, 5-character shingles)\n\n" + dedup
        + "\nllmp uses one-permutation MinHash with densification, vectorised in numpy; datasketch "
        "hashes every shingle with SHA-1 and applies 128 permutations. The pipeline row includes "
        "normalisation, filters, language identification and writing the output.\n"), LIBRARIES)


if __name__ == "__main__":
    main()
