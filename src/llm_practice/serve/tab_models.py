"""The web UI's Models tab: local models, the curated catalog, the memory estimator, downloads.

Each sub-tab calls the same library functions as the CLI (`list_models` / `remove_model`,
`load_catalog` / `fits`, `resolve_model` / `estimate_memory` / `verdict`, `download_model`), so
the page and `llmp models | estimate | download` never disagree. A download runs in a worker
thread; its handler is a generator that turns the byte counts the hub code reports (the
`Progress` protocol of `hub.transfer`) into a progress bar a few times a second, and refreshes the
local table when the model is registered.

User mistakes (an unknown model, a bad repo id, an unreachable hub) are `LlmpError`s and are shown
on the page with their hint; anything else is a bug and keeps its traceback in the server log.
"""

from __future__ import annotations

import html
import threading
import time
from pathlib import Path

from ..errors import ConfigError, LlmpError
from ..workflow import SOURCE_LABELS, SOURCES

GB = 1e9

TEXTS: dict[str, dict[str, str]] = {
    "tab": {"en": "Models", "zh": "模型"},
    "local": {"en": "Local models", "zh": "本地模型"},
    "catalog": {"en": "Catalog", "zh": "模型目录"},
    "estimate": {"en": "Estimate memory", "zh": "显存/内存估算"},
    "download": {"en": "Download", "zh": "下载"},
    "local_table": {"en": "Models on this machine", "zh": "本机已有的模型"},
    "refresh": {"en": "Refresh", "zh": "刷新"},
    "remove_pick": {"en": "Model to remove", "zh": "要删除的模型"},
    "remove": {"en": "Remove", "zh": "删除"},
    "fits": {"en": "Fits this machine", "zh": "本机能否运行"},
    "source": {"en": "Hub", "zh": "模型仓库来源"},
    "catalog_table": {"en": "Curated models (* = used in the tutorial; click a row to estimate or download it)",
                      "zh": "精选模型（* 为教程使用；点击一行即可估算或下载）"},
    "model": {"en": "Model: local name, catalog name, hub id or folder",
              "zh": "模型：本地名称、目录名称、仓库 ID 或文件夹"},
    "params": {"en": "Or a size instead of a model (7b, 1.5b, 135m)", "zh": "或者只给参数量（如 7b、1.5b、135m）"},
    "context": {"en": "Context (tokens per sequence)", "zh": "上下文长度（每条序列的 token 数）"},
    "mode": {"en": "Mode", "zh": "用途"},
    "dtype": {"en": "Precision", "zh": "精度"},
    "checkpointing": {"en": "Gradient checkpointing (training)", "zh": "梯度检查点（训练时）"},
    "run_estimate": {"en": "Estimate", "zh": "估算"},
    "estimate_table": {"en": "GB per device", "zh": "每个设备所需内存（GB）"},
    "repo": {"en": "Repository (owner/name)", "zh": "仓库（owner/name）"},
    "endpoint": {"en": "Endpoint URL (optional; default HF_ENDPOINT)", "zh": "端点地址（可选，默认 HF_ENDPOINT）"},
    "mirror": {"en": "Mirror (Hugging Face only)", "zh": "镜像（仅 Hugging Face）"},
    "include": {"en": "Only files matching (optional, e.g. *.json *Q4_K_M.gguf)",
                "zh": "只下载匹配的文件（可选，如 *.json *Q4_K_M.gguf）"},
    "run_download": {"en": "Download", "zh": "开始下载"},
    "progress": {"en": "Progress", "zh": "进度"},
}

LOCAL_HEADERS = ["name", "format", "source", "size", "served", "path"]
CATALOG_HEADERS = ["name", "family", "size", "context", "license", "id"]
FIT_HEADERS = ["chat", "LoRA", "full FT"]
ESTIMATE_HEADERS = ["precision", "weights", "KV cache", "activations", "gradients", "optimizer",
                    "runtime", "total", "fits"]
FIT_CHOICES = [("show all", ""), ("for chat", "chat"), ("for LoRA", "lora"), ("for full fine-tuning", "full")]
MODE_CHOICES = [("inference (chat)", "infer"), ("LoRA", "lora"), ("QLoRA", "qlora"),
                ("freeze (last 2 blocks)", "freeze"), ("full fine-tuning", "full")]
