"""`llmp kb`: knowledge bases (create, add, list, files, rm, drop, search, ask, chat, eval)."""

from __future__ import annotations

import json
import sys

import click

from ..settings import get_settings

WORDS = {
    "added": {"en": "Added {added}, replaced {replaced}, unchanged {unchanged}; {chunks} chunks stored in '{name}'.",
              "zh": "新增 {added} 个、替换 {replaced} 个、未变 {unchanged} 个文件；'{name}' 写入 {chunks} 个文本块。"},
    "failed": {"en": "Not added: {path}: {reason}", "zh": "未加入：{path}：{reason}"},
    "skipped": {"en": "Skipped {n} file(s) of unsupported types inside folders (e.g. {example}).",
                "zh": "跳过文件夹中 {n} 个不支持的文件（例如 {example}）。"},
    "boilerplate": {"en": "Repeated header/footer/navigation lines indexed once: {n} copies dropped.",
                    "zh": "重复的页眉/页脚/导航行只索引一次：去掉 {n} 处重复。"},
    "created": {"en": "Created knowledge base '{name}' (embedder {embedder}, store {store}). Next: llmp kb add {name} PATHS",
                "zh": "已创建知识库 '{name}'（向量模型 {embedder}，存储 {store}）。下一步：llmp kb add {name} 路径"},
    "none": {"en": "No knowledge bases yet. Create one with `llmp kb create NAME`.",
             "zh": "还没有知识库。用 `llmp kb create 名称` 创建。"},
    "no_files": {"en": "'{name}' has no files yet. Add some with `llmp kb add {name} PATHS`.",
                 "zh": "'{name}' 还没有文件。用 `llmp kb add {name} 路径` 加入。"},
    "removed": {"en": "Removed {source} ({chunks} chunks) from '{name}'.", "zh": "已从 '{name}' 删除 {source}（{chunks} 个文本块）。"},
    "dropped": {"en": "Deleted knowledge base '{name}'.", "zh": "已删除知识库 '{name}'。"},
    "no_results": {"en": "Nothing found.", "zh": "没有找到结果。"},
    "sources": {"en": "Sources:", "zh": "来源："},
    "chat_banner": {"en": "Chatting with knowledge base '{name}' ({model}). Empty line or Ctrl-D to quit.",
                    "zh": "正在与知识库 '{name}' 对话（{model}）。空行或 Ctrl-D 退出。"},
    "eval": {"en": "{n} questions: hit@{k} {hit:.2f}, MRR {mrr:.2f}{kw}",
             "zh": "{n} 个问题：hit@{k} {hit:.2f}，MRR {mrr:.2f}{kw}"},
}


def w(key: str, **kwargs) -> str:
    return WORDS[key][get_settings().lang].format(**kwargs)


@click.group()
def kb() -> None:
    """Knowledge bases: add your documents, then search them or ask questions with cited answers.

    Example: llmp kb create docs && llmp kb add docs ./manuals && llmp kb ask docs "如何重置密码？"
    """


@kb.command("create")
@click.argument("name")
@click.option("--embedder", default="multilingual-e5-small", show_default=True,
              help="multilingual-e5-small (zh+en), all-minilm-l6-v2 (en), or a sentence-transformers folder.")
@click.option("--store", type=click.Choice(["lancedb", "milvus"]), default="lancedb", show_default=True)
@click.option("--uri", help="Store location: a Milvus server/cluster (http://host:19530) or a LanceDB URI.")
@click.option("--chunk-tokens", type=click.IntRange(16, 2000), default=200, show_default=True)
@click.option("--overlap-tokens", type=click.IntRange(0, 500), default=30, show_default=True)
def create_cmd(name, embedder, store, uri, chunk_tokens, overlap_tokens) -> None:
    """Create an empty knowledge base.

    Example: llmp kb create docs --store milvus --uri http://127.0.0.1:19530
    """
    from ..rag.kb import create_kb

    config = create_kb(name, embedder, store, uri, chunk_tokens, overlap_tokens).config
    click.echo(w("created", name=name, embedder=config.embedder, store=config.store))


