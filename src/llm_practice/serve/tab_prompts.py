"""The web UI's "Prompt lab" tab: build a prompt with the formula, lint it live, run it, compare A/B.

The form is the formula of `prompts.formula` (role, task, context, steps, rules, examples,
delimited input, output format, length, language); every change re-renders the prompt and
re-lints it with `lint_spec`, so the findings list updates as the user types. A library
template fills the form; what the form has no field for (a JSON schema, table columns, allowed
labels, extra inputs) is kept from the template and still rendered.

Variables: the "Input" box fills the template's input variable (`{text}` in a blank form);
every other `{name}` takes its value from the "Variables" box (`name = value` per line). The
two compare variants are snapshots of the rendered prompt with the input left as a placeholder,
so "Compare" runs both on the same, current input. Generation goes through the server's generation
service (its token limit, queue, deadline and metrics), like the chat tab and the API, and
streams into the answer boxes.
"""

from __future__ import annotations

import asyncio
import html
import json
import re

BLANK = "(blank)"
DELIMITERS = ["xml", "fence", "hash", "quotes"]
FORMATS = ["text", "list", "numbered", "table", "json"]

LABELS: dict[str, dict] = {
    "tab": {"en": "Prompt lab", "zh": "提示词实验室"},
    "template": {"en": "Start from a library template", "zh": "从模板库载入"},
    "lang": {"en": "Prompt language", "zh": "提示词语言"},
    "role": {"en": "Role (who the model is)", "zh": "角色（让模型扮演谁）",
             "placeholder": {"en": "e.g. an experienced editor", "zh": "例如：资深编辑"}},
    "task": {"en": "Task (what to do, specifically)", "zh": "任务（具体要做什么）",
             "placeholder": {"en": "e.g. Summarise the text for a busy manager.",
                             "zh": "例如：为忙碌的经理总结这段文字。"}},
    "context": {"en": "Context / background", "zh": "背景信息"},
    "audience": {"en": "Audience", "zh": "读者"},
    "tone": {"en": "Tone", "zh": "语气"},
    "steps": {"en": "Steps (one per line)", "zh": "步骤（每行一步）"},
    "constraints": {"en": "Rules (one per line)", "zh": "要求（每行一条）"},
    "examples": {"en": "Examples (one per line: input => output)", "zh": "示例（每行一个：输入 => 输出）"},
    "input": {"en": "Input text (inserted, delimited)", "zh": "输入文本（插入并用分隔符括起）"},
    "delimiter": {"en": "Delimiter", "zh": "分隔符"},
    "format": {"en": "Output format", "zh": "输出格式"},
    "length": {"en": "Length (e.g. 3 sentences, 100 words)", "zh": "长度（例如 3 sentences、100字）"},
    "variables": {"en": "Variables (name = value per line)", "zh": "变量（每行 name = value）"},
    "preview": {"en": "Rendered prompt", "zh": "生成的提示词"},
    "lint_head": {"en": "### Lint findings (live)", "zh": "### 检查结果（实时）"},
    "model": {"en": "Model", "zh": "模型"},
    "temperature": {"en": "Temperature", "zh": "温度 (temperature)"},
    "max_tokens": {"en": "Max new tokens", "zh": "最大生成长度"},
    "run": {"en": "Run", "zh": "运行"},
    "answer": {"en": "Answer", "zh": "回答"},
    "compare_head": {"en": "### Compare two variants on the same input",
                     "zh": "### 在同一输入上对比两个版本"},
    "set_a": {"en": "Use as variant A", "zh": "设为版本 A"},
    "set_b": {"en": "Use as variant B", "zh": "设为版本 B"},
    "variant_a": {"en": "Variant A (prompt)", "zh": "版本 A（提示词）"},
    "variant_b": {"en": "Variant B (prompt)", "zh": "版本 B（提示词）"},
    "compare": {"en": "Compare A and B", "zh": "对比 A 和 B"},
    "answer_a": {"en": "Answer A", "zh": "回答 A"},
    "answer_b": {"en": "Answer B", "zh": "回答 B"},
}

