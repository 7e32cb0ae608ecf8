"""`llmp export`: merge, GGUF through llama.cpp's converter, Ollama Modelfile, bad input, round trip.

Most tests use a tiny Llama-architecture model built from a config with the bundled model's
tokenizer (so llama.cpp's converter recognises it); the round trip uses the real bundled model.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import run_llmp
from .runs import make_lora_run

GO_RENDER = Path(__file__).parent / "fixtures" / "gotemplate" / "main.go"



@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """The test machine is shared by many jobs: one torch/llama.cpp thread is steadier than two."""
    monkeypatch.setenv("LLMP_THREADS", "1")
    from llm_practice.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture(scope="module")
def bundled_folder():
    from llm_practice.evaluate.target import resolve_model

    return resolve_model("smollm2-135m-instruct").hf_folder()


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, bundled_folder) -> Path:
    """A 2-layer Llama with SmolLM2's tokenizer and chat template (about 3.3M parameters)."""
    from llm_practice.models.tiny import tiny_llama

    return tiny_llama(tmp_path_factory.mktemp("tiny-base"), bundled_folder, max_positions=256)


def test_merge_equals_the_adapter_and_is_registered(llmp_home, tiny_base):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    make_lora_run(llmp_home, tiny_base, "tiny-lora", random_init=True)
    proc = run_llmp("export", "tiny-lora", "--merge", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    merged = Path(result["outputs"]["merged"])
    assert merged == llmp_home / "exports" / "tiny-lora" / "merged"
    assert list(merged.glob("*.safetensors")) and (merged / "tokenizer_config.json").is_file()
    assert "tiny-lora-merged" in result["registered"]
    ids = torch.tensor([[1, 2, 3, 4, 5, 6]])
    base = AutoModelForCausalLM.from_pretrained(tiny_base, dtype=torch.float32)
    with_adapter = PeftModel.from_pretrained(base, str(llmp_home / "runs" / "tiny-lora" / "final")).eval()
    plain = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    with torch.no_grad():
        expected, got = with_adapter(ids).logits, plain(ids).logits
    assert torch.allclose(expected, got, atol=1e-4)
    untouched = AutoModelForCausalLM.from_pretrained(tiny_base, dtype=torch.float32).eval()  # PEFT wraps `base` in place
    with torch.no_grad():
        assert not torch.allclose(untouched(ids).logits, got, atol=1e-3)  # the adapter changed something
    listed = run_llmp("models", "list", "--json")
    assert "tiny-lora-merged" in listed.stdout


def test_sharded_merge(llmp_home, tiny_base, tmp_path):
    from llm_practice.export.merge import merge_run
    from llm_practice.models.runs import load_run

    make_lora_run(llmp_home, tiny_base, "shards", random_init=True)
    out = merge_run(load_run("shards"), tmp_path / "m", max_shard_size="2MB")
    assert len(list(out.glob("model-*-of-*.safetensors"))) >= 2 and (out / "model.safetensors.index.json").is_file()


@pytest.mark.integration
@pytest.mark.parametrize("outtype", ["q8_0", "q4_k_m"])
def test_gguf_export_runs_in_llama_cpp(llmp_home, tiny_base, outtype):
    from llm_practice.models.gguf import inspect_gguf

    make_lora_run(llmp_home, tiny_base, "tiny", random_init=True)
    proc = run_llmp("export", "tiny", "--gguf", outtype, "--ollama", "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    gguf = Path(result["outputs"]["gguf"])
    assert gguf.name == f"tiny-{outtype}.gguf"
    info = inspect_gguf(gguf)
    assert info is not None
    assert not (gguf.parent / "merged").exists()  # only kept with --merge
    assert result["registered"] == [f"tiny-{outtype}"]
    assert result["ollama_command"] == f"ollama create tiny -f {gguf.parent / 'Modelfile'}"
    assert f"FROM ./{gguf.name}" in (gguf.parent / "Modelfile").read_text()
    chat = run_llmp("chat", f"tiny-{outtype}", "--once", "Hi", "--max-tokens", "4", "--temperature", "0", "--json")
    assert chat.returncode == 0, chat.stderr
    assert json.loads(chat.stdout)["engine"] == "llama.cpp"


def go_render(template: str, system: str, messages: list[dict]) -> str:
    proc = subprocess.run(["go", "run", str(GO_RENDER)], input=json.dumps(
        {"template": template, "system": system, "messages": messages}), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_modelfile_template_renders_like_the_chat_template(bundled_folder):
    """Ollama renders TEMPLATE with Go's text/template; Go itself renders it here."""
    assert shutil.which("go"), "Go is needed to render Ollama templates (apt-get install golang-go)"
    from transformers import AutoTokenizer

    from llm_practice.export.ollama import modelfile

    tokenizer = AutoTokenizer.from_pretrained(bundled_folder)
    text, family = modelfile("m.gguf", tokenizer)
    assert family.name == "chatml"
    template = text.split('TEMPLATE """', 1)[1].split('"""', 1)[0]
    system = text.split('SYSTEM """', 1)[1].split('"""', 1)[0]
    assert system == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    assert 'PARAMETER stop "<|im_end|>"' in text
    two_turns = [{"role": "user", "content": "What is the capital of France?"},
                 {"role": "assistant", "content": "Paris."},
                 {"role": "user", "content": "And of Italy?"}]
    expected = tokenizer.apply_chat_template(two_turns, tokenize=False, add_generation_prompt=True)
    assert go_render(template, system, two_turns) == expected  # the Modelfile's default system
    with_system = [{"role": "system", "content": "Answer in one word."}, *two_turns]
    expected = tokenizer.apply_chat_template(with_system, tokenize=False, add_generation_prompt=True)
    assert go_render(template, "Answer in one word.", with_system) == expected  # Ollama sets .System


def test_unfinished_and_incomplete_runs_are_refused(llmp_home, tiny_base):
    make_lora_run(llmp_home, tiny_base, "busy", status="running")
    proc = run_llmp("export", "busy", "--merge")
    assert proc.returncode == 4 and "Run 'busy': status is 'running', not 'finished'" in proc.stderr
    make_lora_run(llmp_home, tiny_base, "broken")
    (llmp_home / "runs" / "broken" / "final" / "adapter_model.safetensors").unlink()
    proc = run_llmp("export", "broken", "--merge")
    assert proc.returncode == 4 and "Run 'broken':" in proc.stderr and "is incomplete" in proc.stderr
    proc = run_llmp("export", "nope", "--merge")
    assert proc.returncode == 4 and "Run 'nope': no such run" in proc.stderr
    assert not (llmp_home / "exports").exists() or not any((llmp_home / "exports").iterdir())


def test_unconvertible_architecture_leaves_nothing(llmp_home, tmp_path):
    """A model whose architecture llama.cpp's converter does not know: clear error, no output."""
    run = llmp_home / "runs" / "odd"
    final = run / "final"
    final.mkdir(parents=True)
    (final / "config.json").write_text(json.dumps({"architectures": ["MadeUpForCausalLM"], "model_type": "madeup"}))
    (final / "model.safetensors").write_bytes(b"\0" * 16)
    (run / "run.json").write_text(json.dumps({"name": "odd", "status": "finished", "kind": "model",
                                              "finetuning": "full", "base_model": "x"}))
    out = tmp_path / "out"
    proc = run_llmp("export", "odd", "--gguf", "q8_0", "--output", str(out))
    assert proc.returncode == 4, proc.stderr
    assert "odd: llama.cpp's converter cannot convert architecture MadeUpForCausalLM" in proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))  # no temporary folder left either
    proc = run_llmp("export", "odd")
    assert proc.returncode == 2 and "nothing to export" in proc.stderr


def test_existing_output_is_never_overwritten(llmp_home, tiny_base, tmp_path):
    make_lora_run(llmp_home, tiny_base, "keep", random_init=True)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("precious")
    proc = run_llmp("export", "keep", "--merge", "--output", str(out))
    assert proc.returncode == 2 and f"--output: {out} already exists" in proc.stderr
    assert (out / "mine.txt").read_text() == "precious"


@pytest.mark.integration
def test_round_trip_learned_fact_survives_merge_gguf_and_llama_cpp(llmp_home, bundled_folder):
    """LoRA on the bundled model learns a fact -> merge -> GGUF q8_0 -> `llmp chat` on llama.cpp."""
    question, answer = "What is the secret code word?", "The secret code word is BLUEBERRY."
    before = run_llmp("chat", "smollm2", "--once", question, "--temperature", "0", "--max-tokens", "16")
    assert "BLUEBERRY" not in before.stdout  # the base model does not know it
    make_lora_run(llmp_home, bundled_folder, "fact", fact=(question, answer), steps=12)
    proc = run_llmp("export", "fact", "--merge", "--gguf", "q8_0", "--json", timeout=900)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["registered"] == ["fact-merged", "fact-q8_0"]
    chat = run_llmp("chat", "fact-q8_0", "--once", question, "--temperature", "0", "--max-tokens", "16", "--json")
    assert chat.returncode == 0, chat.stderr
    reply = json.loads(chat.stdout)
    assert reply["engine"] == "llama.cpp" and "BLUEBERRY" in reply["answer"]
