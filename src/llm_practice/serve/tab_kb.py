"""The web UI's Knowledge base tab: create, upload (with progress), files, chunks, search, chat.

The handlers call the same library as `llmp kb` and `/v1/kb` (`create_kb`, `KnowledgeBase.add`,
`.files`, `.chunks`, `.search`) and the chat the same grounding as the model `kb:NAME`
(serve/kb_chat.py) through the server's one generation service. When onnxruntime is missing, a
note under the upload says that the chosen knowledge base's documents go through the slower torch
runtime and how to install the fast one: the words of `llmp kb add` (i18n `kb_slow_runtime`), in
the page's language. The chat transcript is HTML so
that each citation [n] is a link to its numbered source below the answer (`#kb-src-N`).
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
from pathlib import Path

from ..errors import LlmpError

TEXTS: dict[str, dict[str, str]] = {
    "tab": {"en": "Knowledge base", "zh": "知识库"},
    "kb": {"en": "Knowledge base", "zh": "知识库"},
    "new_name": {"en": "New knowledge base name", "zh": "新知识库名称"},
    "create": {"en": "Create", "zh": "创建"},
    "upload": {"en": "Files to add", "zh": "要加入的文件"},
    "add": {"en": "Add files", "zh": "加入文件"},
    "files": {"en": "Files", "zh": "文件"},
    "file": {"en": "Show the chunks of", "zh": "查看分块的文件"},
    "query": {"en": "Search", "zh": "检索"},
    "search": {"en": "Search", "zh": "检索"},
    "question": {"en": "Ask the knowledge base", "zh": "向知识库提问"},
    "ask": {"en": "Ask", "zh": "提问"},
}
FILE_COLUMNS = ["source", "type", "chunks", "bytes", "added"]
_CITATION = re.compile(r"\[(\d+)\]")


def _error(e: LlmpError) -> str:
    return f"**Error:** {e.message}" + (f"\n\n{e.hint}" if e.hint else "")


def kb_names() -> list[str]:
    from ..rag.kb import list_kbs

    return list_kbs()


def file_rows(name: str | None) -> list[list]:
    from ..rag.kb import KnowledgeBase

    if not name:
        return []
    return [[e.source, e.type, e.chunks, e.bytes, e.added[:19]] for e in KnowledgeBase(name).files()]


def slow_runtime(name: str | None) -> bool:
    """Whether the documents of knowledge base `name` are embedded by the slow torch fallback."""
    from ..embeddings.e5 import slow_document_runtime
    from ..rag.kb import KnowledgeBase

    if not name:
        return False
    try:
        return bool(slow_document_runtime(KnowledgeBase(name).config.embedder))
    except LlmpError:
        return False


def slow_runtime_texts() -> dict[str, str]:
    """The note's words in both languages (empty when onnxruntime is installed)."""
    from ..embeddings.e5 import missing_onnx_modules
    from ..i18n import both

    missing = missing_onnx_modules()
    return both("kb_slow_runtime", modules=", ".join(missing)) if missing else {"en": "", "zh": ""}


def create(name: str) -> tuple[str, list[str]]:
    """-> (status, knowledge bases)."""
    from ..rag.kb import create_kb

    try:
        create_kb((name or "").strip())
    except LlmpError as e:
        return _error(e), kb_names()
    return f"Created **{name.strip()}**.", kb_names()


def add_files(name: str | None, paths: list[str], progress=None) -> str:
    """Copy the uploaded files into the knowledge base's folder (their own names) and add them."""
    from ..rag.kb import KnowledgeBase

    if not name or not paths:
        return "**Error:** pick a knowledge base and choose files."
    try:
        kb = KnowledgeBase(name)
        folder = kb.folder / "uploads"
        folder.mkdir(exist_ok=True)
        targets = []
        for path in paths:
            target = folder / Path(path).name
            part = target.with_name(f".{target.name}.part")
            shutil.copyfile(path, part)
            part.replace(target)
            targets.append(str(target))
        report = kb.add(targets, progress=progress)
    except LlmpError as e:
        return _error(e)
    lines = [f"Added {len(report.added)}, replaced {len(report.replaced)}, unchanged {len(report.unchanged)}: "
             f"{report.chunks} chunks."]
    lines += [f"- failed: `{Path(f).name}`: {reason}" for f, reason in report.failed]
    return "\n".join(lines)