# Words inside the lint list follow the prompt's language (the findings themselves do too).
LINT_WORDS = {
    "en": {"ok": "No problems found: the prompt follows every tip that applies.",
           "n": "{e} error(s) (fail --strict), {a} advice.", "why": "Why", "hint": "Fix", "field": "field", "line": "line",
           "chars": "chars", "tip": "Tip", "error": "Cannot build the prompt",
           "severity": {"error": "error", "advice": "advice"}},
    "zh": {"ok": "没有发现问题：提示词符合所有适用的技巧。", "n": "{e} 个错误（--strict 不通过），{a} 条提醒。", "why": "原因",
           "hint": "建议", "field": "字段", "line": "行", "chars": "字符", "tip": "技巧",
           "error": "无法生成提示词", "severity": {"error": "错误", "advice": "提醒"}},
}
MISSING = {"en": "Fill in a value for: {names} (Input box or Variables box).",
           "zh": "请填写：{names}（输入框或变量框）。"}
STATUS_MARK = {"pass": "✓", "fail": "✗", "advice": "!", "n/a": "–"}
# Inline styles: the list must read well without a stylesheet (Gradio HTML has none of ours).
CHIP_STYLE = {"pass": "background:#e6f4ea;color:#1a7f37", "fail": "background:#fdecea;color:#c62828",
              "advice": "background:#fff4e0;color:#a05a00", "n/a": "background:#f1f1f1;color:#777"}
CHIP = "display:inline-block;margin:0 .3rem .3rem 0;padding:.05rem .5rem;border-radius:.8rem;font-size:.85em;"
ITEM_STYLE = {"error": "border-left:4px solid #c62828", "advice": "border-left:4px solid #e69500"}
EMPTY_EXTRAS = {"name": "prompt-lab", "input_label": "text", "template_input": False,
                "other_inputs": {}, "output": {}}

# The form fields, in the order the callbacks receive them.
FIELDS = ["lang", "role", "task", "context", "audience", "tone", "steps", "constraints", "examples",
          "input", "delimiter", "format", "length", "variables"]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_examples(text: str) -> list[dict]:
    """`input => output` per line; a block may also be lines, a `=>` line, lines, then `---`."""
    examples = []
    for block in re.split(r"(?m)^\s*---\s*$", text or ""):
        if not block.strip():
            continue
        parts = re.split(r"(?m)^\s*=>\s*$", block, maxsplit=1)
        if len(parts) == 2:
            examples.append({"input": parts[0].strip(), "output": parts[1].strip()})
            continue
        for line in _lines(block):
            if "=>" in line:
                left, right = line.split("=>", 1)
                examples.append({"input": left.strip(), "output": right.strip()})
    return examples


def format_examples(examples: list[dict]) -> str:
    one_line = all("\n" not in e["input"] + e["output"] for e in examples)
    if one_line:
        return "\n".join(f"{e['input']} => {e['output']}" for e in examples)
    return "\n---\n".join(f"{e['input']}\n=>\n{e['output']}" for e in examples)


def parse_variables(text: str) -> dict[str, str]:
    """`name = value` per line; a name with an empty value counts as not filled in."""
    values = {}
    for line in _lines(text):
        name, sep, value = line.partition("=")
        if sep and value.strip() and re.fullmatch(r"[A-Za-z_]\w*", name.strip()):
            values[name.strip()] = value.strip()
    return values


def form_spec(form: dict, extras: dict, *, force_input: bool = False):
    """(spec, values) from the form; every `{name}` used is declared, values come from the boxes."""
    from ..prompts import spec_from_fields
    from ..prompts.formula import used_variables

    label = extras.get("input_label") or "text"
    fields = {
        "name": extras.get("name") or "prompt-lab", "lang": form["lang"] or "en",
        "role": form["role"] or "", "task": form["task"] or "", "context": form["context"] or "",
        "audience": form["audience"] or "", "tone": form["tone"] or "",
        "steps": _lines(form["steps"]), "constraints": _lines(form["constraints"]),
        "examples": parse_examples(form["examples"]), "delimiter": form["delimiter"] or "xml",
        "output": {**extras.get("output", {}), "format": form["format"] or "text"},
    }
    if (form["length"] or "").strip():
        fields["length"] = form["length"].strip()
    inputs = {}
    if (form["input"] or "").strip() or extras.get("template_input") or force_input:
        inputs[label] = "{" + label + "}"
    inputs.update(extras.get("other_inputs", {}))
    fields["input"] = inputs
    probe = spec_from_fields(fields)  # validates every field, naming the bad one
    values = parse_variables(form["variables"])
    if (form["input"] or "").strip():
        values[label] = form["input"]
    probe.variables = {name: None for name in used_variables(probe)}
    return probe, values


