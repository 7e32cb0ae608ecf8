"""The web UI's Evaluate tab: its labels in both languages, the compare and export handlers, and the
tab in a real headless Chromium on a real `llmp serve` (compare two models, export a run; en and zh)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from .runs import make_lora_run
from .test_export import bundled_folder, one_thread, tiny_base  # noqa: F401  (shared fixtures)


def test_tab_builds_with_english_and_chinese_labels(llmp_home):
    import gradio as gr

    from llm_practice.serve.tab_evaluate import evaluate_tab

    with gr.Blocks():
        labels = evaluate_tab(gr, SimpleNamespace(served={}))
    assert {t["en"] for t in labels.values()} >= {"Evaluate", "Compare", "Export"}
    assert {t["zh"] for t in labels.values()} >= {"评测", "开始对比", "导出"}


def test_export_button_exports_a_finished_run_and_refuses_an_unfinished_one(llmp_home, tiny_base):
    from llm_practice.serve.tab_evaluate import export, finished_runs

    make_lora_run(llmp_home, tiny_base, "ui-run", random_init=True)
    make_lora_run(llmp_home, tiny_base, "ui-busy", status="running")
    assert finished_runs() == ["ui-run"]
    message = export("ui-run", "merge")
    assert "registered: ui-run-merged" in message and (llmp_home / "exports" / "ui-run" / "merged").is_dir()
    assert "Run 'ui-busy': status is 'running'" in export("ui-busy", "merge")


def test_compare_handler_shows_a_mistake_on_the_page(llmp_home):
    """(The table and plots of a real comparison are checked in the browser test below.)"""
    from llm_practice.serve.tab_evaluate import compare

    error, empty = compare("smollm2-135m-instruct", "smollm2-135m-instruct", "mcq", "/no/such/bench", 1, 0)
    assert error.startswith("**Error:** /no/such/bench") and empty == ""
    error, empty = compare("smollm2-135m-instruct", "", "mcq", "/no/such/bench", 1, 0)
    assert error == "**Error:** pick two models and give the data path." and empty == ""


# --- the tab in a real browser --------------------------------------------------------------------

@pytest.fixture(scope="module")
def eval_server(tmp_path_factory, shared_cache, tiny_base):
    """A real `llmp serve` whose LLMP_HOME holds one finished LoRA run (on the tiny model)."""
    from .servers import LiveServer

    home = tmp_path_factory.mktemp("ui-eval-home")
    make_lora_run(home, tiny_base, "ui-done", random_init=True)
    with LiveServer(home=home, cache=shared_cache) as live:
        yield live, home


def pick(page, elem_id: str, option: str) -> None:
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(option)
    page.locator(f"#{elem_id}").get_by_role("option", name=option, exact=True).click()
    page.wait_for_function(f"() => document.querySelector('#{elem_id} input').value === {option!r}")


@pytest.mark.integration
def test_compare_and_export_in_the_browser_in_english_and_chinese(eval_server):
    from .browser import ARTIFACTS, chromium

    live, home = eval_server
    with chromium() as browser:
        page = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1200}).new_page()
        page.goto(live.url + "/", wait_until="networkidle")
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#eval-compare").wait_for(state="visible", timeout=15_000)
        pick(page, "eval-base", "smollm2-135m-instruct")
        pick(page, "eval-tuned", "ui-done")
        page.locator("#eval-task").get_by_label("mcq").check()
        page.locator("#eval-limit input").fill("1")
        page.locator("#eval-compare").click()
        page.wait_for_function("() => document.querySelector('#eval-summary')?.innerText.includes('wins')",
                               timeout=240_000)
        summary = page.locator("#eval-summary").inner_text()
        assert summary.startswith("mcq on") and "acc" in summary and "→" in summary, summary
        report = page.locator("#eval-report")
        assert report.locator("svg").count() == 1
        text, plot = report.inner_text(), report.locator("svg").inner_html()
        assert "smollm2-135m-instruct → ui-done" in text and "acc" in text, text[:500]
        assert all(s in plot for s in ("world_geography", "basic_science", "chinese_geography")), plot[:500]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-evaluate.png"), full_page=True)

        zh = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1200}).new_page()
        zh.goto(live.url + "/", wait_until="networkidle")
        zh.get_by_role("tab", name="评测").click()
        zh.locator("#export-button").wait_for(state="visible", timeout=15_000)
        assert "开始对比" in zh.locator("#eval-compare").inner_text()
        assert zh.locator("#export-button").inner_text().strip() == "导出"
        pick(zh, "export-run", "ui-done")
        pick(zh, "export-what", "merged HF folder")
        zh.locator("#export-button").click()
        zh.wait_for_function("() => document.querySelector('#export-status')?.innerText.includes('registered')",
                             timeout=120_000)
        status = zh.locator("#export-status").inner_text()
        merged = home / "exports" / "ui-done" / "merged"
        assert str(merged) in status and "ui-done-merged" in status, status
        assert list(merged.glob("*.safetensors")) and (merged / "tokenizer_config.json").is_file()
