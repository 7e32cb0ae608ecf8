"""`llmp prompt compare`: checks, inputs files, the real bundled model, an OpenAI-compatible server.

The OpenAI-compatible path is tested against a small real HTTP server on 127.0.0.1 that wraps
the bundled model through `ChatEngine` (the project's own server is built separately), so every
answer in these tests comes from the real model.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from llm_practice.chat.engine import GenerationParams, load_engine
from llm_practice.cli.main import cli
from llm_practice.errors import EndpointError, PromptFileError
from llm_practice.models.registry import get_model
from llm_practice.prompts.backends import remote_backend
from llm_practice.prompts.checks import Check, count_words, parse_judge_score, run_check
from llm_practice.prompts.compare import CompareConfig, ResultCache, compare_prompts, load_cases
from llm_practice.prompts.library import TextPrompt, find_prompt

from .conftest import run_llmp

CASES_YAML = """
checks:
  - max_words: 80
cases:
  - id: france
    question: Tell me the name of the capital of France.
    checks:
      - contains: paris
      - regex: "(?i)capital"
  - id: json
    question: What is 2 + 2?
    checks:
      - json: true
"""
DIRECT = "Answer the question in <q> tags in one short sentence.\n<q>{question}</q>\n"
TEACHER = """
role: a geography teacher
task: Answer the question in one sentence.
input: {question: "{question}"}
output: {format: text}
length: 1 sentences
variables: [question]
"""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# --- checks and inputs files (no model) --------------------------------------------------------

def test_checks_pass_and_fail_with_details():
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    assert run_check(Check(json_schema=schema), '```json\n{"age": 3}\n```').passed
    bad = run_check(Check(json_schema=schema), '{"age": "three"}')
    assert not bad.passed and bad.detail.startswith("age:") and "integer" in bad.detail
    assert not run_check(Check(json_schema=schema), "Sure! {").passed
    assert run_check(Check(json=True), '[1, 2]').passed and not run_check(Check(json=True), "no").passed
    assert run_check(Check(contains="PARIS"), "It is Paris.").passed
    assert run_check(Check(not_contains="as an ai"), "As an AI, I ...").passed is False
    assert run_check(Check(regex=r"^\d{4}$"), "2024").passed
    assert run_check(Check(max_chars=5), "123456").detail == "6 chars"
    assert count_words("我爱北京 and Paris") == 6
    assert run_check(Check(max_words=3), "一二三四").passed is False
    assert parse_judge_score("Score: 4 - clear") == 4 and parse_judge_score("no idea") is None


@pytest.mark.parametrize("check,problem", [
    ({"contains": "a", "regex": "b"}, "exactly one"),
    ({"regex": "("}, "not valid"),
    ({"json_schema": {"type": "nonsense"}}, "not a valid JSON Schema"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_bad_checks_are_refused_before_running(tmp_path, check, problem):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({"q": "hi"}) + "\n" + json.dumps({"q": "x", "checks": [check]}) + "\n")
    with pytest.raises(PromptFileError) as err:
        load_cases(path)
    assert problem in str(err.value) and f"{path}:2" in str(err.value)


def test_inputs_file_shapes(tmp_path):
    yaml_path = tmp_path / "cases.yaml"
    yaml_path.write_text(CASES_YAML)
    cases = load_cases(yaml_path)
    assert [c.id for c in cases] == ["france", "json"]
    assert cases[0].vars == {"question": "Tell me the name of the capital of France."}
    assert [c.kind for c in cases[0].checks] == ["max_words", "contains", "regex"]  # shared first
    listed = tmp_path / "cases.json"
    listed.write_text(json.dumps([{"id": "a", "vars": {"x": 1}}, {"x": "2"}]))
    assert [(c.id, c.vars) for c in load_cases(listed)] == [("a", {"x": "1"}), ("case2", {"x": "2"})]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"x": 1}\n{oops\n')
    with pytest.raises(PromptFileError, match="broken.jsonl:2"):
        load_cases(broken)
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps([{"id": "a"}, {"id": "a"}]))
    with pytest.raises(PromptFileError, match="more than once"):
        load_cases(dup)


# --- a real OpenAI-compatible server around the bundled model ----------------------------------

class _Server:
    def __init__(self):
        # one thread: other test runs share the 2 cores, and llama.cpp threads spin under contention
        self.engine = load_engine(get_model("smollm2-135m-instruct"), "llama.cpp", threads=1)
        self.lock = threading.Lock()
        self.inflight = 0
        self.max_inflight = 0
        self.bodies: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code: int, data: dict):
                raw = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                if self.path == "/v1/models":
                    return self._send(200, {"object": "list", "data": [{"id": "smollm2-135m-instruct"}]})
                self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if body.get("model") != "smollm2-135m-instruct":
                    return self._send(404, {"error": {"message": f"no model {body.get('model')}"}})
                with server.lock:
                    server.inflight += 1
                    server.max_inflight = max(server.max_inflight, server.inflight)
                    server.bodies.append(body)
                time.sleep(0.05)  # let concurrent requests overlap before the engine serialises them
                try:
                    with server.lock:
                        params = GenerationParams(temperature=body["temperature"], top_p=body["top_p"],
                                                  max_tokens=body["max_tokens"], seed=body.get("seed"))
                        stream = server.engine.chat(body["messages"], params)
                        text = stream.text()
                finally:
                    with server.lock:
                        server.inflight -= 1
                usage = {"prompt_tokens": stream.prompt_tokens, "completion_tokens": stream.completion_tokens,
                         "total_tokens": stream.prompt_tokens + stream.completion_tokens}
                if not body.get("stream"):
                    return self._send(200, {"id": "x", "object": "chat.completion", "model": body["model"],
                                            "choices": [{"index": 0, "finish_reason": stream.finish_reason,
                                                         "message": {"role": "assistant", "content": text}}],
                                            "usage": usage})
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
                events = [chunk | {"choices": [{"index": 0, "delta": {"content": text}}]},
                          chunk | {"choices": [{"index": 0, "delta": {}, "finish_reason": stream.finish_reason}]},
                          chunk | {"choices": [], "usage": usage}]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    srv = _Server()
    yield srv
    srv.close()


@pytest.fixture
def cases_file(tmp_path):
    path = tmp_path / "cases.yaml"
    path.write_text(CASES_YAML)
    return path


@pytest.mark.integration
def test_compare_through_an_openai_compatible_server(server, cases_file, tmp_path):
    variants = {"direct": TextPrompt("direct", DIRECT), "teacher": find_prompt(_write(tmp_path, "t.yaml", TEACHER))}
    backend = remote_backend(server.url)  # model name discovered from GET /v1/models
    assert backend.id.endswith(":smollm2-135m-instruct")
    server.bodies.clear()
    server.max_inflight = 0
    report = compare_prompts(variants, load_cases(cases_file), backend,
                             CompareConfig(max_tokens=24, concurrency=4))
    assert server.max_inflight >= 2  # requests really were in flight together
    assert len(server.bodies) == 4
    assert all(b["seed"] == 0 and b["temperature"] == 0 and b["max_tokens"] == 24 for b in server.bodies)
    france = report.cell("france", "direct")
    assert "Paris" in france.output and france.checks[1].passed and france.completion_tokens > 0
    assert report.cell("json", "teacher").checks[-1].kind == "json"
    assert [s["variant"] for s in report.summary()] == ["direct", "teacher"]

    again = compare_prompts(variants, load_cases(cases_file), backend, CompareConfig(max_tokens=24))
    assert len(server.bodies) == 4  # every answer came from the cache
    assert all(r.cached for r in again.results)
    assert [r.output for r in again.results] == [r.output for r in report.results]
    fresh = compare_prompts(variants, load_cases(cases_file), backend, CompareConfig(max_tokens=24),
                            cache=ResultCache(enabled=False))
    assert len(server.bodies) == 8 and [r.output for r in fresh.results] == [r.output for r in report.results]
    backend.close()


@pytest.mark.integration
def test_cli_compare_base_url_with_judge_writes_reports(server, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"id": "fr", "question": "Tell me the name of the capital of France.",
                                 "checks": [{"contains": "Paris"},
                                            {"judge": "The answer names Paris.", "min_score": 1}]}) + "\n")
    direct = _write(tmp_path, "direct.txt", DIRECT)
    out = tmp_path / "out"
    result = invoke("prompt", "compare", direct, "summarize", "--inputs", str(cases), "--base-url", server.url,
                    "--model", "smollm2-135m-instruct", "--max-tokens", "24", "--out", str(out), "--json")
    assert result.exit_code == 2 and "missing value for {text}" in result.output  # summarize needs {text}

    result = invoke("prompt", "compare", direct, "--inputs", str(cases), "--base-url", server.url,
                    "--max-tokens", "24", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Paris" in result.output and "Wrote" in result.output
    data = json.loads((out / "compare.json").read_text())
    judge = data["results"][0]["checks"][1]
    assert judge["kind"] == "judge" and ("score" in judge["detail"])
    rows = list(csv.DictReader(io.StringIO((out / "compare.csv").read_text(encoding="utf-8"))))
    assert [(r["case"], r["variant"]) for r in rows] == [("fr", "direct")]
    assert "Paris" in rows[0]["output"] and "contains" in rows[0]["checks"]
    _assert_self_contained_html((out / "compare.html").read_text(encoding="utf-8"), ["direct"], ["fr"])


def test_unreachable_endpoint_is_a_clear_error(tmp_path, cases_file):
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    direct = _write(tmp_path, "direct.txt", DIRECT)
    result = invoke("prompt", "compare", direct, "--inputs", str(cases_file), "--base-url",
                    f"http://127.0.0.1:{port}/v1")
    assert result.exit_code == 7
    assert f"127.0.0.1:{port}/v1/models" in result.output and "cannot connect" in result.output
    with pytest.raises(EndpointError):
        remote_backend(f"http://127.0.0.1:{port}/v1", model="m").complete([], GenerationParams())


# --- the local engine end to end, as a user runs it -------------------------------------------

@pytest.mark.integration
def test_cli_compare_with_the_bundled_model(tmp_path, cases_file):
    direct = _write(tmp_path, "direct.txt", DIRECT)
    teacher = _write(tmp_path, "teacher.yaml", TEACHER)
    out = tmp_path / "report"
    args = ("prompt", "compare", direct, teacher, "--inputs", str(cases_file), "--max-tokens", "24",
            "--out", str(out))
    first = run_llmp(*args, env={"LLMP_THREADS": "1"})
    assert first.returncode == 0, first.stderr
    assert "Paris" in first.stdout and "direct" in first.stdout and "teacher" in first.stdout
    report = json.loads((out / "compare.json").read_text())
    assert report["backend"].startswith("local:smollm2-135m-instruct:llama.cpp")
    assert report["config"]["seed"] == 0 and report["config"]["temperature"] == 0
    assert len(report["results"]) == 4 and not any(r["cached"] for r in report["results"])
    assert report["results"][0]["passed"] is True  # direct x france: contains paris, regex, max_words
    _assert_self_contained_html((out / "compare.html").read_text(encoding="utf-8"), ["direct", "teacher"],
                                ["france", "json"])

    second = run_llmp(*args, "--json", env={"LLMP_THREADS": "1"})
    again = json.loads(second.stdout)
    assert all(r["cached"] for r in again["results"])
    assert [r["output"] for r in again["results"]] == [r["output"] for r in report["results"]]


# --- helpers ------------------------------------------------------------------------------------

def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.external = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-case" in attrs:
            self.cells.append((attrs["data-case"], attrs["data-variant"]))
        for key in ("src", "href"):
            if attrs.get(key, "").startswith(("http", "//")):
                self.external.append(attrs[key])
        if tag in ("script", "link"):
            self.external.append(tag)


def _assert_self_contained_html(text: str, variants: list[str], cases: list[str]) -> None:
    parser = _Cells()
    parser.feed(text)
    assert parser.external == []  # no scripts, stylesheets or images from elsewhere
    assert parser.cells == [(c, v) for c in cases for v in variants]
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text