def render_form(form: dict, extras: dict, *, keep_input: bool = False):
    """(prompt text, messages or None when values are missing, note) for the form."""
    from ..prompts import render_prompt

    spec, values = form_spec(form, extras, force_input=keep_input)
    label = extras.get("input_label") or "text"
    if keep_input:
        values[label] = "{" + label + "}"  # substituted as text: stays a literal placeholder
    missing = [n for n in spec.variables if n not in values]
    if missing:
        rendered = render_prompt(spec, keep_placeholders=True)
        return rendered.text, None, MISSING[spec.lang].format(names=", ".join(missing))
    rendered = render_prompt(spec, values, strict=False)
    return rendered.text, rendered.messages, ""


def lint_html(report: dict) -> str:
    """The lint report (from `LintReport.to_json()`) as a readable list: tip, span, why, hint."""
    e = html.escape
    w = LINT_WORDS.get(report["lang"], LINT_WORDS["en"])
    chips = "".join(
        f"<span class='pl-tip' style='{CHIP}{CHIP_STYLE[row['status']]}' data-check='{e(row['check'])}' "
        f"data-status='{row['status']}'>{STATUS_MARK[row['status']]} {e(row['name'])}</span>"
        for row in report["tips"])
    items = []
    for f in report["findings"]:
        tip = f"{w['tip']} {f['tip']}" if f["tip"] else f["check"]
        name = next((row["name"] for row in report["tips"] if row["check"] == f["check"]), f["check"])
        where = [f"{w['field']}: {f['field']}"] if f.get("field") else []
        where += [f"{w['line']} {f['span']['line']}", f"{w['chars']} {f['span']['start']}-{f['span']['end']}"]
        span = f["span"]["text"].strip()
        span = span[:160] + ("…" if len(span) > 160 else "")
        items.append(
            f"<li class='pl-finding' style='{ITEM_STYLE.get(f['severity'], '')};padding:.2rem .6rem;"
            f"margin:.5rem 0' data-check='{e(f['check'])}'>"
            f"<b>{e(tip)} · {e(name)}</b> <small>({e(w['severity'].get(f['severity'], f['severity']))}; {e(', '.join(where))})</small>"
            f"<div style='margin:.2rem 0;padding:.1rem .4rem;background:#fff8e1;font-family:monospace'>"
            f"{e(span)}</div>"
            f"<div><b>{w['why']}:</b> {e(f['why'])}</div>"
            f"<div><b>{w['hint']}:</b> {e(f['hint']).replace(chr(10), '<br>')}</div></li>")
    n_errors = sum(f["severity"] == "error" for f in report["findings"])
    verdict = w["ok"] if report["ok"] else w["n"].format(e=n_errors, a=len(report["findings"]) - n_errors)
    return (f"<div id='pl-lint-report' data-ok='{str(report['ok']).lower()}' "
            f"data-findings='{' '.join(sorted({f['check'] for f in report['findings']}))}'>"
            f"<p><b>{e(verdict)}</b></p><p class='pl-tips'>{chips}</p>"
            f"<ol class='pl-findings' style='padding-left:1.2rem'>{''.join(items)}</ol></div>")


def error_html(lang: str, message: str) -> str:
    w = LINT_WORDS.get(lang, LINT_WORDS["en"])
    return (f"<div id='pl-lint-report' data-ok='false' data-findings='error'>"
            f"<p><b>{w['error']}:</b> {html.escape(message)}</p></div>")


