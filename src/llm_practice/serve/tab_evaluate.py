"""The web UI's Evaluate tab: compare two models on a task, and export a finished run.

The handlers call the same library functions as `llmp eval compare` and `llmp export`
(`compare_models`, `render_html`, `export_run`), so the page and the CLI never disagree. Only the
log-likelihood tasks (`mcq`, `ppl`) are offered here: they score, they do not generate, so they
do not compete with chat requests for the generation service; QA with generated answers is a
CLI task. A user mistake is shown on the page with its hint; results are cached like the CLI's,
so a second comparison of the same models is instant.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LlmpError

EXAMPLES_MCQ = Path(__file__).resolve().parents[3] / "examples" / "mcq"

TEXTS: dict[str, dict[str, str]] = {
    "tab": {"en": "Evaluate", "zh": "评测"},
    "compare": {"en": "Compare two models", "zh": "对比两个模型"},
    "base": {"en": "Base model (name, .gguf, HF folder or run)", "zh": "基座模型（名称、.gguf、HF 目录或训练 run）"},
    "tuned": {"en": "Tuned model (name, .gguf, HF folder or run)", "zh": "微调后模型（名称、.gguf、HF 目录或训练 run）"},
    "task": {"en": "Task", "zh": "评测任务"},
    "data": {"en": "Data: benchmark folder / CSV (mcq) or text file (ppl)",
             "zh": "数据：选择题基准目录或 CSV（mcq），或文本文件（ppl）"},
    "limit": {"en": "Questions per subject (mcq; 0 = all)", "zh": "每科题目数（mcq；0 表示全部）"},
    "shots": {"en": "Few-shot examples (mcq)", "zh": "少样本示例数（mcq）"},
    "run_compare": {"en": "Compare", "zh": "开始对比"},
    "export": {"en": "Export a run", "zh": "导出训练 run"},
    "run": {"en": "Finished run", "zh": "已完成的 run"},
    "what": {"en": "Export as", "zh": "导出为"},
    "run_export": {"en": "Export", "zh": "导出"},
}
TASKS = ["mcq", "ppl"]
EXPORT_CHOICES = [("merged HF folder", "merge"), ("GGUF q8_0", "q8_0"), ("GGUF q4_k_m", "q4_k_m"),
                  ("GGUF f16", "f16"), ("GGUF q8_0 + Ollama Modelfile", "ollama")]


def _error(e: LlmpError) -> str:
    hint = f"\n\n{e.hint}" if e.hint else ""
    return f"**Error:** {e.message}{hint}"


def model_choices(served: dict) -> list[str]:
    from ..models.registry import list_models
    from ..models.runs import list_runs

    names = [m.name for m in list_models() if m.format != "remote"]
    return sorted(set(names) | set(served)) + [r for r in list_runs() if r not in names]


def finished_runs() -> list[str]:
    from ..models.runs import list_runs, load_run

    done = []
    for name in list_runs():
        try:
            load_run(name)
            done.append(name)
        except LlmpError:
            continue
    return done


def compare(base: str, tuned: str, task: str, data: str, limit, shots) -> tuple[str, str]:
    """-> (summary markdown, report HTML with the plots)."""
    from ..evaluate.compare import compare_models, render_html

    if not base or not tuned or not (data or "").strip():
        return "**Error:** pick two models and give the data path.", ""
    options = {}
    if task == "mcq":
        options = {"limit": int(limit) or None, "shots": int(shots or 0)}
    try:
        report = compare_models(base, tuned, [(task, data.strip(), options)])
    except LlmpError as e:
        return _error(e), ""
    row = report["tasks"][0]
    pct = row["metric"] != "ppl"
    show = (lambda v: f"{100 * v:.1f}%") if pct else (lambda v: f"{v:.3f}")
    change = f"{100 * row['delta']:+.1f} points" if pct else f"{row['delta']:+.3f}"
    summary = (f"**{row['task']}** on `{row['data']}`: {row['metric']} {show(row['base'])} → "
               f"{show(row['tuned'])} ({change}, {row['verdict']}); wins {len(row.get('wins', []))}, "
               f"losses {len(row.get('losses', []))}")
    page = render_html(report)
    return summary, page[page.index("<body>") + 6:page.index("</body>")]


def export(run: str, what: str) -> str:
    from ..export import export_run

    if not run:
        return "**Error:** pick a finished run."
    kwargs = {"merge": True} if what == "merge" else {"ollama": True} if what == "ollama" else {"gguf": what}
    try:
        result = export_run(run, **kwargs)
    except LlmpError as e:
        return _error(e)
    lines = [f"Exported **{result.run}** to `{result.output}`"]
    lines += [f"- {kind}: `{path}`" for kind, path in result.outputs.items()]
    if result.registered:
        lines.append(f"- registered: {', '.join(result.registered)} (restart `llmp serve` with it to chat)")
    if result.ollama_command:
        lines.append(f"- Ollama: `{result.ollama_command}`")
    return "\n".join(lines)


def evaluate_tab(gr, ctx) -> dict:
    choices = model_choices(ctx.served)
    runs = finished_runs()
    with gr.Tab(TEXTS["tab"]["en"], elem_id="tab-evaluate") as tab:
        compare_title = gr.Markdown(TEXTS["compare"]["en"])
        with gr.Row():
            base = gr.Dropdown(choices, value=choices[0] if choices else None, allow_custom_value=True,
                               label=TEXTS["base"]["en"], elem_id="eval-base")
            tuned = gr.Dropdown(choices, value=choices[-1] if choices else None, allow_custom_value=True,
                                label=TEXTS["tuned"]["en"], elem_id="eval-tuned")
        with gr.Row():
            task = gr.Radio(TASKS, value="mcq", label=TEXTS["task"]["en"], elem_id="eval-task")
            data = gr.Textbox(str(EXAMPLES_MCQ) if EXAMPLES_MCQ.is_dir() else "", label=TEXTS["data"]["en"],
                              elem_id="eval-data", scale=3)
            limit = gr.Number(value=3, precision=0, label=TEXTS["limit"]["en"], elem_id="eval-limit")
            shots = gr.Number(value=0, precision=0, label=TEXTS["shots"]["en"], elem_id="eval-shots")
        run_compare = gr.Button(TEXTS["run_compare"]["en"], variant="primary", elem_id="eval-compare")
        summary = gr.Markdown(elem_id="eval-summary")
        report = gr.HTML(elem_id="eval-report")
        export_title = gr.Markdown(TEXTS["export"]["en"])
        with gr.Row():
            run = gr.Dropdown(runs, value=runs[0] if runs else None, label=TEXTS["run"]["en"], elem_id="export-run")
            what = gr.Dropdown(EXPORT_CHOICES, value="q8_0", label=TEXTS["what"]["en"], elem_id="export-what")
            run_export = gr.Button(TEXTS["run_export"]["en"], elem_id="export-button")
        export_status = gr.Markdown(elem_id="export-status")
    run_compare.click(compare, [base, tuned, task, data, limit, shots], [summary, report])
    run_export.click(export, [run, what], [export_status])
    keys = {tab: "tab", compare_title: "compare", base: "base", tuned: "tuned", task: "task", data: "data",
            limit: "limit", shots: "shots", run_compare: "run_compare", export_title: "export", run: "run",
            what: "what", run_export: "run_export"}
    return {comp: TEXTS[key] for comp, key in keys.items()}
