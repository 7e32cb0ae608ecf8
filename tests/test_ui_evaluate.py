"""The web UI's Evaluate tab: its labels in both languages, the compare and export handlers."""

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


@pytest.mark.integration
def test_compare_handler_shows_the_table_and_plots(llmp_home, bundled_folder):
    from llm_practice.serve.tab_evaluate import EXAMPLES_MCQ, compare

    make_lora_run(llmp_home, bundled_folder, "ui-tuned", random_init=True)
    summary, page = compare("smollm2-135m-instruct", "ui-tuned", "mcq", str(EXAMPLES_MCQ), 1, 0)
    assert summary.startswith("**mcq** on ") and "acc" in summary, summary
    assert page.count("<svg") == 1 and "world_geography" in page
    error, empty = compare("smollm2-135m-instruct", "ui-tuned", "mcq", "/no/such/bench", 1, 0)
    assert error.startswith("**Error:** /no/such/bench") and empty == ""