def chunks_markdown(name: str | None, source: str | None) -> str:
    from ..rag.kb import KnowledgeBase

    if not name or not source:
        return ""
    try:
        rows = KnowledgeBase(name).chunks(source)
    except LlmpError as e:
        return _error(e)
    return "\n\n".join(f"**#{i}** {html.escape(r.get('heading') or '')}\n\n> "
                       + html.escape(r["text"]).replace("\n", "\n> ") for i, r in enumerate(rows, 1))


def search_markdown(name: str | None, query: str, k: int = 5) -> str:
    from ..rag.kb import KnowledgeBase

    if not name or not (query or "").strip():
        return "**Error:** pick a knowledge base and type a query."
    try:
        results = KnowledgeBase(name).search(query.strip(), k=int(k))
    except LlmpError as e:
        return _error(e)
    if not results:
        return "No results."
    return "\n\n".join(f"**{i}. {html.escape(r.source)}** (score {r.score:.3f})\n\n> "
                       + html.escape(r.text[:600]).replace("\n", "\n> ") for i, r in enumerate(results, 1))


def render_chat(turns: list[dict]) -> str:
    """Questions, answers with citations linked to their sources, and the numbered sources."""
    parts = []
    for t, turn in enumerate(turns):
        count = len(turn["sources"])

        def link(m, t=t, count=count):
            n = int(m.group(1))
            return f'<a class="kb-cite" href="#kb-src-{t}-{n}">[{n}]</a>' if 1 <= n <= count else m.group(0)

        answer = _CITATION.sub(link, html.escape(turn["answer"])).replace("\n", "<br>")
        sources = "".join(f'<li id="kb-src-{t}-{s["n"]}" class="kb-source"><b>[{s["n"]}] {html.escape(s["source"])}'
                          f'</b><br><small>{html.escape(s["text"][:400])}</small></li>' for s in turn["sources"])
        parts.append(f'<div class="kb-turn"><p class="kb-q"><b>Q:</b> {html.escape(turn["question"])}</p>'
                     f'<p class="kb-a">{answer}</p><ol class="kb-sources">{sources}</ol></div>')
    return "<style>.kb-source:target{background:#fff3c4}</style>" + "".join(parts)


def ask_handler(ctx):
    """The chat's handler: ground the question like `kb:NAME`, stream the answer through the server's
    generation service, end it with the numbered sources (each citation a link to its source)."""
    from .kb_chat import ground

    async def on_ask(name, text, history):
        history = list(history or [])
        text = (text or "").strip()
        if not name or not text or not ctx.served:
            yield "", history, render_chat(history)
            return
        conversation = [m for turn in history for m in ({"role": "user", "content": turn["question"]},
                                                        {"role": "assistant", "content": turn["answer"]})]
        conversation.append({"role": "user", "content": text})
        try:
            grounded = await asyncio.to_thread(ground, name, conversation)
        except LlmpError as e:
            yield "", history, render_chat(history) + f"<p><b>Error:</b> {html.escape(e.message)}</p>"
            return
        turn = {"question": text, "answer": "", "sources": grounded.sources}
        history.append(turn)
        if grounded.messages is None:
            turn["answer"] = grounded.dont_know()
            yield "", history, render_chat(history)
            return
        try:
            async for delta in ctx.generation.chat(None, grounded.messages, "ui/kb", temperature=0.0,
                                                   max_tokens=256, seed=0):
                turn["answer"] += delta
                yield "", history, render_chat(history)
        except LlmpError as e:
            turn["answer"] += f" [{e.message}]"
        turn["answer"] += grounded.footer()  # the numbered sources, each a link, as the API's answer ends
        yield "", history, render_chat(history)

    return on_ask


