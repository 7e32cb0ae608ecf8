"""`llmp serve` as clients meet it: the official openai client, LangChain, raw HTTP, abuse."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from .servers import LiveServer

pytestmark = pytest.mark.integration

KEY = "test-key-123"
Q = [{"role": "user", "content": "Tell me the name of the capital of France."}]


def about_france(text: str) -> bool:
    """The question already holds "France": only naming Paris shows the model answered it."""
    return "Paris" in text


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_cache):
    live = LiveServer("--max-tokens-limit", "1024", home=tmp_path_factory.mktemp("home"),
                      cache=shared_cache, key=KEY)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0)


def test_models_list(client):
    ids = [m.id for m in client.models.list().data]
    assert "smollm2-135m-instruct" in ids and "multilingual-e5-small" in ids


def test_chat_completion_sync(client):
    r = client.chat.completions.create(model="smollm2-135m-instruct", messages=Q, temperature=0)
    assert about_france(r.choices[0].message.content)
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 5 and r.usage.completion_tokens > 0


def test_chat_completion_streaming_with_usage(client):
    chunks = list(client.chat.completions.create(model="smollm2-135m-instruct", messages=Q,
                                                 temperature=0, stream=True,
                                                 stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert about_france(text)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 2  # really streamed
    assert chunks[-1].usage.completion_tokens > 0 and not chunks[-1].choices


def test_async_clients_concurrently(server):
    from openai import AsyncOpenAI

    async def main():
        client = AsyncOpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0)
        questions = ["Tell me the name of the capital of France.", "What is 2+2?",
                     "Name a color.", "Say hello."]
        return await asyncio.gather(*[
            client.chat.completions.create(model="smollm2-135m-instruct", temperature=0, max_tokens=40,
                                           messages=[{"role": "user", "content": q}])
            for q in questions])

    results = asyncio.run(main())
    answers = [r.choices[0].message.content for r in results]
    assert all(answers)
    # Each answer belongs to its own question: no cross-talk between batched conversations.
    # (Batching changes float rounding, so greedy text may differ from a lone request's.)
    assert about_france(answers[0])
    assert "4" in answers[1]


def test_seed_and_stop(client):
    kwargs = dict(model="smollm2-135m-instruct", temperature=1.0, seed=11, max_tokens=30,
                  messages=[{"role": "user", "content": "Tell me a fun fact."}])
    a = client.chat.completions.create(**kwargs).choices[0].message.content
    b = client.chat.completions.create(**kwargs).choices[0].message.content
    assert a == b
    r = client.chat.completions.create(model="smollm2-135m-instruct", temperature=0, stop=["Paris"],
                                       messages=Q)
    assert "Paris" not in r.choices[0].message.content and r.choices[0].finish_reason == "stop"


def test_json_response_format(client):
    r = client.chat.completions.create(
        model="smollm2-135m-instruct", temperature=0, max_tokens=80,
        response_format={"type": "json_object"},
        messages=[{"role": "user", "content": "Give a JSON object with the keys city and country for Paris."}])
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_completions_endpoint(client):
    r = client.completions.create(model="smollm2-135m-instruct", prompt="The capital of France is",
                                  temperature=0, max_tokens=8)
    assert "Paris" in r.choices[0].text
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 8


def test_embeddings(client):
    r = client.embeddings.create(model="multilingual-e5-small",
                                 input=["北京是中国的首都", "Bananas are yellow fruit."])
    assert [len(d.embedding) for d in r.data] == [384, 384]
    q = client.embeddings.create(model="multilingual-e5-small", input="中国的首都是哪里",
                                 extra_body={"input_type": "query"}).data[0].embedding
    dot = [sum(a * b for a, b in zip(q, d.embedding)) for d in r.data]
    assert dot[0] > dot[1]
    assert r.usage.prompt_tokens > 0


def test_langchain_chat_openai(server):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=server.url + "/v1", api_key=KEY, model="smollm2-135m-instruct",
                     temperature=0, max_retries=0)
    assert about_france(llm.invoke("Tell me the name of the capital of France.").content)
    assert about_france("".join(c.content for c in llm.stream("Tell me the name of the capital of France.")))


def test_knowledge_base_as_a_model_with_sources(server, client, tmp_path):
    """`kb:NAME` in /v1/models and /v1/chat/completions: grounded answer, numbered sources back."""
    import openai

    from .rag_samples import write_samples

    guide = write_samples(tmp_path)["guide.md"]
    api = httpx.Client(base_url=server.url, headers=server.headers, timeout=300)
    assert api.post("/v1/kb", json={"name": "docs"}).status_code == 201
    with open(guide, "rb") as f:
        assert api.post("/v1/kb/docs/files", files=[("files", ("guide.md", f))]).json()["chunks"] > 0
    assert "kb:docs" in [m.id for m in client.models.list().data]
    question = [{"role": "user", "content": "端口在哪个文件里设置？"}]
    r = client.chat.completions.create(model="kb:docs", messages=question, temperature=0, max_tokens=40)
    sources = r.model_extra["sources"]
    assert r.model == "kb:docs" and sources[0]["n"] == 1 and sources[0]["source"].endswith("guide.md#安装指南 > 配置")
    assert "8080" in sources[0]["text"] and r.usage.completion_tokens > 0
    footer = f"来源：\n[1] {sources[0]['source']}" + "".join(f"\n[{s['n']}] {s['source']}" for s in sources[1:])
    assert r.choices[0].message.content.endswith(footer)
    chunks = list(client.chat.completions.create(model="kb:docs", messages=question, temperature=0,
                                                 max_tokens=40, stream=True))
    assert chunks[0].model_extra["sources"] == sources
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) > 2 and "".join(deltas).endswith(footer)  # streamed, then the same sources
    unknown = client.chat.completions.create(
        model="kb:docs", messages=[{"role": "user", "content": "Who won the 1954 football world cup?"}])
    assert unknown.choices[0].message.content.startswith("I don't know") and unknown.model_extra["sources"] == []
    with pytest.raises(openai.NotFoundError, match="nope"):
        client.chat.completions.create(model="kb:nope", messages=question)


def _err(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    return body["error"]


def test_auth_required(server):
    url = server.url + "/v1/chat/completions"
    assert _err(httpx.post(url, json={"messages": Q}), 401)["type"] == "authentication_error"
    _err(httpx.post(url, json={"messages": Q}, headers={"Authorization": "Bearer wrong"}), 401)
    _err(httpx.get(server.url + "/v1/models"), 401)
    assert httpx.get(server.url + "/health").status_code == 200


@pytest.mark.parametrize("body,param", [
    ({"messages": "hi"}, "messages"),
    ({"messages": []}, "messages"),
    ({"messages": Q, "temperature": "hot"}, "temperature"),
    ({"messages": Q, "max_tokens": -5}, "max_tokens"),
    ({"messages": Q, "max_tokens": 100000}, "max_tokens"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
    ({"messages": Q, "n": 3}, "n"),
])
def test_bad_requests_are_400_in_openai_shape(server, body, param):
    r = httpx.post(server.url + "/v1/chat/completions", json=body, headers=server.headers)
    err = _err(r, 400)
    assert err["param"] == param, err


def test_bad_json_unknown_model_huge_body(server):
    h = {**server.headers, "Content-Type": "application/json"}
    _err(httpx.post(server.url + "/v1/chat/completions", content=b"{not json", headers=h), 400)
    err = _err(httpx.post(server.url + "/v1/chat/completions", headers=server.headers,
                          json={"model": "gpt-9", "messages": Q}), 404)
    assert "smollm2-135m-instruct" in err["message"]
    huge = {"messages": [{"role": "user", "content": "x" * 2_000_000}]}
    _err(httpx.post(server.url + "/v1/chat/completions", json=huge, headers=server.headers), 413)


def test_llmp_chat_base_url_talks_to_a_real_llmp_serve(server):
    from .conftest import run_llmp

    result = run_llmp("chat", "--base-url", server.url + "/v1", "--api-key", KEY, "--once",
                      Q[0]["content"], "--temperature", "0", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"] == "openai" and data["model"] == "smollm2-135m-instruct"
    assert "Paris" in data["answer"] and data["finish_reason"] == "stop"
    assert data["usage"]["completion_tokens"] > 0
    # the same engine, template and sampler as `llmp chat` on the local model: the same answer
    local = run_llmp("chat", "--once", Q[0]["content"], "--temperature", "0", "--json")
    assert json.loads(local.stdout)["answer"] == data["answer"]
    wrong = run_llmp("chat", "--base-url", server.url + "/v1", "--api-key", "nope", "--once", "hi")
    assert wrong.returncode == 7 and "HTTP 401" in wrong.stderr and "--api-key" in wrong.stderr


def test_metrics(server, client):
    client.chat.completions.create(model="smollm2-135m-instruct", messages=Q, max_tokens=5)
    text = httpx.get(server.url + "/metrics").text
    assert 'llmp_requests_total{endpoint="/v1/chat/completions",status="200"}' in text
    assert 'llmp_tokens_total{kind="completion",model="smollm2-135m-instruct"}' in text
    assert "llmp_queue_depth" in text and "llmp_request_seconds_bucket" in text


# -- a small server for limits: one slot, one waiting place ------------------------------------


@pytest.fixture(scope="module")
def tight(tmp_path_factory, shared_cache):
    live = LiveServer("--parallel", "1", "--queue", "1", "--max-tokens-limit", "2000", "--no-ui",
                      home=tmp_path_factory.mktemp("home"), cache=shared_cache)
    yield live
    live.stop()


def _running(server) -> float:
    for line in httpx.get(server.url + "/metrics").text.splitlines():
        if line.startswith("llmp_running_requests{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no llmp_running_requests metric")


def test_queue_full_gives_429_and_disconnect_frees_the_slot(tight):
    long = {"messages": [{"role": "user", "content": "Write a very long story about dragons."}],
            "max_tokens": 2000, "temperature": 0, "stream": True}
    with httpx.Client(timeout=60) as c1, httpx.Client(timeout=60) as c2:
        with c1.stream("POST", tight.url + "/v1/chat/completions", json=long) as first:
            lines = first.iter_lines()
            assert next(lines).startswith("data: ")  # generating: the only slot is taken
            statuses = []

            def waiter():  # takes the one waiting place
                statuses.append(c2.post(tight.url + "/v1/chat/completions",
                                        json={**long, "stream": False, "max_tokens": 5}).status_code)

            t = threading.Thread(target=waiter)
            t.start()
            time.sleep(1.0)
            third = httpx.post(tight.url + "/v1/chat/completions", json={**long, "stream": False})
            assert third.status_code == 429
            assert third.json() == {"error": {
                "message": third.json()["error"]["message"], "type": "rate_limit_error", "param": None,
                "code": "queue_full"}}
            assert "busy" in third.json()["error"]["message"]
            # a streaming request is refused before any 200 goes out, in the same shape
            with httpx.stream("POST", tight.url + "/v1/chat/completions", json=long) as streaming:
                assert streaming.status_code == 429
                assert json.loads(streaming.read())["error"]["code"] == "queue_full"
            rejected = [line for line in httpx.get(tight.url + "/metrics").text.splitlines()
                        if line.startswith('llmp_requests_total{endpoint="/v1/chat/completions",status="429"}')]
            assert rejected and float(rejected[0].rsplit(" ", 1)[1]) == 2
        # leaving the `with` closed the first stream: its slot goes to the waiter
        t.join(60)
        assert statuses == [200]
    deadline = time.time() + 10
    while _running(tight) != 0 and time.time() < deadline:
        time.sleep(0.2)
    assert _running(tight) == 0


def test_schemathesis_finds_no_server_errors(tmp_path, shared_cache):
    with LiveServer("--parallel", "2", "--max-tokens-limit", "16", "--no-ui", home=tmp_path / "home",
                    cache=shared_cache) as fuzz:
        _fuzz(fuzz)


def _fuzz(server):
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", server.url + "/openapi.json",
           "--checks", "not_a_server_error", "--max-examples", "30", "--seed", "1",
           "--request-timeout", "60", "--phases", "examples,fuzzing"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]


def test_next_turn_reuses_the_cached_prefix(client):
    first = client.chat.completions.create(model="smollm2-135m-instruct", messages=Q, temperature=0)
    answer = first.choices[0].message.content
    follow = Q + [{"role": "assistant", "content": answer},
                  {"role": "user", "content": "And which city is the capital of Italy?"}]
    r = client.chat.completions.create(model="smollm2-135m-instruct", messages=follow, temperature=0)
    assert r.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens - 1
    again = client.chat.completions.create(model="smollm2-135m-instruct", messages=Q, temperature=0)
    assert again.choices[0].message.content == answer  # the cache does not change the answer


def test_transformers_engine_serves_and_refuses_json_mode(tmp_path, shared_cache):
    with LiveServer("--engine", "transformers", "--no-ui", home=tmp_path / "home",
                    cache=shared_cache) as live:
        url = live.url + "/v1/chat/completions"
        ok = httpx.post(url, json={"messages": Q, "temperature": 0, "max_tokens": 30}, timeout=120)
        assert ok.status_code == 200 and about_france(ok.json()["choices"][0]["message"]["content"])
        refused = httpx.post(url, json={"messages": Q, "response_format": {"type": "json_object"}},
                             timeout=60)
    err = _err(refused, 400)
    assert err["param"] == "response_format" and "llama.cpp" in err["message"]


def test_serve_quant_reencodes_once_and_serves(tmp_path, shared_cache):
    from llm_practice.models.gguf import inspect_gguf

    with LiveServer("--serve-quant", "q8_0", "--no-ui", home=tmp_path / "home", cache=shared_cache) as live:
        r = httpx.post(live.url + "/v1/chat/completions", timeout=60,
                       json={"messages": Q, "temperature": 0, "max_tokens": 30})
    assert r.status_code == 200 and about_france(r.json()["choices"][0]["message"]["content"])
    (converted,) = (shared_cache / "requantized").glob("*-q8_0.gguf")
    assert inspect_gguf(converted).file_type == "Q8_0"
    assert not list((shared_cache / "requantized").glob(".*.tmp"))
