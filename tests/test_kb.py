"""Knowledge bases end to end with the real e5 embedder: incremental adds, crash safety, the lock,
search JSON, filters, bad input, and the LangChain retriever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from llm_practice.rag.kb import KnowledgeBase, create_kb

from .conftest import BIN, run_llmp
from .rag_samples import write_samples


@pytest.fixture
def samples(tmp_path):
    return write_samples(tmp_path / "docs")


def _store_docs(kb: KnowledgeBase) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in kb.store.rows():
        counts[row["doc_id"]] = counts.get(row["doc_id"], 0) + 1
    return counts


def test_add_is_incremental_and_a_changed_file_replaces_its_chunks(samples, tmp_path):
    kb = create_kb("docs")
    first = kb.add([str(samples["guide.md"].parent)])
    assert len(first.added) == len(samples) and not first.failed
    again = kb.add([str(samples["guide.md"].parent)])
    assert again.added == [] and len(again.unchanged) == len(samples) and again.chunks == 0
    samples["notes.txt"].write_text("The maintenance window moved to Saturday 22:00 UTC.", encoding="utf-8")
    changed = kb.add([str(samples["notes.txt"])])
    assert changed.replaced == [str(samples["notes.txt"])]
    live = {e.doc_id: e.chunks for e in kb.files()}
    assert _store_docs(kb) == live  # the old version's rows are gone
    top = kb.search("When is the maintenance window?", k=1)[0]
    assert "Saturday" in top.text and top.source.endswith("notes.txt")


def test_search_json_shape_filters_and_citations_of_pages_and_headings(samples):
    create_kb("docs").add([str(samples["guide.md"].parent)])
    result = run_llmp("kb", "search", "docs", "端口在哪里设置？", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    top = data["results"][0]
    assert top["source"] == f"{samples['guide.md']}#安装指南 > 配置" and "8080" in top["text"]
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert {"file", "type", "heading", "page"} <= set(top)
    pdf = json.loads(run_llmp("kb", "search", "docs", "lamp blinks fuse", "--filter", "type=pdf", "--json").stdout)
    assert [r["type"] for r in pdf["results"]] == ["pdf"] * len(pdf["results"])
    assert pdf["results"][0]["source"].endswith("manual.pdf#page=2")


def test_bad_input_gets_clear_messages_and_keeps_what_is_stored(samples, tmp_path):
    assert run_llmp("kb", "create", "docs").returncode == 0
    assert run_llmp("kb", "add", "docs", str(samples["guide.md"])).returncode == 0
    unknown = run_llmp("kb", "search", "nope", "hello")
    assert unknown.returncode == 3 and "Unknown knowledge base 'nope'" in unknown.stderr
    for bad_name in ("../docs", "docs\n"):  # never a path outside the knowledge bases, never "create it"
        refused = run_llmp("kb", "search", bad_name, "hello")
        assert refused.returncode == 2 and "is not a valid knowledge-base name" in refused.stderr
    (tmp_path / "empty").mkdir()
    empty = run_llmp("kb", "add", "docs", str(tmp_path / "empty"))
    assert empty.returncode == 4 and "empty" in empty.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "zero.txt").write_bytes(b"")
    (bad / "ok.txt").write_text("Otters hold hands while sleeping.", encoding="utf-8")
    (bad / "scan.pdf").write_bytes((samples["manual.pdf"]).read_bytes()[:60])
    mixed = run_llmp("kb", "add", "docs", str(bad))
    assert mixed.returncode == 4
    assert "zero.txt: the file is empty" in mixed.stderr and "scan.pdf: not a readable PDF" in mixed.stderr
    unsupported = run_llmp("kb", "add", "docs", str(samples["guide.md"].parent / "missing.png"))
    assert unsupported.returncode == 4 and "missing.png" in unsupported.stderr
    stop = run_llmp("kb", "search", "docs", "the of and")
    assert stop.returncode == 2 and "only stop words" in stop.stderr
    files = json.loads(run_llmp("kb", "files", "docs", "--json").stdout)
    assert sorted(f["source"].rsplit("/", 1)[-1] for f in files) == ["guide.md", "ok.txt"]


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(samples):
    kb = create_kb("docs")
    with kb.locked():
        busy = run_llmp("kb", "add", "docs", str(samples["notes.txt"]))
    assert busy.returncode == 9 and "being changed by another process" in busy.stderr
    assert run_llmp("kb", "add", "docs", str(samples["notes.txt"])).returncode == 0


def test_resident_vectors_give_the_stores_results_and_older_stores_still_search(samples, tmp_path, monkeypatch):
    """Search runs on the exact in-memory copy of the vectors (rag/dense.py); it must rank what the
    store ranks, and a knowledge base without that copy (written by an older version, or whose
    latest add crashed before its rebuild) must still find every live document."""
    import numpy as np

    from llm_practice.rag.filters import MetadataFilter

    kb = create_kb("docs")
    kb.add([str(samples["guide.md"].parent)])
    matrix = kb.folder / "lexical" / "vectors.npy"
    assert np.load(matrix).shape == (kb.store.count(), 384)
    queries = [("端口在哪里设置？", []), ("When is the maintenance window?", []),
               ("lamp blinks fuse", [MetadataFilter.parse("type=pdf")]), ("active volcano", [])]

    def answers(base):
        return [[(r.source, round(r.score, 4), r.metadata["dense"]) for r in base.search(q, k=4, filters=f)]
                for q, f in queries]

    resident = answers(KnowledgeBase("docs"))
    assert KnowledgeBase("docs").lexical().dense is not None
    matrix.unlink()  # as an older version wrote it: no vectors.npy
    old = KnowledgeBase("docs")
    assert old.lexical().dense is None
    assert answers(old) == resident  # same sources, order and scores from the store's own search
    assert resident[1][0][0].endswith("notes.txt") and resident[2][0][0].endswith("manual.pdf#page=2")
    # an add whose rebuild never ran (kill -9): the new document is live but not in the snapshot
    kb.remove(str(samples["table.csv"]))  # every rebuild (add, rm) writes the copy again
    assert np.load(matrix).shape == (kb.store.count(), 384)
    monkeypatch.setattr(KnowledgeBase, "_rebuild_lexical", lambda self, manifest: None)
    extra = tmp_path / "ferry.txt"
    extra.write_text("The ferry to Lumora leaves pier 9 at 07:15 every weekday.", encoding="utf-8")
    KnowledgeBase("docs").add([str(extra)])
    top = KnowledgeBase("docs").search("When does the ferry to Lumora leave?", k=1)[0]
    assert top.source == str(extra) and top.metadata["dense"] is not None


def test_kill_9_during_add_leaves_whole_documents_and_a_rerun_finishes(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(80):
        (folder / f"doc{i:03d}.md").write_text(
            f"# Topic {i}\n\nFact number {i}: the code word for item {i} is word{i}x. 第{i}条事实。", encoding="utf-8")
    create_kb("crash")
    manifest = KnowledgeBase("crash").folder / "kb.json"
    proc = subprocess.Popen([str(BIN / "llmp"), "kb", "add", "crash", str(folder)], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if len(json.loads(manifest.read_text())["files"]) >= 3:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the add finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kb = KnowledgeBase("crash")
    live = {e.doc_id: e.chunks for e in kb.files()}
    assert 3 <= len(live) < 80
    stored = _store_docs(kb)
    assert all(stored.get(d) == n for d, n in live.items())  # every listed document is whole
    hits = kb.search("code word", k=10)
    assert hits and {h.metadata["doc_id"] for h in hits} <= set(live)  # only committed documents are served
    rerun = run_llmp("kb", "add", "crash", str(folder))
    assert rerun.returncode == 0, rerun.stderr
    kb = KnowledgeBase("crash")
    assert len(kb.files()) == 80
    assert _store_docs(kb) == {e.doc_id: e.chunks for e in kb.files()}  # no orphan rows left
    assert kb.manifest.pending == [] and kb.manifest.garbage == []


def test_milvus_lite_knowledge_base_and_rm_drop(samples):
    name = "熊猫资料"  # a Chinese name: Milvus collections take ASCII only, the store maps it
    kb = create_kb(name, store="milvus")
    kb.add([str(samples["notes.txt"]), str(samples["gbk.txt"])])
    assert kb.search("熊猫吃什么？", k=1)[0].source == str(samples["gbk.txt"])
    kb.close()  # a Milvus Lite file is open in one process at a time
    assert run_llmp("kb", "rm", name, str(samples["gbk.txt"])).returncode == 0
    assert [e.source for e in KnowledgeBase(name).files()] == [str(samples["notes.txt"])]
    assert run_llmp("kb", "drop", name).returncode == 0
    assert name not in run_llmp("kb", "list", "--json").stdout


def test_langchain_retriever_and_dont_know_branch(samples):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from llm_practice.rag.answer import build_ask_chain
    from llm_practice.rag.retriever import KnowledgeBaseRetriever

    create_kb("docs").add([str(samples["handbook.docx"]), str(samples["page.html"])])
    retriever = KnowledgeBaseRetriever(kb_name="docs", k=2)
    docs = retriever.invoke("How many days of paid holiday do employees get?")
    assert docs[0].metadata["source"].endswith("handbook.docx#Employee handbook > Holidays")
    chain = build_ask_chain(retriever, FakeListChatModel(responses=["25 days [1]"]))
    assert chain.invoke({"question": "How many holiday days do I get?"}) == "25 days [1]"
    assert chain.invoke({"question": "What is the airspeed of an unladen swallow?"}).startswith("I don't know")
    assert chain.invoke({"question": "量子色动力学的渐近自由是谁发现的？"}).startswith("我不知道")


def test_kb_add_without_onnxruntime_says_once_that_it_runs_slower(samples, monkeypatch):
    """onnxruntime missing (a None in sys.modules is how Python marks a module that cannot be
    imported): documents still go in, through torch, and `kb add` says so in one line."""
    from click.testing import CliRunner

    from llm_practice.cli.main import cli

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    runner = CliRunner()
    assert runner.invoke(cli, ["kb", "create", "slow"]).exit_code == 0
    result = runner.invoke(cli, ["kb", "add", "slow", str(samples["guide.md"]), str(samples["notes.txt"])])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("onnxruntime not installed") == 1, result.stderr
    assert "pip install 'llm-practice[rag]'" in result.stderr
    assert "Added 2" in result.stdout and "chunks stored in 'slow'" in result.stdout
    monkeypatch.delitem(sys.modules, "onnxruntime")  # installed again: no note
    again = runner.invoke(cli, ["kb", "add", "slow", str(samples["notes.txt"])])
    assert again.exit_code == 0 and "onnxruntime" not in again.stderr, again.stderr


def test_fp16_dense_scan_ranks_like_the_exact_float32_scan_with_filters(tmp_path):
    """Above a few thousand rows the dense scan runs in faiss on float16 (rag/dense.py): it must
    return the rows and cosines of the exact float32 scan, also when a filter keeps few rows."""
    import numpy as np

    from llm_practice.rag.dense import DenseMatrix, write_matrix

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5000, 384)).astype(np.float32)
    write_matrix(tmp_path, vectors)
    rows = [{"id": str(i), "doc_id": f"d{i % 50}"} for i in range(5000)]
    matrix = DenseMatrix.open(tmp_path, rows)
    assert matrix._index is not None
    exact = np.load(tmp_path / "vectors.npy")
    for seed, keep in [(7, lambda r: True), (11, lambda r: r["doc_id"] == "d3")]:  # d3: 100 of 5,000 rows
        query = vectors[seed] + rng.normal(scale=0.5, size=384).astype(np.float32)
        scores = exact @ (query / np.linalg.norm(query))
        wanted = [i for i in np.argsort(-scores) if keep(rows[i])][:10]
        got = matrix.search(query, 10, keep)
        assert [r["id"] for r, _ in got] == [str(i) for i in wanted]
        np.testing.assert_allclose([s for _, s in got], scores[wanted], atol=1e-3)


def test_one_file_fills_at_most_two_of_the_top_k_unless_k_leaves_room(tmp_path):
    folder = tmp_path / "timetables"
    folder.mkdir()
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    (folder / "ferry.md").write_text("".join(
        f"# Ferry on {day}\n\nOn {day} the ferry to Lumora leaves the harbour at {7 + i}:15 from pier {i + 2}.\n\n"
        for i, day in enumerate(days)), encoding="utf-8")
    (folder / "bus.md").write_text("# Bus\n\nThe harbour bus leaves every 20 minutes.\n", encoding="utf-8")
    kb = create_kb("timetables")
    kb.add([str(folder)])
    files = [r.metadata["file"].rsplit("/", 1)[-1] for r in kb.search("When does the ferry to Lumora leave?", k=3)]
    assert len(files) == 3 and files.count("ferry.md") == 2 and "bus.md" in files
    more = [r.metadata["file"].rsplit("/", 1)[-1] for r in kb.search("When does the ferry to Lumora leave?", k=7)]
    assert more.count("ferry.md") == 6 and len(more) == 7  # a larger -k still shows every ferry chunk


def test_chinese_spaced_between_characters_or_wrapped_mid_word_is_found_by_its_words(tmp_path):
    """Old conversions and PDF extraction space every Chinese character, and hard-wrapped text
    breaks words across lines; both are searched as the words they spell."""
    from llm_practice.rag.lexical import tokenize

    assert tokenize("设 定 与 控 制 环 回 设 备") == tokenize("设定与控制环回设备")
    folder = tmp_path / "手册"
    folder.mkdir()
    (folder / "losetup.txt").write_text(
        "losetup - 设 定 与 控 制 环 回 设 备\n\n描述\n       losetup 用 来 将 环 回 设 备 与 普 通 文 件 或 块 设 备\n"
        "       关 联 、 分 离 ， 以 及 查 询 环 回 设 备 目 前 的 状 态 。\n", encoding="utf-8")
    (folder / "quota.txt").write_text("quota - 显示磁盘的使用和限额\n\n描述\n       显示用户的磁盘使用情况和限额。\n",
                                      encoding="utf-8")
    (folder / "tar.txt").write_text("tar - 打包归档工具\n\n描述\n       把许多文件保存到一个归档文件中，也可以从归档文件中\n"
                                    "       恢复文件。\n", encoding="utf-8")
    kb = create_kb("手册")  # Chinese users name their knowledge bases in Chinese
    kb.add([str(folder)])
    assert run_llmp("kb", "search", "手册", "环回设备", "--json").returncode == 0
    for question, page in (("怎样查询环回设备的状态？", "losetup.txt"), ("如何从归档文件中恢复文件？", "tar.txt")):
        top = kb.search(question, k=3)[0]
        assert top.metadata["file"].endswith(page), question
        assert top.metadata["bm25"] is not None and top.relevant  # its words matched, not only its vector