def kb_tab(gr, ctx) -> dict:
    names = kb_names()
    with gr.Tab(TEXTS["tab"]["en"], elem_id="tab-kb") as tab:
        with gr.Row():
            kb = gr.Dropdown(names, value=names[0] if names else None, label=TEXTS["kb"]["en"], elem_id="kb-select")
            new_name = gr.Textbox(label=TEXTS["new_name"]["en"], elem_id="kb-name")
            create_button = gr.Button(TEXTS["create"]["en"], elem_id="kb-create")
        status = gr.Markdown(elem_id="kb-status")
        with gr.Row():
            upload = gr.File(file_count="multiple", type="filepath", label=TEXTS["upload"]["en"], elem_id="kb-upload")
            add_button = gr.Button(TEXTS["add"]["en"], variant="primary", elem_id="kb-add")
        note_texts = slow_runtime_texts()
        note = gr.Markdown(note_texts["en"], visible=slow_runtime(kb.value), elem_id="kb-note")
        files = gr.Dataframe(headers=FILE_COLUMNS, value=file_rows(kb.value), label=TEXTS["files"]["en"],
                             interactive=False, elem_id="kb-files")
        file = gr.Dropdown([], label=TEXTS["file"]["en"], elem_id="kb-file")
        chunks = gr.Markdown(elem_id="kb-chunks")
        with gr.Row():
            query = gr.Textbox(label=TEXTS["query"]["en"], elem_id="kb-query", scale=4)
            search_button = gr.Button(TEXTS["search"]["en"], elem_id="kb-search")
        results = gr.Markdown(elem_id="kb-results")
        transcript = gr.HTML(elem_id="kb-chat")
        # the conversation, in a hidden component: a gr.State makes Gradio hold a heartbeat connection
        # open, so the page never goes network-idle
        turns = gr.JSON([], visible=False)
        with gr.Row():
            question = gr.Textbox(label=TEXTS["question"]["en"], elem_id="kb-question", scale=4)
            ask_button = gr.Button(TEXTS["ask"]["en"], variant="primary", elem_id="kb-ask")

    def refresh(name):
        rows = file_rows(name)
        return rows, gr.update(choices=[r[0] for r in rows], value=None), "", [], "", \
            gr.update(visible=slow_runtime(name))

    def on_create(name):
        message, choices = create(name)
        chosen = name.strip() if name and name.strip() in choices else None
        return message, gr.update(choices=choices, value=chosen)

    def on_add(name, paths, progress=gr.Progress()):
        message = add_files(name, paths or [], lambda stage, done, total: progress((done, total), desc=stage))
        rows = file_rows(name)
        return message, rows, gr.update(choices=[r[0] for r in rows]), gr.update(visible=slow_runtime(name))

    on_ask = ask_handler(ctx)

    kb.change(refresh, kb, [files, file, chunks, turns, transcript, note])
    create_button.click(on_create, new_name, [status, kb])
    add_button.click(on_add, [kb, upload], [status, files, file, note])
    file.change(chunks_markdown, [kb, file], chunks)
    search_button.click(search_markdown, [kb, query], results)
    query.submit(search_markdown, [kb, query], results)
    ask_button.click(on_ask, [kb, question, turns], [question, turns, transcript])
    question.submit(on_ask, [kb, question, turns], [question, turns, transcript])
    keys = {tab: "tab", kb: "kb", new_name: "new_name", create_button: "create", upload: "upload",
            add_button: "add", files: "files", file: "file", query: "query", search_button: "search",
            question: "question", ask_button: "ask"}
    return {**{comp: TEXTS[key] for comp, key in keys.items()}, note: note_texts}
