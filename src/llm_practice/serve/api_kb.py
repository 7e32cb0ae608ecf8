"""`/v1/kb/...`: knowledge bases over HTTP (the same library calls as `llmp kb`).

    GET    /v1/kb                         list
    POST   /v1/kb                         {"name", "embedder"?, "store"?, "uri"?}  create
    DELETE /v1/kb/{name}                  drop
    GET    /v1/kb/{name}/files            files
    POST   /v1/kb/{name}/files            multipart upload of one or more files (added incrementally)
    DELETE /v1/kb/{name}/files?source=..  remove one file
    POST   /v1/kb/{name}/search           {"query", "k"?, "filters"?: ["type=pdf"]}  -> {"results": [...]}
    POST   /v1/kb/{name}/ask              {"question", "model"?, "k"?, "max_tokens"?, "stream"?}

The upload answers `{"added", "replaced", "unchanged", "failed": [{"file", "reason"}], "chunks",
"warnings": [...]}`. `warnings` is empty unless something the user should fix made the upload
slower: `{"code": "slow_embedding_runtime", "missing": ["onnxruntime", ...], "message"}` when
onnxruntime is not installed, so the documents of an e5 knowledge base were embedded by torch
float32 (about 2x slower); `message` (in the server's language) is the line `llmp kb add` prints,
with the install command.

Answers go through the server's one generation service (queue, deadline, metrics); when nothing
relevant is retrieved the answer is "I don't know" and no model is used.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .middleware import require_key

router = APIRouter(dependencies=[Depends(require_key)])


class CreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    embedder: str = "multilingual-e5-small"
    store: str = "lancedb"
    uri: str | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    k: int = Field(5, ge=1, le=100)
    filters: list[str] = Field(default_factory=list)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    model: str | None = None
    k: int = Field(3, ge=1, le=20)
    filters: list[str] = Field(default_factory=list)
    max_tokens: int | None = Field(None, ge=1)
    stream: bool = False


def _run(fn, *args):
    return asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _open(name: str):
    from ..rag.kb import KnowledgeBase

    return KnowledgeBase(name)


@router.get("/v1/kb")
async def list_kbs():
    from ..rag.kb import list_kbs as names

    def rows():
        out = []
        for name in names():
            manifest = _open(name).manifest
            out.append({"name": name, "embedder": manifest.config.embedder, "store": manifest.config.store,
                        "files": len(manifest.files), "chunks": sum(f.chunks for f in manifest.files.values())})
        return out

    return {"object": "list", "data": await _run(rows)}


@router.post("/v1/kb", status_code=201)
async def create(body: CreateRequest):
    from ..rag.kb import create_kb

    kb = await _run(lambda: create_kb(body.name, body.embedder, body.store, body.uri))
    return kb.config.model_dump()


@router.delete("/v1/kb/{name}")
async def drop(name: str):
    from ..rag.kb import drop_kb

    await _run(drop_kb, name)
    return {"name": name, "deleted": True}


@router.get("/v1/kb/{name}/files")
async def files(name: str):
    entries = await _run(lambda: [e.model_dump() for e in _open(name).files()])
    return {"object": "list", "data": entries}


@router.post("/v1/kb/{name}/files")
async def upload(name: str, files: list[UploadFile]):
    kb = await _run(_open, name)
    folder = kb.folder / "uploads"
    folder.mkdir(exist_ok=True)
    paths = []
    for upload in files:
        safe = re.sub(r"[^\w.\-\u4e00-\u9fff]+", "_", Path(upload.filename or "upload").name)
        target = folder / safe
        tmp = target.with_name(f".{safe}.part")
        tmp.write_bytes(await upload.read())
        tmp.replace(target)
        paths.append(str(target))
    report = await _run(kb.add, paths)
    return {"added": report.added, "replaced": report.replaced, "unchanged": report.unchanged,
            "failed": [{"file": f, "reason": r} for f, r in report.failed], "chunks": report.chunks,
            "warnings": _warnings(kb.config.embedder)}


def _warnings(embedder: str) -> list[dict]:
    """What `llmp kb add` notes on stderr, as data: e5's documents went through torch."""
    from ..embeddings.e5 import slow_document_runtime
    from ..i18n import t

    missing = slow_document_runtime(embedder)
    if not missing:
        return []
    return [{"code": "slow_embedding_runtime", "missing": missing,
             "message": t("kb_slow_runtime", modules=", ".join(missing))}]


@router.delete("/v1/kb/{name}/files")
async def remove(name: str, source: str):
    entry = await _run(lambda: _open(name).remove(source))
    return {"removed": entry.source, "chunks": entry.chunks}


def _filters(values: list[str]):
    from ..rag.filters import MetadataFilter

    return [MetadataFilter.parse(v) for v in values]


@router.post("/v1/kb/{name}/search")
async def search(name: str, body: SearchRequest):
    results = await _run(lambda: _open(name).search(body.query, k=body.k, filters=_filters(body.filters)))
    return {"kb": name, "query": body.query, "k": body.k, "results": [r.to_json() for r in results]}


@router.post("/v1/kb/{name}/ask")
async def ask(name: str, body: AskRequest, request: Request):
    from .kb_chat import generate, ground

    service = request.app.state.generation
    params = service.params(max_tokens=body.max_tokens, temperature=0.0, seed=0)
    grounded = await _run(lambda: ground(name, [{"role": "user", "content": body.question}], body.k,
                                         _filters(body.filters)))
    generation = await generate(request, grounded, body.model, f"kb:{name}", "/v1/kb/ask", params)
    if body.stream:
        async def events():
            yield f"data: {json.dumps({'sources': grounded.sources}, ensure_ascii=False)}\n\n"
            try:
                async for delta in generation:
                    yield f"data: {json.dumps({'delta': delta}, ensure_ascii=False)}\n\n"
            finally:
                generation.end("499")  # no-op when the answer finished
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")
    text = await generation.text()
    return {"kb": name, "question": body.question, "answer": text, "sources": grounded.sources}
