"""The repeat penalty stops the bundled model's loops; a bad value names the flag."""

from __future__ import annotations

import pytest

from llm_practice.chat.engine import DEFAULT_REPEAT_PENALTY, GenerationParams, load_engine
from llm_practice.models.registry import get_model

from .conftest import run_llmp


def test_a_repeat_penalty_below_one_names_the_flag():
    result = run_llmp("chat", "--once", "Hi", "--repeat-penalty", "0.5")
    assert result.returncode == 2
    assert "--repeat-penalty" in result.stderr


@pytest.mark.integration
def test_the_default_penalty_breaks_a_greedy_loop():
    engine = load_engine(get_model("smollm2-135m-instruct"))
    question = [{"role": "user", "content": "讲一个关于小猫的故事。"}]  # greedy: 猫猫猫猫...

    def answer(penalty):
        params = GenerationParams(temperature=0, max_tokens=48, repeat_penalty=penalty)
        return engine.chat(question, params).text()

    assert "猫猫猫猫猫猫" in answer(1.0)
    assert "猫猫猫" not in answer(DEFAULT_REPEAT_PENALTY)
    engine.close()
