"""`/v1/kb/...` on the real app (no chat model needed: search, upload, files, I-don't-know)."""

from __future__ import annotations

import sys

from fastapi.testclient import TestClient

from llm_practice.serve.app import create_app
from llm_practice.serve.config import ServeConfig

from .rag_samples import write_samples


def test_kb_api_create_upload_search_ask_and_errors(tmp_path):
    samples = write_samples(tmp_path / "docs")
    # the server answers only loopback Host names unless --allowed-host adds more
    client = TestClient(create_app(ServeConfig(ui=False), served={}), base_url="http://127.0.0.1")
    assert client.post("/v1/kb", json={"name": "api"}).status_code == 201
    assert client.post("/v1/kb", json={"name": "api"}).status_code == 409
    with open(samples["guide.md"], "rb") as a, open(samples["gbk.txt"], "rb") as b:
        added = client.post("/v1/kb/api/files", files=[("files", ("guide.md", a)), ("files", ("gbk.txt", b))])
    assert added.status_code == 200 and len(added.json()["added"]) == 2
    assert added.json()["warnings"] == []  # onnxruntime installed: documents went through it
    empty = client.post("/v1/kb/api/files", files=[("files", ("zero.txt", b""))]).json()
    assert "empty" in empty["failed"][0]["reason"]
    assert sorted(f["type"] for f in client.get("/v1/kb/api/files").json()["data"]) == ["md", "txt"]
    found = client.post("/v1/kb/api/search", json={"query": "端口在哪里设置？", "k": 2}).json()
    assert found["results"][0]["source"].endswith("guide.md#安装指南 > 配置")
    assert 0 <= found["results"][0]["score"] <= 1
    bad_filter = client.post("/v1/kb/api/search", json={"query": "端口", "filters": ["colour=red"]})
    assert bad_filter.status_code == 400 and "FIELD=VALUE" in bad_filter.json()["error"]["message"]
    assert client.post("/v1/kb/nope/search", json={"query": "x"}).status_code == 404
    unknown = client.post("/v1/kb/api/ask", json={"question": "Who won the 1954 football world cup?"}).json()
    assert unknown["answer"].startswith("I don't know") and unknown["sources"] == []
    assert client.delete("/v1/kb/api").status_code == 200
    assert client.get("/v1/kb").json()["data"] == []
    # a Chinese name works in the URL (percent-encoded by the client) and as the model kb:NAME
    assert client.post("/v1/kb", json={"name": "产品手册"}).status_code == 201
    with open(samples["gbk.txt"], "rb") as b:
        assert client.post("/v1/kb/产品手册/files", files=[("files", ("gbk.txt", b))]).status_code == 200
    assert client.post("/v1/kb/产品手册/search", json={"query": "熊猫吃什么？", "k": 1}).json()["results"]
    assert "kb:产品手册" in [m["id"] for m in client.get("/v1/models").json()["data"]]
    refused = client.post("/v1/kb", json={"name": "../outside"})
    assert refused.status_code == 400 and "not a valid knowledge-base name" in refused.json()["error"]["message"]


def test_kb_upload_without_onnxruntime_warns_with_the_install_command(tmp_path, monkeypatch):
    """onnxruntime missing (made unimportable as in test_kb's CLI test): the upload still goes in
    (torch embeds it; guide.md's vectors usually come from the cache the test above filled) and
    the response carries the note `llmp kb add` prints, in the server's language."""
    from llm_practice.settings import get_settings

    guide = write_samples(tmp_path / "docs")["guide.md"]
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    client = TestClient(create_app(ServeConfig(ui=False), served={}), base_url="http://127.0.0.1")
    assert client.post("/v1/kb", json={"name": "slow"}).status_code == 201
    added = client.post("/v1/kb/slow/files", files=[("files", ("guide.md", guide.read_bytes()))]).json()
    assert len(added["added"]) == 1 and added["chunks"] > 0
    [warning] = added["warnings"]
    assert warning["code"] == "slow_embedding_runtime" and warning["missing"] == ["onnxruntime"]
    assert warning["message"].startswith("Note: onnxruntime not installed, so documents are embedded by torch")
    assert "pip install 'llm-practice[rag]'" in warning["message"]
    monkeypatch.setenv("LLMP_LANG", "zh")
    get_settings.cache_clear()
    again = client.post("/v1/kb/slow/files", files=[("files", ("guide.md", guide.read_bytes()))]).json()
    assert len(again["unchanged"]) == 1
    assert again["warnings"][0]["message"].startswith("提示：未安装 onnxruntime")
    assert "pip install 'llm-practice[rag]'" in again["warnings"][0]["message"]
