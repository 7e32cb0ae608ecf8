"""The real bundled model in both engines: correct answers, history, end of turn, scripts."""

from __future__ import annotations

import json

import pytest

from llm_practice.chat.engine import GenerationParams, load_engine
from llm_practice.chat.session import ChatSession
from llm_practice.models.registry import get_model

from .conftest import run_llmp

pytestmark = pytest.mark.integration

GREEDY = GenerationParams(temperature=0, max_tokens=64)


@pytest.fixture(scope="module", params=["llama.cpp", "transformers"])
def engine(request, shared_cache, tmp_path_factory):
    # module-scoped: set the cache for loading outside the per-test fixture
    mp = pytest.MonkeyPatch()
    mp.setenv("LLMP_CACHE", str(shared_cache))
    mp.setenv("LLMP_HOME", str(tmp_path_factory.mktemp("home")))
    from llm_practice.settings import get_settings

    get_settings.cache_clear()
    try:
        yield load_engine(get_model("smollm2-135m-instruct"), request.param)
    finally:
        mp.undo()
        get_settings.cache_clear()


def ask(engine, question, params=GREEDY, system=None):
    session = ChatSession(engine, params, system=system)
    stream = session.ask(question)
    return stream.text(), stream


def test_answers_a_simple_question(engine):
    answer, stream = ask(engine, "Tell me the name of the capital of France.")
    assert "Paris" in answer
    assert stream.prompt_tokens > 5


def test_stops_at_end_of_turn_not_max_tokens(engine):
    params = GenerationParams(temperature=0, max_tokens=400)
    answer, stream = ask(engine, "Tell me the name of the capital of France. Answer in one short sentence.", params)
    assert stream.finish_reason == "stop"
    assert 0 < stream.completion_tokens < 100
    assert "<|im_end|>" not in answer and "<|im_start|>" not in answer


def test_max_tokens_cuts_with_length(engine):
    params = GenerationParams(temperature=0, max_tokens=8)
    _, stream = ask(engine, "Write a long story about a dragon.", params)
    assert stream.finish_reason == "length"
    assert stream.completion_tokens == 8


def test_multi_turn_history_reaches_the_model(engine):
    session = ChatSession(engine, GREEDY)
    session.ask("Tell me the name of the capital of France.").text()
    answer = session.ask("Repeat the city you just named, in one word.").text()
    assert "Paris" in answer
    assert [m["role"] for m in session.messages] == ["user", "assistant", "user", "assistant"]


def test_system_prompt_and_reset(engine):
    session = ChatSession(engine, GREEDY, system="You are a helpful assistant.")
    session.ask("Hello").text()
    assert session.messages[0] == {"role": "system", "content": "You are a helpful assistant."}
    session.reset()
    assert session.messages == [{"role": "system", "content": "You are a helpful assistant."}]


def test_seed_makes_sampling_reproducible(engine):
    params = GenerationParams(temperature=1.0, max_tokens=24, seed=7)
    first, _ = ask(engine, "Tell me a fun fact.", params)
    second, _ = ask(engine, "Tell me a fun fact.", params)
    assert first == second


def test_close_stops_generation_early(engine):
    stream = ChatSession(engine, GenerationParams(temperature=0, max_tokens=300)).ask(
        "Write a long story about a dragon."
    )
    pieces = [next(stream) for _ in range(3)]
    stream.close()
    assert stream.finish_reason == "cancelled"
    assert pieces
    # it really stopped: far fewer than the 300 tokens a full answer would take
    assert 3 <= stream.completion_tokens < 100, stream.completion_tokens


@pytest.mark.parametrize("engine_name", ["llama.cpp", "transformers"])
def test_once_json_from_the_command_line(engine_name):
    result = run_llmp("chat", "--once", "Tell me the name of the capital of France.", "--temperature", "0",
                      "--json", "--engine", engine_name)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "Paris" in data["answer"]
    assert data["finish_reason"] == "stop"
    assert data["engine"] == engine_name and data["model"] == "smollm2-135m-instruct"
    assert data["usage"]["completion_tokens"] > 0


def test_once_prints_only_the_answer_and_reads_stdin():
    result = run_llmp("chat", "--once", "-", "--temperature", "0", input="Tell me the name of the capital of France.")
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout
    assert "Loading" not in result.stdout and ">>>" not in result.stdout