def _extras(raw: str | dict) -> dict:
    return raw if isinstance(raw, dict) else {**EMPTY_EXTRAS, **json.loads(raw or "{}")}


def refresh(extras: str | dict, *values) -> tuple[str, str]:
    """Preview and lint for the current form (called on every change)."""
    from ..errors import LlmpError
    from ..prompts import lint_spec

    extras = _extras(extras)
    form = dict(zip(FIELDS, values))
    try:
        spec, _ = form_spec(form, extras)
        text, _, note = render_form(form, extras)
    except LlmpError as e:
        return "", error_html(form["lang"], str(e))
    report = lint_spec(spec).to_json()
    return (f"{text}\n\n[{note}]" if note else text), lint_html(report)


def load_template(name: str, lang: str) -> tuple[dict, list]:
    """(extras, form values in FIELDS order) for a library template, or a blank form."""
    if not name or name == BLANK:
        return dict(EMPTY_EXTRAS), [lang or "en", "", "", "", "", "", "", "", "", "", "xml", "text", "", ""]
    from ..prompts import find_prompt

    spec = find_prompt(name, lang=lang or "en")
    labels = list(spec.input)
    label = labels[0] if labels else "text"
    placeholder = spec.input.get(label, "")
    # The Input box holds the value of the first input's variable when that input is just "{var}".
    match = re.fullmatch(r"\{([A-Za-z_]\w*)\}", placeholder.strip())
    input_var = match.group(1) if match else None
    other_inputs = {k: v for k, v in spec.input.items() if k != label or not input_var}
    extras = {"name": spec.name, "input_label": input_var or "text", "template_input": bool(input_var),
              "other_inputs": other_inputs,
              "output": spec.output.model_dump(by_alias=True, exclude={"format"}, exclude_defaults=True)}
    variables = "\n".join(f"{k} = {v if v is not None else ''}" for k, v in spec.variables.items()
                          if k != input_var)
    length = ""
    if spec.length:
        length = (f"{spec.length.min}-" if spec.length.min else "") + f"{spec.length.max} {spec.length.unit}"
    input_default = spec.variables.get(input_var) or "" if input_var else ""
    return extras, [spec.lang, spec.role, spec.task, spec.context, spec.audience, spec.tone,
                    "\n".join(spec.steps), "\n".join(spec.constraints),
                    format_examples([e.model_dump() for e in spec.examples]), input_default,
                    spec.delimiter, spec.output.format, length, variables]


def _stream(ctx, model_name: str, messages: list[dict], temperature, max_tokens):
    """One answer through the server's generation service (its limits, queue and metrics)."""
    return ctx.generation.chat(model_name, messages, "ui/prompt-lab", temperature=float(temperature),
                               max_tokens=int(max_tokens), seed=0)


def _problem(e: Exception) -> str:
    return f"[{getattr(e, 'message', None) or e}]"


# component attribute -> LABELS key, for the language switch
LABEL_KEYS = {"tab": "tab", "template": "template", "lang": "lang", "role": "role", "task": "task",
              "context": "context", "audience": "audience", "tone": "tone", "steps": "steps",
              "constraints": "constraints", "examples": "examples", "input_text": "input",
              "delimiter": "delimiter", "out_format": "format", "length": "length",
              "variables": "variables", "preview": "preview", "lint_head": "lint_head", "model": "model",
              "temperature": "temperature", "max_tokens": "max_tokens", "run": "run", "answer": "answer",
              "compare_head": "compare_head", "set_a": "set_a", "set_b": "set_b",
              "variant_a": "variant_a", "variant_b": "variant_b", "compare": "compare",
              "answer_a": "answer_a", "answer_b": "answer_b"}


