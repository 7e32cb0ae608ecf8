"""One conformance suite for every vector store backend (LanceDB, Milvus Lite)."""

from __future__ import annotations

import numpy as np
import pytest

from llm_practice.rag.filters import MetadataFilter
from llm_practice.rag.store import STORES

DIM = 8


def _rows(doc: str, source: str, kind: str, vectors, pages=None) -> list[dict]:
    return [{"id": f"{doc}:{i}", "doc_id": doc, "source": source, "type": kind, "heading": f"h{i}",
             "page": (pages[i] if pages else -1), "start": 0, "end": 5, "text": f"{doc} chunk {i}", "vector": v}
            for i, v in enumerate(vectors)]


@pytest.fixture(autouse=True)
def _folder(tmp_path):
    (tmp_path / "kb").mkdir(exist_ok=True)


@pytest.fixture(params=sorted(STORES))
def store(request, tmp_path, _folder):
    backend = STORES[request.param](tmp_path / "kb", None, DIM)
    yield backend
    backend.close()


def _unit(i: int) -> list[float]:
    v = np.zeros(DIM, dtype=np.float32)
    v[i % DIM] = 1
    v[(i + 1) % DIM] = 0.1
    return v.tolist()


def test_add_search_order_and_scores(store):
    store.add(_rows("docA", "a.md", "md", [_unit(0), _unit(1)]))
    store.add(_rows("docB", "b.pdf", "pdf", [_unit(2), _unit(3)], pages=[1, 2]))
    assert store.count() == 4
    assert store.doc_ids() == {"docA", "docB"}
    hits = store.search(_unit(2), 3, [], [])
    assert hits[0][0]["id"] == "docB:0"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-4)  # cosine similarity, best first
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    assert set(hits[0][0]) >= {"id", "doc_id", "source", "type", "heading", "page", "text"}


def test_filters_and_excluded_documents(store):
    store.add(_rows("docA", "notes/a.md", "md", [_unit(0), _unit(1)]))
    store.add(_rows("docB", "manuals/b.pdf", "pdf", [_unit(0), _unit(1), _unit(2)], pages=[1, 2, 3]))
    only_pdf = store.search(_unit(0), 10, [MetadataFilter.parse("type=pdf")], [])
    assert {h[0]["doc_id"] for h in only_pdf} == {"docB"}
    glob = store.search(_unit(0), 10, [MetadataFilter.parse("source~=notes/*")], [])
    assert {h[0]["doc_id"] for h in glob} == {"docA"}
    pages = store.search(_unit(0), 10, [MetadataFilter.parse("page>=2")], [])
    assert sorted(h[0]["page"] for h in pages) == [2, 3]
    not_md = store.search(_unit(0), 10, [MetadataFilter.parse("type!=md")], [])
    assert {h[0]["type"] for h in not_md} == {"pdf"}
    excluded = store.search(_unit(0), 10, [], ["docB"])
    assert {h[0]["doc_id"] for h in excluded} == {"docA"}


def test_delete_documents_and_reopen(store, tmp_path):
    store.add(_rows("docA", "a.md", "md", [_unit(0)]))
    store.add(_rows("docB", "b.md", "md", [_unit(1), _unit(2)]))
    store.delete_docs(["docA"])
    assert store.doc_ids() == {"docB"}
    assert sorted(r["id"] for r in store.rows()) == ["docB:0", "docB:1"]


@pytest.mark.parametrize("backend", sorted(STORES))
def test_survives_reopen(tmp_path, backend):
    first = STORES[backend](tmp_path / "kb", None, DIM)
    first.add(_rows("docA", "a.md", "md", [_unit(0), _unit(1)]))
    first.close()
    again = STORES[backend](tmp_path / "kb", None, DIM)
    assert again.count() == 2 and again.search(_unit(1), 1, [], [])[0][0]["id"] == "docA:1"
    again.close()


def test_filter_syntax_errors_say_what_to_write():
    from llm_practice.errors import ConfigError

    with pytest.raises(ConfigError, match="FIELD=VALUE"):
        MetadataFilter.parse("colour=red")
    with pytest.raises(ConfigError, match="whole number"):
        MetadataFilter.parse("page>=two")