SOURCE_CHOICES = [(SOURCE_LABELS[s], s) for s in SOURCES]


def _error_markdown(e: LlmpError) -> str:
    hint = f"\n\n{e.hint}" if e.hint else ""
    return f"**Error:** {e.message}{hint}"


def _size(path: Path) -> str:
    try:
        total = path.stat().st_size if path.is_file() else sum(
            p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        return "missing"
    return f"{total / 2**20:,.1f} MiB"


# -- local models -----------------------------------------------------------------------------

def local_rows(served: dict) -> list[list[str]]:
    from ..models.registry import list_models

    return [[m.name, m.format, m.source, _size(m.path), "yes" if m.name in served else "", str(m.path)]
            for m in list_models()]


def removable(served: dict) -> list[str]:
    """Models with a registration under LLMP_HOME (not the bundled one) that this server is not running."""
    from ..models.registry import MANIFEST, list_models, model_dir

    return [m.name for m in list_models()
            if m.name not in served and (model_dir(m.name) / MANIFEST).is_file()]


def remove(name: str | None, served: dict) -> str:
    from ..models.registry import remove_model

    if not name:
        raise ConfigError("model", "no model chosen.", "Pick a model in the list first.")
    if name in served:
        raise ConfigError("model", f"'{name}' is being served by this server.",
                          "Stop `llmp serve` and remove it with `llmp models rm NAME`.")
    info = remove_model(name)
    return f"Removed **{info.name}** ({info.source})."


# -- catalog ----------------------------------------------------------------------------------

def catalog_rows(fit_for: str | None, source: str | None) -> tuple[list[str], list[list[str]], str]:
    """(headers, rows, note). With `fit_for` ("chat", "lora" or "full"), only the models this
    machine can use that way, and what each can do here: chat precision, LoRA, full fine-tuning."""
    from ..catalog.catalog import fits, load_catalog
    from ..catalog.machine import detect_machine

    source = source or None
    entries = [e for e in load_catalog() if source is None or e.id_on(source)]
    headers = CATALOG_HEADERS[:-1] + [f"{source or 'hf'} id"]
    machine = detect_machine() if fit_for else None
    rows = []
    for e in entries:
        row = [e.name + (" *" if e.tutorial else ""), e.family, f"{e.params / 1e9:.2f}B",
               f"{e.context // 1024}k", e.license_label, e.id_on(source or "hf") or "-"]
        if machine is not None:
            f = fits(e, machine.budget, machine.device)
            if not {"chat": f.chat is not None, "lora": f.lora, "full": f.full}.get(fit_for, True):
                continue
            row += [f"yes ({f.chat}, {f.chat_bytes / GB:.1f} GB)",
                    "yes" if f.lora else f"no ({f.lora_bytes / GB:.0f} GB)",
                    "yes" if f.full else f"no ({f.full_bytes / GB:.0f} GB)"]
        rows.append(row)
    if machine is None:
        note = f"{len(rows)} models. Choose 'fits this machine' to see what this computer can run."
    else:
        use = dict((v, k) for k, v in FIT_CHOICES)[fit_for]
        note = (f"{len(rows)} of {len(entries)} models fit this machine {use} "
                f"({machine.describe()}). Chat at 2048 tokens; LoRA (bf16, rank 8) and full "
                "fine-tuning at 1024 tokens with gradient checkpointing.")
    return headers + (FIT_HEADERS if machine is not None else []), rows, note


def catalog_pick(name: str, source: str | None) -> tuple[str, str]:
    """A clicked catalog row: the name to estimate and the id to download on `source`."""
    from ..catalog.catalog import find_entry

    entry = find_entry(name.removesuffix(" *"))
    if entry is None:
        return name, ""
    return entry.name, entry.id_on(source or "hf") or entry.ids.hf or ""


# -- estimate ---------------------------------------------------------------------------------

def _gb(n: float) -> str:
    if n == 0:
        return "-"
    return f"{n / GB:.2f}" if n < 10 * GB else f"{n / GB:.1f}"


def estimate(model: str, params: str, context, mode: str, dtype: str,
             checkpointing: bool) -> tuple[str, list[list[str]]]:
    """(summary markdown with the verdict, one row per precision for `mode`)."""
    from ..catalog.machine import detect_machine, verdict
    from ..catalog.memory import PRECISIONS, estimate_memory, make_options
    from ..catalog.sources import resolve_model
    from ..settings import get_settings

    machine = detect_machine()
    try:
        context = int(context)
    except (TypeError, ValueError):
        raise ConfigError("context", f"must be a whole number of tokens, got {context!r}.") from None
    options = make_options(context=context, mode=mode or "infer", dtype=dtype or None,
                           grad_checkpointing=bool(checkpointing), device=machine.device)
    source = resolve_model((model or "").strip() or None, (params or "").strip() or None,
                           get_settings().hf_endpoint)
    rows = estimate_memory(source.shape, options, gguf_bytes=source.gguf_bytes, gguf_type=source.gguf_type)
    shape = source.shape
    budget = machine.budget
    table = []
    for r in rows:
        if r.mode != options.mode:
            continue
        label = {"bf16": "bf16/fp16"}.get(r.precision, r.precision)
        label += "" if r.precision in PRECISIONS else " (this file)"
        table.append([label, *(_gb(getattr(r, k)) for k in
                               ("weights", "kv_cache", "activations", "gradients", "optimizer", "runtime")),
                      _gb(r.total), "yes" if r.total <= budget else "no"])
    active = f", {shape.active / 1e9:.2f}B active per token" if shape.active != shape.total else ""
    summary = (
        f"**{source.label}** ({shape.architecture}): {shape.total:,} parameters "
        f"({shape.total / 1e9:.2f}B{active}), from {shape.method}. "
        f"{shape.layers} layers; KV cache {shape.kv_per_token * 2 / 1e6:.3f} MB per token in fp16.\n\n"
        f"**Verdict:** {verdict(rows, machine, source.gguf_type)}\n\n"
        "fp32 is single precision (4 bytes a parameter); fp16 and bf16 are half precision (2 bytes)."
    )
    if not table:
        summary += (f"\n\nNo {options.mode} estimate at {options.dtype}: choose 'every precision' to see "
                    "the precisions this method runs in.")
    return summary, table


# -- download ---------------------------------------------------------------------------------

class Tally:
    """Collects what the download threads report (`hub.transfer.Progress`) for the page to poll."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, list] = {}  # path -> [total or None, done, status]
        self.started = time.monotonic()
        self.listed = False

    def listing(self, listing, planned) -> None:
        with self.lock:
            for p in planned:
                self.files.setdefault(p.path, [p.size, p.on_disk if p.state != "missing" else 0, p.state])
            self.listed = True

    def file_started(self, path: str, total: int | None, done: int) -> None:
        with self.lock:
            self.files[path] = [total, done, "downloading"]

    def advanced(self, path: str, n: int) -> None:
        with self.lock:
            self.files[path][1] += n

    def file_finished(self, path: str, status: str) -> None:
        with self.lock:
            entry = self.files[path]
            entry[1] = entry[0] if entry[0] is not None else entry[1]
            entry[2] = status

    def snapshot(self) -> tuple[int, int, int, int, str | None]:
        """(bytes done, bytes total, files finished, files, a file in flight)."""
        with self.lock:
            done = sum(f[1] for f in self.files.values())
            total = sum(f[0] or f[1] for f in self.files.values())
            finished = sum(1 for f in self.files.values() if f[2] in ("present", "downloaded", "resumed"))
            current = next((p for p, f in self.files.items() if f[2] == "downloading"), None)
            return done, total, finished, len(self.files), current


def progress_html(tally: Tally, repo: str, state: str, message: str = "") -> str:
    """A <progress> bar with percent, bytes, speed and ETA; `state` is running | done | failed."""
    done, total, finished, count, current = tally.snapshot()
    percent = 100.0 if state == "done" else (100.0 * done / total if total else 0.0)
    seconds = max(time.monotonic() - tally.started, 1e-3)
    speed = done / seconds
    eta = (total - done) / speed if speed > 0 and total else None
    if not tally.listed:
        line = f"Listing {html.escape(repo)} ..." if state == "running" else ""
    else:
        line = (f"{percent:.0f}% &middot; {done / 2**20:,.1f} / {total / 2**20:,.1f} MiB &middot; "
                f"{finished}/{count} files")
        if state == "running":
            line += f" &middot; {speed / 2**20:,.1f} MiB/s"
            line += f" &middot; ETA {eta:.0f} s" if eta is not None else ""
            line += f" &middot; {html.escape(current)}" if current else ""
    extra = f"<div class='llmp-dl-message'>{message}</div>" if message else ""
    return (f"<div class='llmp-dl' data-state='{state}' data-percent='{percent:.1f}'>"
            f"<progress max='100' value='{percent:.1f}' style='width:100%;height:1.2em'></progress>"
            f"<div class='llmp-dl-line'>{line}</div>{extra}</div>")


def make_request(repo: str, source: str, endpoint: str, mirror: str, include: str):
    from pydantic import ValidationError

    from ..hub import DownloadRequest

    fields = {"repo_id": (repo or "").strip(), "source": source or "hf",
              "endpoint": (endpoint or "").strip() or None, "mirror": mirror or None,
              "include": tuple((include or "").split())}
    try:
        return DownloadRequest(**fields)
    except ValidationError as e:
        error = e.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "repo_id"
        problem = (f"{fields['repo_id']!r} is not a repository id." if field == "repo_id"
                   else f"{error['msg']} (got {error.get('input')!r}).")
        field = {"repo_id": "repository"}.get(field, field)
        raise ConfigError(field, problem,
                          "A repository id looks like owner/name, e.g. Qwen/Qwen2.5-0.5B-Instruct.") from None


def download_steps(request, poll: float = 0.25):
    """Run `download_model` in a thread; yield (state, html) until it is done or failed."""
    from ..hub import download_model

    tally = Tally()
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["result"] = download_model(request, progress=tally, on_listing=tally.listing)
        except LlmpError as e:
            outcome["error"] = e
        except Exception as e:  # a bug: show it on the page and keep it for the server log
            outcome["bug"] = e

    worker = threading.Thread(target=work, name="llmp-ui-download", daemon=True)
    worker.start()
    while worker.is_alive():
        yield "running", progress_html(tally, request.repo_id, "running")
        worker.join(poll)
    if "bug" in outcome:
        raise outcome["bug"]
    if "error" in outcome:
        message = html.escape(str(outcome["error"])).replace("\n", "<br>")
        yield "failed", progress_html(tally, request.repo_id, "failed", f"<b>Failed:</b> {message}")
        return
    result = outcome["result"]
    note = (f"<b>Done:</b> {html.escape(result.name)} is registered at {html.escape(str(result.path))} "
            f"({result.fetched_bytes / 2**20:,.1f} MiB fetched from {html.escape(result.endpoint)} "
            f"in {result.seconds:.1f} s). Chat with it: <code>llmp chat {html.escape(result.name)}</code>")
    yield "done", progress_html(tally, request.repo_id, "done", note)


# -- the tab ----------------------------------------------------------------------------------

def models_tab(gr, ctx) -> dict:
    from types import SimpleNamespace

    ui = SimpleNamespace()
    with gr.Tab(TEXTS["tab"]["en"], elem_id="tab-models") as ui.tab:
        with gr.Tabs():
            _local_layout(gr, ui, ctx.served)
            _catalog_layout(gr, ui)
            _estimate_layout(gr, ui, ctx.served)
            _download_layout(gr, ui)
    _wire_local_and_catalog(gr, ui, ctx.served)
    _wire_estimate_and_download(gr, ui, ctx.served)
    keys = {"tab": "tab", "local_tab": "local", "catalog_tab": "catalog", "estimate_tab": "estimate",
            "download_tab": "download", "local_table": "local_table", "refresh": "refresh",
            "pick": "remove_pick", "remove_button": "remove", "only_fitting": "fits", "source": "source",
            "catalog_table": "catalog_table", "model": "model", "params": "params", "context": "context",
            "mode": "mode", "dtype": "dtype", "checkpointing": "checkpointing",
            "run_estimate": "run_estimate", "estimate_table": "estimate_table", "repo": "repo",
            "hub": "source", "endpoint": "endpoint", "mirror": "mirror", "include": "include",
            "run_download": "run_download"}
    return {getattr(ui, attr): TEXTS[key] for attr, key in keys.items()}


def _local_view(gr, served: dict):
    names = removable(served)
    return local_rows(served), gr.update(choices=names, value=names[0] if names else None)


def _local_layout(gr, ui, served: dict) -> None:
    with gr.Tab(TEXTS["local"]["en"], elem_id="models-local") as ui.local_tab:
        ui.local_table = gr.Dataframe(value=local_rows(served), headers=LOCAL_HEADERS,
                                      label=TEXTS["local_table"]["en"], interactive=False,
                                      elem_id="local-models", wrap=True,
                                      column_widths=["20%", "8%", "17%", "10%", "8%", "37%"])
        with gr.Row():
            ui.refresh = gr.Button(TEXTS["refresh"]["en"], elem_id="local-refresh", scale=1)
            names = removable(served)
            ui.pick = gr.Dropdown(names, value=names[0] if names else None, scale=3,
                                  label=TEXTS["remove_pick"]["en"], elem_id="remove-pick")
            ui.remove_button = gr.Button(TEXTS["remove"]["en"], variant="stop", elem_id="remove", scale=1)
        ui.local_status = gr.Markdown(elem_id="local-status")


def _catalog_layout(gr, ui) -> None:
    headers, rows, note = catalog_rows(None, None)
    with gr.Tab(TEXTS["catalog"]["en"], elem_id="models-catalog") as ui.catalog_tab:
        with gr.Row():
            ui.only_fitting = gr.Radio(FIT_CHOICES, value="", label=TEXTS["fits"]["en"], elem_id="catalog-fits")
            ui.source = gr.Dropdown([("all hubs", ""), *SOURCE_CHOICES], value="",
                                    label=TEXTS["source"]["en"], elem_id="catalog-source")
        ui.catalog_table = gr.Dataframe(value=rows, headers=headers, interactive=False, wrap=True,
                                        max_height=1400,  # the whole catalog, no inner scrolling
                                        label=TEXTS["catalog_table"]["en"], elem_id="catalog-table")
        ui.catalog_note = gr.Markdown(note, elem_id="catalog-note")


def _estimate_layout(gr, ui, served: dict) -> None:
    from ..models.bundled import BUNDLED_NAME

    with gr.Tab(TEXTS["estimate"]["en"], elem_id="models-estimate") as ui.estimate_tab:
        with gr.Row():
            ui.model = gr.Textbox(next(iter(served), BUNDLED_NAME), label=TEXTS["model"]["en"],
                                  elem_id="estimate-model", scale=3)
            ui.params = gr.Textbox("", label=TEXTS["params"]["en"], elem_id="estimate-params", scale=1)
        with gr.Row():
            ui.context = gr.Number(2048, precision=0, minimum=1, label=TEXTS["context"]["en"],
                                   elem_id="estimate-context")
            ui.mode = gr.Dropdown(MODE_CHOICES, value="infer", label=TEXTS["mode"]["en"], elem_id="estimate-mode")
            ui.dtype = gr.Dropdown(_dtype_choices(), value="", label=TEXTS["dtype"]["en"],
                                   elem_id="estimate-dtype")
            ui.checkpointing = gr.Checkbox(False, label=TEXTS["checkpointing"]["en"])
        ui.run_estimate = gr.Button(TEXTS["run_estimate"]["en"], variant="primary", elem_id="estimate-run")
        ui.summary = gr.Markdown(elem_id="estimate-summary")
        ui.estimate_table = gr.Dataframe(headers=ESTIMATE_HEADERS, interactive=False,
                                         label=TEXTS["estimate_table"]["en"], elem_id="estimate-table")


def _download_layout(gr, ui) -> None:
    with gr.Tab(TEXTS["download"]["en"], elem_id="models-download") as ui.download_tab:
        with gr.Row():
            ui.repo = gr.Textbox(label=TEXTS["repo"]["en"], elem_id="download-repo", scale=3,
                                 placeholder="Qwen/Qwen2.5-0.5B-Instruct")
            ui.hub = gr.Dropdown(SOURCE_CHOICES, value="hf", label=TEXTS["source"]["en"],
                                 elem_id="download-source", scale=1)
        with gr.Row():
            ui.endpoint = gr.Textbox(label=TEXTS["endpoint"]["en"], elem_id="download-endpoint", scale=2,
                                     placeholder="https://hf-mirror.com")
            ui.mirror = gr.Dropdown([("none", ""), ("hf-mirror.com", "hf-mirror")], value="",
                                    label=TEXTS["mirror"]["en"], elem_id="download-mirror", scale=1)
            ui.include = gr.Textbox(label=TEXTS["include"]["en"], elem_id="download-include", scale=2)
        ui.run_download = gr.Button(TEXTS["run_download"]["en"], variant="primary", elem_id="download-run")
        ui.progress = gr.HTML(elem_id="download-progress", label=TEXTS["progress"]["en"])


def _wire_local_and_catalog(gr, ui, served: dict) -> None:
    def on_refresh():
        return (*_local_view(gr, served), "")

    def on_remove(name):
        try:
            message = remove(name, served)
        except LlmpError as e:
            message = _error_markdown(e)
        return (*_local_view(gr, served), message)

    def on_catalog(fit, hub_source):
        table_headers, table_rows, text = catalog_rows(fit or None, hub_source)
        return gr.update(value=table_rows, headers=table_headers), text

    def on_pick(hub_source, evt):
        name = evt.row_value[0] if evt.row_value else ""
        if not name:
            return gr.skip(), gr.skip()
        return catalog_pick(str(name), hub_source)

    # Gradio injects event data by the parameter's annotation, which `from __future__ import
    # annotations` turns into a string it cannot resolve; give it the class itself.
    on_pick.__annotations__["evt"] = gr.SelectData

    ui.refresh.click(on_refresh, None, [ui.local_table, ui.pick, ui.local_status])
    ui.remove_button.click(on_remove, ui.pick, [ui.local_table, ui.pick, ui.local_status])
    ui.only_fitting.change(on_catalog, [ui.only_fitting, ui.source], [ui.catalog_table, ui.catalog_note])
    ui.source.change(on_catalog, [ui.only_fitting, ui.source], [ui.catalog_table, ui.catalog_note])
    ui.catalog_table.select(on_pick, ui.source, [ui.model, ui.repo])


def _wire_estimate_and_download(gr, ui, served: dict) -> None:
    def on_estimate(*values):
        try:
            return estimate(*values)
        except LlmpError as e:
            return _error_markdown(e), []

    def on_download(repo_id, hub_source, url, mirror_name, patterns):
        try:
            request = make_request(repo_id, hub_source, url, mirror_name, patterns)
        except LlmpError as e:
            message = html.escape(str(e)).replace("\n", "<br>")
            yield (f"<div class='llmp-dl' data-state='failed'><b>Error:</b> {message}</div>",
                   gr.skip(), gr.skip())
            return
        for state, page in download_steps(request):
            if state == "running":
                yield page, gr.skip(), gr.skip()
            else:
                yield (page, *_local_view(gr, served))

    estimate_inputs = [ui.model, ui.params, ui.context, ui.mode, ui.dtype, ui.checkpointing]
    ui.run_estimate.click(on_estimate, estimate_inputs, [ui.summary, ui.estimate_table])
    ui.model.submit(on_estimate, estimate_inputs, [ui.summary, ui.estimate_table])
    # The page's own bar is the progress; Gradio's spinner over the outputs would hide it.
    ui.run_download.click(on_download, [ui.repo, ui.hub, ui.endpoint, ui.mirror, ui.include],
                          [ui.progress, ui.local_table, ui.pick], show_progress="hidden")


def _dtype_choices() -> list[tuple[str, str]]:
    from ..catalog.memory import PRECISIONS

    return [("every precision", "")] + [(p.label, name) for name, p in PRECISIONS.items()]