@kb.command("add")
@click.argument("name")
@click.argument("paths", nargs=-1, required=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def add_cmd(name: str, paths: tuple[str, ...], quiet: bool) -> None:
    """Add files, folders (recursive) or globs; unchanged files are skipped, changed ones replaced.

    Example: llmp kb add docs ./manuals 'notes/**/*.md' report.pdf
    """
    from ..rag.kb import KnowledgeBase

    base = KnowledgeBase(name)
    _note_slow_runtime(base.config.embedder)
    progress, finish = _progress_bar(quiet)
    try:
        report = base.add(list(paths), progress=progress)
    finally:
        finish()
    for path, reason in report.failed:
        click.echo(w("failed", path=path, reason=reason), err=True)
    if report.skipped:
        click.echo(w("skipped", n=len(report.skipped), example=report.skipped[0]), err=True)
    if report.boilerplate_lines:
        click.echo(w("boilerplate", n=report.boilerplate_lines), err=True)
    click.echo(w("added", added=len(report.added), replaced=len(report.replaced), unchanged=len(report.unchanged),
                 chunks=report.chunks, name=name))
    if report.failed:
        sys.exit(4)


def _note_slow_runtime(embedder: str) -> None:
    """One line when e5's documents fall back to torch because onnxruntime is missing (the same
    words as the API's upload warning and the web UI's note: i18n `kb_slow_runtime`)."""
    from ..embeddings.e5 import slow_document_runtime
    from ..i18n import t

    missing = slow_document_runtime(embedder)
    if missing:
        click.echo(t("kb_slow_runtime", modules=", ".join(missing)), err=True)


def _progress_bar(quiet: bool):
    """A rich progress bar on stderr with files and chunks (done/total) and ETA."""
    if quiet or not sys.stderr.isatty() and not _force_progress():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=False)
    tasks: dict[str, int] = {}
    labels = {"files": {"en": "files", "zh": "文件"}, "chunks": {"en": "chunks embedded", "zh": "已向量化文本块"}}
    bar.start()

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels[stage][get_settings().lang], total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update, bar.stop


def _force_progress() -> bool:
    import os

    return os.environ.get("LLMP_PROGRESS") == "1"


@kb.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(as_json: bool) -> None:
    """List knowledge bases with their embedder, store, files and chunks."""
    from ..rag.kb import KnowledgeBase, list_kbs

    rows = []
    for name in list_kbs():
        manifest = KnowledgeBase(name).manifest
        rows.append({"name": name, "embedder": manifest.config.embedder, "store": manifest.config.store,
                     "files": len(manifest.files), "chunks": sum(f.chunks for f in manifest.files.values()),
                     "created": manifest.config.created})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        click.echo(w("none"))
    else:
        _table(["name", "embedder", "store", "files", "chunks", "created"], rows)


def _table(columns: list[str], rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row[c]) if row[c] is not None else "" for c in columns))
    Console().print(table)


@kb.command("files")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def files_cmd(name: str, as_json: bool) -> None:
    """List the files of a knowledge base."""
    from ..rag.kb import KnowledgeBase

    entries = [e.model_dump() for e in KnowledgeBase(name).files()]
    if as_json:
        click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
    elif not entries:
        click.echo(w("no_files", name=name))
    else:
        _table(["source", "type", "bytes", "chunks", "added"], entries)


@kb.command("rm")
@click.argument("name")
@click.argument("file")
def rm_cmd(name: str, file: str) -> None:
    """Remove one file (as listed by `llmp kb files`) and its chunks."""
    from ..rag.kb import KnowledgeBase

    entry = KnowledgeBase(name).remove(file)
    click.echo(w("removed", source=entry.source, chunks=entry.chunks, name=name))