def prompt_lab_tab(gr, ctx) -> dict:
    from types import SimpleNamespace

    from ..prompts.library import template_names

    L = {key: texts["en"] for key, texts in LABELS.items()}
    ui = SimpleNamespace()
    with gr.Tab(L["tab"], elem_id="pl-tab") as ui.tab:
        # Not a gr.State: any State makes Gradio hold a heartbeat stream open for the whole session.
        ui.extras = gr.Textbox(json.dumps(EMPTY_EXTRAS), visible=False, elem_id="pl-extras")
        with gr.Row():
            ui.template = gr.Dropdown([BLANK, *template_names()], value=BLANK, label=L["template"],
                                      elem_id="pl-template", scale=3)
            ui.lang = gr.Radio(["en", "zh"], value="en", label=L["lang"], elem_id="pl-lang", scale=1)
        with gr.Row():
            with gr.Column(scale=1):
                _form_layout(gr, ui, L)
            with gr.Column(scale=1):
                _run_layout(gr, ui, L, list(ctx.served))
        _compare_layout(gr, ui, L)
    ui.form = [ui.lang, ui.role, ui.task, ui.context, ui.audience, ui.tone, ui.steps, ui.constraints,
               ui.examples, ui.input_text, ui.delimiter, ui.out_format, ui.length, ui.variables]
    _wire_form(gr, ui)
    _wire_run(ui, ctx)
    _wire_compare(ui, ctx)
    return {getattr(ui, attr): LABELS[key] for attr, key in LABEL_KEYS.items()}


def _form_layout(gr, ui, L: dict) -> None:
    ui.role = gr.Textbox(label=L["role"], placeholder=LABELS["role"]["placeholder"]["en"],
                         lines=1, elem_id="pl-role")
    ui.task = gr.Textbox(label=L["task"], placeholder=LABELS["task"]["placeholder"]["en"],
                         lines=2, elem_id="pl-task")
    ui.context = gr.Textbox(label=L["context"], lines=2, elem_id="pl-context")
    with gr.Row():
        ui.audience = gr.Textbox(label=L["audience"], lines=1, elem_id="pl-audience")
        ui.tone = gr.Textbox(label=L["tone"], lines=1, elem_id="pl-tone")
    ui.steps = gr.Textbox(label=L["steps"], lines=3, elem_id="pl-steps")
    ui.constraints = gr.Textbox(label=L["constraints"], lines=2, elem_id="pl-constraints")
    ui.examples = gr.Textbox(label=L["examples"], lines=2, elem_id="pl-examples")
    ui.input_text = gr.Textbox(label=L["input"], lines=4, elem_id="pl-input")
    with gr.Row():
        ui.delimiter = gr.Dropdown(DELIMITERS, value="xml", label=L["delimiter"], elem_id="pl-delimiter")
        ui.out_format = gr.Dropdown(FORMATS, value="text", label=L["format"], elem_id="pl-format")
        ui.length = gr.Textbox(label=L["length"], lines=1, elem_id="pl-length")
    ui.variables = gr.Textbox(label=L["variables"], lines=2, elem_id="pl-variables")


def _run_layout(gr, ui, L: dict, names: list[str]) -> None:
    ui.preview = gr.Textbox(label=L["preview"], lines=14, max_lines=30, interactive=False,
                            elem_id="pl-preview", buttons=["copy"])
    ui.lint_head = gr.Markdown(L["lint_head"])
    ui.lint = gr.HTML(lint_html_placeholder(), elem_id="pl-lint")
    ui.model = gr.Dropdown(names, value=names[0] if names else None, label=L["model"], elem_id="pl-model")
    with gr.Row():
        ui.temperature = gr.Slider(0, 2, value=0.0, step=0.05, label=L["temperature"])
        ui.max_tokens = gr.Slider(8, 1024, value=128, step=8, label=L["max_tokens"], elem_id="pl-max-tokens")
    ui.run = gr.Button(L["run"], variant="primary", elem_id="pl-run")
    ui.answer = gr.Textbox(label=L["answer"], lines=6, max_lines=20, interactive=False, elem_id="pl-answer")


