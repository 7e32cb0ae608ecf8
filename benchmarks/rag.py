"""Knowledge-base benchmark: our pipeline vs the plain LangChain pipeline, on real man pages.

Corpora (installed offline from Debian packages, written by their authors, not by us):
- zh: `manpages-zh` (Chinese man pages), en: `manpages` (Linux man pages, sections 4, 5 and 7),
  rendered to text with `man -l | col -bx`. The pages that the questions are about plus pages
  drawn at random (seed 0) up to --docs per language; each page cut to its first --max-chars
  characters (the NAME/SYNOPSIS/DESCRIPTION part the questions are about) to fit a 2-core run.
- Questions: benchmarks/rag_questions/{zh,en}.jsonl, written for this benchmark (paraphrases,
  not copied sentences); a hit is a result from the right page.

Pipelines, each in its own process (peak RSS is that process's VmHWM):
- ours: `llmp kb` (structure-aware zh splitter, multilingual-e5-small, LanceDB, jieba BM25, RRF).
- plain: RecursiveCharacterTextSplitter(1000, 200) + all-MiniLM-L6-v2 (sentence-transformers) + FAISS, top 5.
Reported: document hit@5, MRR, ingestion chunks/s and files/s, peak RSS, and p95 retrieval latency
(query embedding included) after growing each index to --scale chunks by replicating the corpus.

    apt-get install manpages-zh manpages man-db
    pip install 'llm-practice[rag,bench]'
    python benchmarks/rag.py --docs 40 --max-chars 6000 --scale 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = {"zh": ["/usr/share/man/zh_CN/man1", "/usr/share/man/zh_CN/man5", "/usr/share/man/zh_CN/man8"],
           "en": ["/usr/share/man/man4", "/usr/share/man/man5", "/usr/share/man/man7"]}


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def questions(lang: str) -> list[dict]:
    return [json.loads(line) for line in (HERE / "rag_questions" / f"{lang}.jsonl").read_text().splitlines() if line]


def english_pages() -> set[str]:
    out = subprocess.run(["dpkg", "-L", "manpages"], capture_output=True, text=True).stdout.split()
    return {p for p in out if p.endswith(".gz") and "/man/man" in p}


def prepare_corpus(lang: str, docs: int, max_chars: int, folder: Path) -> Path:
    folder = folder / lang
    if folder.is_dir() and len(list(folder.glob("*.txt"))) >= docs:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    allowed = english_pages() if lang == "en" else None
    pages = {}
    for source in SOURCES[lang]:
        for path in sorted(Path(source).glob("*.gz")):
            if path.is_symlink() or (allowed is not None and str(path) not in allowed):
                continue
            pages[path.name[:-3] + ".txt"] = path
    wanted = [s for q in questions(lang) for s in q["sources"]]
    rest = sorted(set(pages) - set(wanted))
    random.Random(0).shuffle(rest)
    chosen = wanted + rest
    written = 0
    for name in chosen:
        if written >= docs:
            break
        try:
            text = subprocess.run(f"man -l '{pages[name]}' 2>/dev/null | col -bx", shell=True, capture_output=True,
                                  timeout=20, env={**os.environ, "MANWIDTH": "100", "LANG": "C.UTF-8"}).stdout
        except subprocess.TimeoutExpired:
            continue
        text = text.decode("utf-8", "replace").strip()
        if len(text) < 200 or text.startswith("."):  # empty or a `.so` redirect
            continue
        (folder / name).write_text(text[:max_chars], encoding="utf-8")
        written += 1
    return folder


def hits(ranked_files: list[list[str]], items: list[dict]) -> tuple[float, float]:
    hit = mrr = 0.0
    for files, item in zip(ranked_files, items):
        for rank, f in enumerate(files, 1):
            if any(f.endswith(s) for s in item["sources"]):
                hit += 1
                mrr += 1 / rank
                break
    return hit / len(items), mrr / len(items)


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def run_ours(corpus: Path, lang: str, scale: int) -> dict:
    import numpy as np

    from llm_practice.rag.kb import KnowledgeBase, create_kb

    name = f"bench-{lang}"
    kb = create_kb(name)
    start = time.perf_counter()
    report = kb.add([str(corpus)])
    seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    items = questions(lang)
    ranked = [[r.metadata["file"] for r in kb.search(q["question"], k=5)] for q in items]
    hit, mrr = hits(ranked, items)
    # grow to `scale` chunks: the corpus rows again with jittered vectors, then time hybrid search
    rows = kb.store.rows(("id", "doc_id", "source", "type", "heading", "page", "start", "end", "text"))
    vectors = kb.store._table.to_arrow().column("vector").to_numpy(zero_copy_only=False)
    vectors = np.stack(vectors)
    rng = np.random.default_rng(0)
    copies, extra, n = [], [], len(rows)
    for i in range(scale - n):
        row = dict(rows[i % n])
        row["id"] = f"{row['id']}~{i}"
        v = vectors[i % n] + rng.normal(0, 0.02, vectors.shape[1]).astype(np.float32)
        row["vector"] = v / np.linalg.norm(v)
        copies.append(row)
    for s in range(0, len(copies), 20000):
        kb.store.add(copies[s:s + 20000])
    if hasattr(kb.store, "optimize"):
        kb.store.optimize()
    # the BM25 index over all rows; copies reuse their original's jieba tokens (same text)
    from llm_practice.rag.lexical import build_lexical_index

    tokens = {r["id"]: r["tokens"] for r in kb.lexical().rows}
    grown = [{k: v for k, v in r.items() if k != "vector"} for r in rows + copies]
    for r in grown:
        r["tokens"] = list(tokens[r["id"].split("~")[0]])
    build_lexical_index(kb.folder / "lexical", grown)
    kb = KnowledgeBase(name)
    latencies = []
    for _ in range(3):
        for q in items:
            t = time.perf_counter()
            kb.search(q["question"], k=5)
            latencies.append((time.perf_counter() - t) * 1000)
    return {"hit@5": hit, "mrr": mrr, "files": len(report.added), "chunks": report.chunks, "seconds": seconds,
            "chunks_per_s": report.chunks / seconds, "peak_rss_mib": peak, "scaled_chunks": kb.store.count(),
            "p95_ms": p95(latencies[len(items):])}


def run_plain(corpus: Path, lang: str, scale: int) -> dict:
    import faiss
    import numpy as np
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from sentence_transformers import SentenceTransformer

    from llm_practice.embeddings.minilm import minilm_path

    start = time.perf_counter()
    model = SentenceTransformer(str(minilm_path()), device="cpu")
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts, files = [], []
    for path in sorted(corpus.glob("*.txt")):
        for chunk in splitter.split_text(path.read_text(encoding="utf-8")):
            texts.append(chunk)
            files.append(path.name)
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors.astype(np.float32))
    seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    items = questions(lang)
    query_vectors = model.encode([q["question"] for q in items], normalize_embeddings=True)
    _, ids = index.search(query_vectors.astype(np.float32), 5)
    hit, mrr = hits([[files[i] for i in row] for row in ids], items)
    rng = np.random.default_rng(0)
    grown = np.concatenate([vectors] * (scale // len(vectors) + 1))[:scale]
    grown = grown + rng.normal(0, 0.02, grown.shape).astype(np.float32)
    grown /= np.linalg.norm(grown, axis=1, keepdims=True)
    big = faiss.IndexFlatIP(grown.shape[1])
    big.add(grown.astype(np.float32))
    latencies = []
    for _ in range(3):
        for q in items:
            t = time.perf_counter()
            big.search(model.encode([q["question"]], normalize_embeddings=True).astype(np.float32), 5)
            latencies.append((time.perf_counter() - t) * 1000)
    return {"hit@5": hit, "mrr": mrr, "files": len(set(files)), "chunks": len(texts), "seconds": seconds,
            "chunks_per_s": len(texts) / seconds, "peak_rss_mib": peak, "scaled_chunks": big.ntotal,
            "p95_ms": p95(latencies[len(items):])}


WORKERS = {"ours": run_ours, "plain": run_plain}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--max-chars", type=int, default=6000)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--langs", default="zh,en")
    parser.add_argument("--corpus", default=str(HERE / ".rag-corpus"))
    parser.add_argument("--only", help="run just these LANG:PIPELINE pairs, e.g. zh:ours,en:plain")
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--lang")
    args = parser.parse_args()
    if args.worker:  # one pipeline in this process
        result = WORKERS[args.worker](Path(args.corpus) / args.lang, args.lang, args.scale)
        print("RESULT " + json.dumps(result))
        return
    import tempfile

    rows = []
    for lang in args.langs.split(","):
        corpus = prepare_corpus(lang, args.docs, args.max_chars, Path(args.corpus))
        for worker in ("plain", "ours"):
            if args.only and f"{lang}:{worker}" not in args.only.split(","):
                continue
            with tempfile.TemporaryDirectory() as home:
                env = {**os.environ, "LLMP_HOME": home}
                out = subprocess.run([sys.executable, __file__, "--worker", worker, "--lang", lang, "--scale",
                                      str(args.scale), "--corpus", args.corpus], env=env, capture_output=True,
                                     text=True)
                line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
                if line is None:
                    sys.exit(f"{worker}/{lang} failed:\n{out.stderr[-3000:]}")
                result = json.loads(line[7:])
                rows.append((lang, worker, result))
                print(lang, worker, result, file=sys.stderr, flush=True)
    print("| corpus | pipeline | docs | chunks | hit@5 | MRR | ingest chunks/s | ingest s | peak RSS MiB "
          f"| p95 search ms at {args.scale:,} chunks |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    names = {"ours": "llmp kb (e5 + BM25/jieba, LanceDB)", "plain": "LangChain plain (1000/200, MiniLM, FAISS)"}
    for lang, worker, r in rows:
        print(f"| {lang} | {names[worker]} | {r['files']} | {r['chunks']} | {r['hit@5']:.2f} | {r['mrr']:.2f} | "
              f"{r['chunks_per_s']:.1f} | {r['seconds']:.0f} | {r['peak_rss_mib']:.0f} | {r['p95_ms']:.1f} |")


if __name__ == "__main__":
    main()