@kb.command("drop")
@click.argument("name")
def drop_cmd(name: str) -> None:
    """Delete a knowledge base and everything in it (your original files stay)."""
    from ..rag.kb import drop_kb

    drop_kb(name)
    click.echo(w("dropped", name=name))


def _filters(values: tuple[str, ...]):
    from ..rag.filters import MetadataFilter

    return [MetadataFilter.parse(v) for v in values]


def _reranker(path: str | None):
    if not path:
        return None
    from ..rag.rerank import CrossEncoderReranker

    return CrossEncoderReranker(path)


_FILTER_HELP = "FIELD=VALUE, FIELD!=VALUE, FIELD~=GLOB, page>=N, page<=N; FIELD: source, type, heading, page."


@kb.command("search")
@click.argument("name")
@click.argument("query")
@click.option("-k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--filter", "filters", multiple=True, help=_FILTER_HELP)
@click.option("--reranker", type=click.Path(), help="A cross-encoder model folder to rerank the results.")
@click.option("--json", "as_json", is_flag=True, help='Print {"query", "results": [{source, text, score, ...}]}.')
def search_cmd(name, query, k, filters, reranker, as_json) -> None:
    """Hybrid search (meaning + exact words), best first.

    Example: llmp kb search docs "端口 8080" -k 3 --filter type=md --json
    """
    from ..rag.kb import KnowledgeBase

    results = KnowledgeBase(name).search(query, k=k, filters=_filters(filters), reranker=_reranker(reranker))
    if as_json:
        click.echo(json.dumps({"kb": name, "query": query, "k": k, "results": [r.to_json() for r in results]},
                              ensure_ascii=False, indent=2))
        return
    if not results:
        click.echo(w("no_results"))
    for rank, r in enumerate(results, 1):
        click.echo(click.style(f"{rank}. {r.source}  (score {r.score:.2f})", bold=True))
        click.echo("   " + r.text.replace("\n", "\n   ")[:600])


def _answerer(name: str, model: str, k: int, filters, reranker, temperature: float, max_tokens: int, threads):
    """(retrieval step, answer step, chat model): the two halves of `build_ask_chain`, kept apart so the
    CLI can print the sources it retrieved."""
    from ..chat.engine import load_engine
    from ..chat.langchain import LlmpChatModel
    from ..models.registry import get_model
    from ..rag.answer import answer_step, retrieval_step
    from ..rag.chat_model import LazyEngine
    from ..rag.kb import KnowledgeBase
    from ..rag.retriever import KnowledgeBaseRetriever

    base = KnowledgeBase(name)
    retriever = KnowledgeBaseRetriever(kb_name=name, kb=base, k=k, filters=_filters(filters),
                                       reranker=_reranker(reranker))
    info = get_model(model)  # an unknown model fails now, before any retrieval
    engine = LazyEngine(lambda: load_engine(info, None, threads=threads))
    chat_model = LlmpChatModel(engine=engine, temperature=temperature, max_tokens=max_tokens, seed=0)
    return retrieval_step(retriever), answer_step(chat_model), chat_model


def _ask_options(fn):
    for option in reversed([
        click.option("--model", default="smollm2-135m-instruct", show_default=True, help="The chat model that answers."),
        click.option("-k", type=click.IntRange(1, 20), default=3, show_default=True, help="Passages given to the model."),
        click.option("--filter", "filters", multiple=True, help=_FILTER_HELP),
        click.option("--reranker", type=click.Path(), help="A cross-encoder model folder to rerank the passages."),
        click.option("--temperature", type=click.FloatRange(0, 2), default=0.0, show_default=True),
        click.option("--max-tokens", type=click.IntRange(min=1), default=256, show_default=True),
        click.option("--threads", type=click.IntRange(min=1), help="CPU threads for the model."),
    ]):
        fn = option(fn)
    return fn


