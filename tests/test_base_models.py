"""A base model (no chat template) says so in both engines and continues text instead.

The base GGUF is the bundled SmolLM2 GGUF with its `tokenizer.chat_template` key dropped (the
`gguf` package's writer); the base HF folder is its dequantised folder without the template.
"""

from __future__ import annotations

import json
import shutil

import httpx
import pytest

from .conftest import run_llmp
from .servers import LiveServer

pytestmark = pytest.mark.integration

QUESTION = "Tell me the name of the capital of France."
TEXT = "The capital of France is"


def drop_chat_template(source, target) -> None:
    import gguf
    from gguf.scripts.gguf_new_metadata import copy_with_new_metadata

    reader = gguf.GGUFReader(source)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(target, arch=arch, endianess=reader.endianess)
    copy_with_new_metadata(reader, writer, {}, [gguf.Keys.Tokenizer.CHAT_TEMPLATE])


@pytest.fixture(scope="module")
def base_models(tmp_path_factory, shared_cache):
    """(home, names): a base GGUF and a base HF folder imported into one LLMP_HOME."""
    from llm_practice.models.registry import get_model

    home = tmp_path_factory.mktemp("home")
    env = {"LLMP_HOME": str(home), "LLMP_CACHE": str(shared_cache)}
    folder = tmp_path_factory.mktemp("base")
    drop_chat_template(get_model("smollm2-135m-instruct").path, folder / "smol-base.gguf")
    assert run_llmp("models", "import", str(folder / "smol-base.gguf"), "--name", "smol-base",
                    env=env).returncode == 0
    # The HF folder: the instruct model's transformers folder, its chat template removed.
    mp = pytest.MonkeyPatch()
    mp.setenv("LLMP_CACHE", str(shared_cache))
    from llm_practice.chat.hf import dequantized_folder
    from llm_practice.settings import get_settings

    get_settings.cache_clear()
    try:
        source = dequantized_folder(get_model("smollm2-135m-instruct").path)
    finally:
        mp.undo()
        get_settings.cache_clear()
    hf = folder / "smol-base-hf"
    shutil.copytree(source, hf)
    (hf / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((hf / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (hf / "tokenizer_config.json").write_text(json.dumps(config))
    assert run_llmp("models", "import", str(hf), "--name", "smol-base-hf", env=env).returncode == 0
    return home, env


CASES = [("smol-base", "llama.cpp"), ("smol-base", "transformers"), ("smol-base-hf", "transformers")]


@pytest.mark.parametrize("name,engine", CASES)
def test_chat_says_it_is_a_base_model(base_models, name, engine):
    _, env = base_models
    result = run_llmp("chat", name, "--engine", engine, "--once", QUESTION, env=env)
    assert result.returncode == 4, result.stderr  # ModelFormatError's exit code
    assert "is a base model" in result.stderr and "no chat template" in result.stderr
    assert f'llmp complete {name}' in result.stderr and "--raw" in result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("name,engine", CASES)
def test_complete_and_raw_continue_the_text(base_models, name, engine):
    _, env = base_models
    args = ["--engine", engine, "--temperature", "0", "--max-tokens", "6"]
    result = run_llmp("complete", name, TEXT, *args, env=env)
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout
    raw = run_llmp("chat", name, "--raw", "--once", TEXT, *args, env=env)
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout == result.stdout


def test_server_completes_and_refuses_chat_for_a_base_model(base_models, shared_cache):
    home, _ = base_models
    with LiveServer("smol-base", home=home, cache=shared_cache) as live:
        done = httpx.post(live.url + "/v1/completions", timeout=120, json={
            "model": "smol-base", "prompt": TEXT, "max_tokens": 6, "temperature": 0})
        assert done.status_code == 200, done.text
        assert "Paris" in done.json()["choices"][0]["text"]
        chat = httpx.post(live.url + "/v1/chat/completions", timeout=120, json={
            "model": "smol-base", "messages": [{"role": "user", "content": QUESTION}]})
        assert chat.status_code == 400
        error = chat.json()["error"]
        assert "base model" in error["message"] and "/v1/completions" in error["message"]
