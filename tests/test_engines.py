"""The engine seams: LangChain over our engines, and the `openai` engine against a real server."""

from __future__ import annotations

import pytest

from llm_practice.chat.engine import ENGINES, GenerationParams, load_engine
from llm_practice.models.registry import get_model

from .servers import LiveServer

pytestmark = pytest.mark.integration

QUESTION = "Tell me the name of the capital of France."


@pytest.fixture(scope="module")
def local_engine(shared_cache, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LLMP_CACHE", str(shared_cache))
    mp.setenv("LLMP_HOME", str(tmp_path_factory.mktemp("home")))
    try:
        yield load_engine(get_model("smollm2-135m-instruct"), threads=1)
    finally:
        mp.undo()


def test_langchain_chat_model_over_a_local_engine(local_engine):
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_core.prompts import ChatPromptTemplate

    from llm_practice.chat.langchain import LlmpChatModel

    llm = LlmpChatModel(engine=local_engine, temperature=0, max_tokens=48)
    reply = llm.invoke([SystemMessage("Answer briefly."), HumanMessage(QUESTION)])
    assert "Paris" in reply.content
    assert reply.usage_metadata["output_tokens"] > 0 and reply.response_metadata["finish_reason"] == "stop"
    chunks = list(llm.stream(QUESTION))
    assert len([c for c in chunks if c.content]) > 2 and "Paris" in "".join(c.content for c in chunks)
    chain = ChatPromptTemplate.from_messages([("user", "Tell me the name of the capital of {country}.")]) | llm
    assert "Paris" in chain.invoke({"country": "France"}).content
    assert "Paris" not in llm.invoke(QUESTION, stop=["Paris"]).content


def test_openai_engine_is_registered_and_reaches_llmp_serve(tmp_path, shared_cache):
    from llm_practice.chat.remote import connect
    from llm_practice.errors import EndpointError

    assert ENGINES["openai"].formats == ("remote",)
    with LiveServer("--no-ui", "--parallel", "1", home=tmp_path / "home", cache=shared_cache,
                    key="k1") as live:
        engine = connect(live.url + "/v1", api_key="k1")
        assert engine.model.name == "smollm2-135m-instruct" and engine.model.format == "remote"
        stream = engine.chat([{"role": "user", "content": QUESTION}], GenerationParams(temperature=0))
        assert "Paris" in stream.text()
        assert stream.finish_reason == "stop" and stream.prompt_tokens > 5 and stream.completion_tokens > 0
        cut = engine.complete("The capital of France is", GenerationParams(temperature=0, max_tokens=4))
        cut.text()
        assert cut.finish_reason == "length" and cut.completion_tokens == 4
        with pytest.raises(EndpointError, match="HTTP 404"):
            connect(live.url + "/v1", "no-such-model", api_key="k1").chat(
                [{"role": "user", "content": "hi"}], GenerationParams()).text()


@pytest.mark.parametrize("engine", ["llama.cpp", "transformers"])
def test_a_chinese_answer_cut_by_max_tokens_never_ends_in_a_broken_character(local_engine, engine, shared_cache,
                                                                              monkeypatch):
    """Chinese characters take several byte-level tokens: a token limit often falls inside one.
    The cut character is dropped, never shown as U+FFFD."""
    from llm_practice.chat.langchain import LlmpChatModel

    if engine == "transformers":
        monkeypatch.setenv("LLMP_CACHE", str(shared_cache))
        local_engine = load_engine(get_model("smollm2-135m-instruct"), engine="transformers", threads=1)
    texts = [LlmpChatModel(engine=local_engine, temperature=0, max_tokens=n).invoke("请用中文介绍一下北京。").content
             for n in range(1, 9)]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)  # it did answer in Chinese
    assert all("\ufffd" not in t for t in texts), texts