def _stream_answer(retrieve, answer, inputs: dict, out=None) -> tuple[str, list]:
    """Retrieve, then stream the answer to `out` (stdout); return its text and the passages used."""
    out = out or sys.stdout
    prepared = retrieve.invoke(inputs)
    pieces = []
    for piece in answer.stream(prepared):
        pieces.append(piece)
        out.write(piece)
        out.flush()
    out.write("\n")
    return "".join(pieces), prepared["docs"]


def _print_sources(docs) -> None:
    if docs:
        click.echo(w("sources"))
        for i, d in enumerate(docs, 1):
            click.echo(f"  [{i}] {d.metadata.get('source')}")


@kb.command("ask")
@click.argument("name")
@click.argument("question")
@_ask_options
@click.option("--json", "as_json", is_flag=True, help="Print {answer, sources} instead of streaming.")
def ask_cmd(name, question, model, k, filters, reranker, temperature, max_tokens, threads, as_json) -> None:
    """Answer a question from the knowledge base, with numbered citations and the sources.

    Example: llmp kb ask docs "What port does the server use?"
    """
    retrieve, answer, _ = _answerer(name, model, k, filters, reranker, temperature, max_tokens, threads)
    if as_json:
        import io

        text, docs = _stream_answer(retrieve, answer, {"question": question}, out=io.StringIO())
        click.echo(json.dumps({"question": question, "answer": text, "sources": [
            {"n": i, "source": d.metadata.get("source"), "score": d.metadata.get("score"), "text": d.page_content}
            for i, d in enumerate(docs, 1)]}, ensure_ascii=False, indent=2))
        return
    _, docs = _stream_answer(retrieve, answer, {"question": question})
    _print_sources(docs)


@kb.command("chat")
@click.argument("name")
@_ask_options
def chat_cmd(name, model, k, filters, reranker, temperature, max_tokens, threads) -> None:
    """Multi-turn chat with a knowledge base; follow-up questions are rewritten with the history."""
    from ..rag.answer import condense_question

    retrieve, answer, chat_model = _answerer(name, model, k, filters, reranker, temperature, max_tokens, threads)
    click.echo(w("chat_banner", name=name, model=model), err=True)
    history: list[tuple[str, str]] = []
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: _prompt(), None):
        question = line.strip()
        if not question:
            break
        query = condense_question(chat_model, history, question)
        text, docs = _stream_answer(retrieve, answer, {"question": question, "query": query})
        _print_sources(docs)
        history.append((question, text))


def _prompt():
    try:
        return input(">>> ")
    except EOFError:
        return None


@kb.command("eval")
@click.argument("name")
@click.argument("qa_file", type=click.Path(dir_okay=False))
@click.option("-k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--answers", "with_answers", is_flag=True, help="Also generate answers and check their keywords.")
@click.option("--model", default="smollm2-135m-instruct", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def eval_cmd(name, qa_file, k, with_answers, model, as_json) -> None:
    """Document hit@k, MRR and (with --answers) answer-keyword recall for a question set.

    Example: llmp kb eval docs examples/kb/qa.jsonl -k 5 --answers
    """
    from pathlib import Path

    from ..rag.evaluate import evaluate_kb, read_qa
    from ..rag.kb import KnowledgeBase

    items = read_qa(Path(qa_file))
    base = KnowledgeBase(name)
    answer = None
    if with_answers:
        retrieve, answer_part, _ = _answerer(name, model, 3, (), None, 0.0, 128, None)
        chain = retrieve | answer_part
        answer = lambda q: chain.invoke({"question": q})  # noqa: E731
    report = evaluate_kb(base, items, k=k, answer=answer).to_json()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    kw = f", keyword recall {report['keyword_recall']:.2f}" if report["keyword_recall"] is not None else ""
    click.echo(w("eval", n=report["questions"], k=k, hit=report[f"hit@{k}"], mrr=report["mrr"], kw=kw))
    for row in report["per_question"]:
        click.echo(f"  {'miss' if row['rank'] is None else 'rank ' + str(row['rank'])}: {row['question']}")
