"""The CLI as a user meets it: help, version, env, models, and the error table."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from llm_practice.cli.main import COMMANDS, cli
from llm_practice.models.bundled import BUNDLED_NAME, bundled_gguf_path

from .conftest import run_llmp


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from llm_practice.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = [m for m in ('torch', 'transformers', 'llama_cpp', 'numpy', 'gguf') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    assert "chat" in out.stdout and "models" in out.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_help_has_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_models_subcommands_have_examples():
    for sub in ("list", "import", "rm"):
        result = invoke("models", sub, "--help")
        assert result.exit_code == 0 and "Example" in result.output, sub


def test_version():
    from llm_practice import __version__

    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_env_json_reports_settings_and_engines(llmp_home, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.com")
    from llm_practice.settings import get_settings

    get_settings.cache_clear()
    result = invoke("env", "--json")
    data = json.loads(result.output)
    assert data["LLMP_HOME"] == str(llmp_home)
    assert data["HF_ENDPOINT"] == "https://hf-mirror.com"
    assert data["engines"] == {"llama.cpp": True, "transformers": True, "openai": True}
    assert data["packages"]["llm-practice"]
    assert data["cpu_cores"] >= 1 and data["ram_total_gb"] > 0


def test_env_table():
    result = invoke("env")
    assert result.exit_code == 0
    assert "LLMP_HOME" in result.output and "engine llama.cpp" in result.output


def test_bundled_model_is_listed():
    result = invoke("models", "list", "--json")
    models = {m["name"]: m for m in json.loads(result.output)}
    assert models[BUNDLED_NAME]["format"] == "gguf"
    assert models[BUNDLED_NAME]["source"] == "bundled"
    assert models[BUNDLED_NAME]["path"].endswith(".gguf")


def test_import_gguf_then_list_then_remove(tmp_path):
    gguf = tmp_path / "My-Model.Q4_1.gguf"
    gguf.symlink_to(bundled_gguf_path())
    result = invoke("models", "import", str(gguf))
    assert result.exit_code == 0, result.output
    assert "my-model.q4_1" in result.output
    names = [m["name"] for m in json.loads(invoke("models", "list", "--json").output)]
    assert "my-model.q4_1" in names and BUNDLED_NAME in names

    again = invoke("models", "import", str(gguf))
    assert again.exit_code == 3
    assert "already registered" in again.output and "--name" in again.output

    assert invoke("models", "rm", "my-model.q4_1").exit_code == 0
    names = [m["name"] for m in json.loads(invoke("models", "list", "--json").output)]
    assert "my-model.q4_1" not in names
    assert gguf.exists()  # the user's file is never deleted


def test_import_hf_folder_with_custom_name(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"x")
    result = invoke("models", "import", str(folder), "--name", "org/tiny")
    assert result.exit_code == 0, result.output
    models = {m["name"]: m for m in json.loads(invoke("models", "list", "--json").output)}
    assert models["org/tiny"]["format"] == "hf"


def test_import_truncated_gguf_names_the_file(tmp_path):
    broken = tmp_path / "broken.gguf"
    with bundled_gguf_path().open("rb") as src:
        broken.write_bytes(src.read(5_000_000))
    result = invoke("models", "import", str(broken))
    assert result.exit_code == 4
    assert str(broken) in result.output
    assert "truncated" in result.output
    assert "Traceback" not in result.output
    assert "broken" not in invoke("models", "list").output


def test_import_not_a_gguf(tmp_path):
    fake = tmp_path / "notes.gguf"
    fake.write_text("hello")
    result = invoke("models", "import", str(fake))
    assert result.exit_code == 4 and "not a GGUF file" in result.output


def test_import_folder_without_config_suggests_the_gguf_inside(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(bundled_gguf_path(), folder / "m.gguf")
    result = invoke("models", "import", str(folder))
    assert result.exit_code == 4
    assert "no config.json" in result.output and "m.gguf" in result.output


def test_import_bad_name(tmp_path):
    gguf = tmp_path / "a.gguf"
    gguf.symlink_to(bundled_gguf_path())
    result = invoke("models", "import", str(gguf), "--name", "bad name!")
    assert result.exit_code == 2 and "--name" in result.output


def test_unknown_model_lists_local_ones_and_says_how_to_get_one():
    result = invoke("chat", "no-such-model", "--once", "hi")
    assert result.exit_code == 3
    assert "Unknown model 'no-such-model'" in result.output
    assert BUNDLED_NAME in result.output
    assert "llmp download" in result.output
    assert "LLMP_DEBUG=1" in result.output


def test_debug_shows_traceback():
    result = run_llmp("chat", "no-such-model", "--once", "hi", env={"LLMP_DEBUG": "1"})
    assert result.returncode == 3
    assert "Traceback" in result.stderr and "ModelNotFoundError" in result.stderr


@pytest.mark.parametrize(
    "flag,value",
    [("--temperature", "5"), ("--top-p", "0"), ("--max-tokens", "0"), ("--max-tokens", "many")],
)
def test_bad_flag_values_name_the_flag(flag, value):
    result = invoke("chat", "--once", "hi", flag, value)
    assert result.exit_code == 2
    assert flag in result.output


def test_unknown_engine():
    result = invoke("chat", "--once", "hi", "--engine", "vllm-x")
    assert result.exit_code == 2
    assert "unknown engine 'vllm-x'" in result.output and "llama.cpp" in result.output


def test_json_needs_once():
    result = invoke("chat", "--json")
    assert result.exit_code == 2 and "--once" in result.output


def test_missing_engine_gives_install_command(monkeypatch):
    from llm_practice.chat import engine

    real = engine._importable
    monkeypatch.setattr(engine, "_importable", lambda mod: mod != "llama_cpp" and real(mod))
    result = invoke("chat", "--once", "hi")
    assert result.exit_code == 5
    assert "'llama.cpp' engine is not installed" in result.output
    assert "pip install" in result.output and "llama-cpp-python" in result.output


def test_chinese_ui(monkeypatch):
    monkeypatch.setenv("LLMP_LANG", "zh")
    from llm_practice.settings import get_settings

    get_settings.cache_clear()
    result = invoke("chat", "no-such-model", "--once", "hi")
    assert "错误" in result.output


def test_serve_refuses_a_taken_port_before_loading_anything():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--port", str(port), "--no-ui")
    assert result.exit_code == 2
    assert f"127.0.0.1:{port}" in result.output and "--port" in result.output
    assert "Loading" not in result.output


def test_serve_quant_only_for_llama_cpp():
    result = invoke("serve", "--engine", "transformers", "--serve-quant", "f16", "--no-ui", "--port", "0")
    assert result.exit_code == 2
    assert "--serve-quant" in result.output and "llama.cpp" in result.output