def _compare_layout(gr, ui, L: dict) -> None:
    ui.compare_head = gr.Markdown(L["compare_head"])
    with gr.Row():
        ui.set_a = gr.Button(L["set_a"], elem_id="pl-set-a")
        ui.set_b = gr.Button(L["set_b"], elem_id="pl-set-b")
        ui.compare = gr.Button(L["compare"], variant="primary", elem_id="pl-compare")
    with gr.Row(equal_height=True):
        with gr.Column():
            ui.variant_a = gr.Textbox(label=L["variant_a"], lines=6, max_lines=16, elem_id="pl-variant-a")
            ui.answer_a = gr.Textbox(label=L["answer_a"], lines=6, max_lines=20, interactive=False,
                                     elem_id="pl-answer-a")
        with gr.Column():
            ui.variant_b = gr.Textbox(label=L["variant_b"], lines=6, max_lines=16, elem_id="pl-variant-b")
            ui.answer_b = gr.Textbox(label=L["answer_b"], lines=6, max_lines=20, interactive=False,
                                     elem_id="pl-answer-b")


def _wire_form(gr, ui) -> None:
    form = ui.form

    def on_template(name, prompt_lang):
        from ..errors import LlmpError

        try:
            loaded, values = load_template(name, prompt_lang)
        except LlmpError as e:
            return [gr.update()] * (len(form) + 1) + [error_html(prompt_lang, str(e))]
        return [json.dumps(loaded, ensure_ascii=False), *values, gr.update()]

    def snapshot(state, *values):
        from ..errors import LlmpError

        try:
            return render_form(dict(zip(FIELDS, values)), _extras(state), keep_input=True)[0]
        except LlmpError as e:
            return _problem(e)

    ui.template.change(on_template, [ui.template, ui.lang], [ui.extras, *form, ui.lint])
    gr.on([c.change for c in form] + [ui.extras.change], refresh, [ui.extras, *form], [ui.preview, ui.lint],
          trigger_mode="always_last", show_progress="hidden")
    ui.set_a.click(snapshot, [ui.extras, *form], ui.variant_a)
    ui.set_b.click(snapshot, [ui.extras, *form], ui.variant_b)


def _wire_run(ui, ctx) -> None:
    async def run_prompt(model_name, temp, limit, state, *values):
        from ..errors import LlmpError

        try:
            _, messages, note = render_form(dict(zip(FIELDS, values)), _extras(state))
        except LlmpError as e:
            yield _problem(e)
            return
        if messages is None or model_name not in ctx.served:
            yield f"[{note or 'no model is served'}]"
            return
        text = ""
        yield text
        try:
            async for delta in _stream(ctx, model_name, messages, temp, limit):
                text += delta
                yield text
        except Exception as e:  # a full queue or a failed engine is shown, not raised into Gradio
            yield text + "\n" + _problem(e)

    ui.run.click(run_prompt, [ui.model, ui.temperature, ui.max_tokens, ui.extras, *ui.form], ui.answer)


def _wire_compare(ui, ctx) -> None:
    async def run_compare(prompt_a, prompt_b, input_value, state, model_name, temp, limit):
        placeholder = "{" + (_extras(state).get("input_label") or "text") + "}"
        prompts = [(p or "").replace(placeholder, input_value or "") for p in (prompt_a, prompt_b)]
        if model_name not in ctx.served or not all(p.strip() for p in prompts):
            yield "[set both variants first]", "[set both variants first]"
            return
        answers = ["", ""]
        queue: asyncio.Queue = asyncio.Queue()

        async def one(i: int, prompt: str):
            try:
                async for delta in _stream(ctx, model_name, [{"role": "user", "content": prompt}],
                                           temp, limit):
                    answers[i] += delta
                    queue.put_nowait(i)
            except Exception as e:
                answers[i] += "\n" + _problem(e)
            finally:
                queue.put_nowait(None)

        tasks = [asyncio.create_task(one(i, p)) for i, p in enumerate(prompts)]
        try:
            finished = 0
            while finished < len(tasks):
                if await queue.get() is None:
                    finished += 1
                yield answers[0], answers[1]
        finally:
            for t in tasks:
                t.cancel()

    ui.compare.click(run_compare, [ui.variant_a, ui.variant_b, ui.input_text, ui.extras, ui.model,
                                   ui.temperature, ui.max_tokens], [ui.answer_a, ui.answer_b])


def lint_html_placeholder() -> str:
    return ("<div id='pl-lint-report' data-ok='false' data-findings=''>"
            "<p>Fill in the task to see the lint findings. / 填写任务后显示检查结果。</p></div>")
