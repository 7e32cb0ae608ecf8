"""The web UI's Train tab: fields -> the `llmp train` command, labels in both languages, and a real
browser starting, watching and stopping a run of a tiny model (a child `llmp train`)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

from llm_practice.errors import ConfigError

from .train_helpers import DATA, build_tiny_model


def recipe_file(folder, model, max_steps=2):
    path = folder / "ui-tiny.yaml"
    path.write_text(f"stage: sft\nmodel: {model}\ndata: {DATA / 'sft_en.jsonl'}\nfinetuning: lora\n"
                    f"max_length: 64\nper_device_train_batch_size: 2\nmax_steps: {max_steps}\nsave_steps: 1000\n"
                    "learning_rate: 1.0e-3\n", encoding="utf-8")
    return path


def test_changed_fields_become_overrides_and_bad_fields_are_named(tmp_path):
    from llm_practice.serve.tab_train import command_for, show_command

    recipe = recipe_file(tmp_path, "/some/model")
    text = recipe.read_text()
    assert command_for(str(recipe), text, False) == ["train", str(recipe)]
    edited = text.replace("max_steps: 2", "max_steps: 50") + "name: mine\nlora_target: [q_proj, v_proj]\n"
    assert command_for(str(recipe), edited, True) == [
        "train", str(recipe), "max_steps=50", "name=mine", "lora_target=[q_proj, v_proj]", "--overwrite"]
    assert show_command(str(recipe), edited, False).startswith(f"llmp train {recipe} max_steps=50 name=mine ")
    with pytest.raises(ConfigError, match="fields, line 2"):
        command_for(str(recipe), "stage: sft\n  bad: [\n", False)
    with pytest.raises(ConfigError, match="fields: max_steps: was removed"):
        command_for(str(recipe), text.replace("max_steps: 2\n", ""), False)
    assert show_command("", "", False).startswith("# recipe: no recipe picked")


def test_tab_builds_with_english_and_chinese_labels(llmp_home):
    import gradio as gr

    from llm_practice.serve.tab_train import train_tab

    with gr.Blocks():
        labels = train_tab(gr, SimpleNamespace(served={}))
    assert {t["en"] for t in labels.values()} >= {"Train", "Start", "Equivalent command", "Runs"}
    assert {t["zh"] for t in labels.values()} >= {"训练", "开始训练", "等价的命令行", "训练记录"}


def test_log_keeps_the_command_on_top_of_a_long_run(llmp_home):
    # a fast machine redraws the progress bar thousands of times: the command line must not scroll off
    from llm_practice.serve.tab_train import LOG_TAIL, log_path, log_tail

    path = log_path("long")
    path.parent.mkdir(parents=True, exist_ok=True)
    bar = "".join(f"\rsft long {i}/100000 steps loss 1.0000" for i in range(5000))
    lines = [f"line {i}" for i in range(100)]
    path.write_text("$ llmp train r.yaml max_steps=100000\n" + bar + "\n" + "\n".join(lines) + "\nError: stopped\n",
                    encoding="utf-8")
    shown = log_tail("long").splitlines()
    assert shown[0] == "$ llmp train r.yaml max_steps=100000"
    assert shown[-1] == "Error: stopped" and len(shown) == LOG_TAIL
    path.write_text("$ llmp train r.yaml\n" + bar + "\nError: stopped\n", encoding="utf-8")
    assert log_tail("long").splitlines() == ["$ llmp train r.yaml", "sft long 4999/100000 steps loss 1.0000",
                                             "Error: stopped"]


@pytest.mark.integration
def test_browser_starts_watches_and_stops_a_run(tmp_path_factory, shared_cache):
    from .browser import ARTIFACTS, chromium
    from .servers import LiveServer

    home = tmp_path_factory.mktemp("train-ui-home")
    tiny = build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama")
    recipe = recipe_file(tmp_path_factory.mktemp("recipes"), tiny)
    with LiveServer(home=home, cache=shared_cache) as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(server.url + "/", wait_until="networkidle")
        page.get_by_role("tab", name="Train").click()
        box = page.locator("#train-recipe input")
        box.fill(str(recipe))
        box.press("Enter")
        fields = page.locator("#train-fields textarea")
        page.wait_for_function("() => document.querySelector('#train-fields textarea').value.includes('ui-tiny') "
                               "|| document.querySelector('#train-fields textarea').value.includes('max_steps: 2')",
                               timeout=20_000)
        fields.fill(fields.input_value().replace("max_steps: 2", "max_steps: 100000"))
        command = page.locator("#train-command textarea")
        page.wait_for_function("() => document.querySelector('#train-command textarea').value"
                               ".includes('max_steps=100000')", timeout=20_000)
        assert command.input_value() == f"llmp train {recipe} max_steps=100000"

        page.locator("#train-start").click()
        status = page.locator("#train-status")
        deadline = time.time() + 240
        while time.time() < deadline and "step 3," not in status.inner_text() and "step 4" not in status.inner_text():
            time.sleep(0.5)
        text = status.inner_text()
        assert "ui-tiny: running, step" in text, text
        assert "ui-tiny" in page.locator("#train-runs").inner_text()
        assert page.locator("#train-loss canvas, #train-loss svg").count() > 0  # the live loss plot drew
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-train.png"), full_page=True)

        page.locator("#train-stop").click()
        page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('ui-tiny: stopped')",
                               timeout=120_000)
        page.locator("#train-refresh").click()
        page.wait_for_function("() => document.querySelector('#train-runs').innerText.includes('stopped')",
                               timeout=20_000)
        log = page.locator("#train-log textarea").input_value()
        assert log.startswith(f"$ llmp train {recipe} max_steps=100000"), log
        info = json.loads((home / "runs" / "ui-tiny" / "run.json").read_text())
        assert info["status"] == "stopped" and info["steps"] >= 3  # Ctrl-C saved a checkpoint
        assert list((home / "runs" / "ui-tiny" / "checkpoints").glob("checkpoint-*"))
