"""The web UI's Train tab: pick a recipe, edit its fields, start and stop `llmp train`, watch it.

The page never trains in the server's process: Start runs the same `llmp train RECIPE key=value
...` command it shows (a child process in its own session, output to
`LLMP_HOME/logs/train-NAME.log`); Stop sends it Ctrl-C (SIGINT), which saves a checkpoint and
marks the run `stopped` (`--resume` continues it); a second Stop kills it. The fields are the
recipe's YAML: every value changed on the page becomes a `key=value` override, so the command and
the run agree with `llmp train` in a terminal. The loss plot, the log and the runs table are read
from the run folders (`metrics.jsonl`, `run.json`) every two seconds while a run is watched.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import ConfigError, LlmpError

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
LOG_TAIL = 40
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

TEXTS: dict[str, dict[str, str]] = {
    "tab": {"en": "Train", "zh": "训练"},
    "recipe": {"en": "Recipe (a file in recipes/ or any recipe path)", "zh": "配方（recipes/ 中的文件或任意配方路径）"},
    "fields": {"en": "Recipe fields (YAML; changed values become key=value overrides)",
               "zh": "配方字段（YAML；改动的值会变成 key=value 覆盖参数）"},
    "overwrite": {"en": "Overwrite a finished or failed run of the same name (--overwrite)",
                  "zh": "覆盖同名的已完成或失败的 run（--overwrite）"},
    "command": {"en": "Equivalent command", "zh": "等价的命令行"},
    "start": {"en": "Start", "zh": "开始训练"},
    "stop": {"en": "Stop (saves a checkpoint)", "zh": "停止（会保存检查点）"},
    "watch": {"en": "Run shown below", "zh": "下方显示的 run"},
    "loss": {"en": "Training loss", "zh": "训练损失"},
    "log": {"en": "Log", "zh": "日志"},
    "runs": {"en": "Runs", "zh": "训练记录"},
    "refresh": {"en": "Refresh", "zh": "刷新"},
}
RUN_HEADERS = ["name", "stage", "status", "steps", "final loss", "created"]


def recipe_choices() -> list[tuple[str, str]]:
    return [(f"recipes/{p.name}", str(p)) for p in sorted(RECIPES.glob("*.yaml"))]


def read_fields(recipe: str) -> str:
    try:
        return Path(recipe).read_text(encoding="utf-8") if recipe else ""
    except OSError as e:
        return f"# cannot read {recipe}: {e.strerror}\n"


def _flow(value) -> str:
    """A YAML value on one line, as `parse_override` reads it back."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text[:-4].strip() if text.endswith("\n...") else text


def overrides_for(recipe: str, fields: str) -> list[str]:
    """`key=value` for each field whose value differs from the recipe file."""
    import yaml

    original = yaml.safe_load(read_fields(recipe)) or {}
    try:
        edited = yaml.safe_load(fields) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"fields, line {mark.line + 1}" if mark else "fields"
        raise ConfigError(where, f"is not valid YAML ({getattr(e, 'problem', e)})",
                          "Check the indentation and the `key: value` form on that line.") from None
    if not isinstance(edited, dict) or not isinstance(original, dict):
        raise ConfigError("fields", "a recipe is a YAML mapping of key: value", "Pick the recipe again to reset them.")
    removed = [k for k in original if k not in edited]
    if removed:
        raise ConfigError(f"fields: {removed[0]}", "was removed; a key=value override cannot remove a recipe key",
                          "Put the key back (or pick the recipe again); change its value instead.")
    return [f"{k}={_flow(v)}" for k, v in edited.items() if k not in original or original[k] != v]


def command_for(recipe: str, fields: str, overwrite: bool) -> list[str]:
    """The `llmp train` arguments (after `llmp`) for the recipe as edited on the page."""
    if not (recipe or "").strip():
        raise ConfigError("recipe", "no recipe picked", "Pick one of recipes/*.yaml or type a recipe path.")
    return ["train", recipe.strip(), *overrides_for(recipe.strip(), fields), *(["--overwrite"] if overwrite else [])]


def show_command(recipe: str, fields: str, overwrite: bool) -> str:
    try:
        return shlex.join(["llmp", *command_for(recipe, fields, overwrite)])
    except LlmpError as e:
        return f"# {e.message}"


class TrainJobs:
    """`llmp train` child processes started from this server, by run name."""

    def __init__(self):
        self.procs: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()

    def start(self, args: list[str]) -> str:
        from ..settings import get_settings
        from ..train.recipe import load_recipe

        recipe = load_recipe(args[1], [a for a in args[2:] if not a.startswith("--")])  # key errors now, not in the log
        name = recipe.name
        with self.lock:
            if self.running(name):
                raise ConfigError("Start", f"run '{name}' is already running from this page",
                                  "Stop it first, or change `name:` in the fields.")
            log = log_path(name)
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("w", encoding="utf-8") as out:
                out.write(f"$ {shlex.join(['llmp', *args])}\n")
                out.flush()
                env = {**os.environ, "LLMP_HOME": str(get_settings().home), "COLUMNS": "120", "PYTHONUNBUFFERED": "1",
                       "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "NO_COLOR": "1"}  # a live progress line
                self.procs[name] = subprocess.Popen([sys.executable, "-m", "llm_practice", *args], stdout=out,
                                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                                    start_new_session=True)
        return name

    def running(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def stop(self, name: str) -> str:
        """Ctrl-C first (checkpoint, status stopped); a second Stop kills the process group."""
        with self.lock:
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                return "not_running"
            if getattr(proc, "llmp_interrupted", False):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                _mark_stopped(name)
                return "killed"
            proc.llmp_interrupted = True
            os.killpg(proc.pid, signal.SIGINT)
            return "interrupted"


def _mark_stopped(name: str) -> None:
    from ..settings import get_settings
    from ..train.run import RunFolder

    run = RunFolder(get_settings().runs_dir / name)
    if run.info().get("status") == "running":
        run.update_info(status="stopped")


def log_path(name: str) -> Path:
    from ..settings import get_settings

    return get_settings().home / "logs" / f"train-{name}.log"


def runs_table(jobs: TrainJobs) -> list[list]:
    from ..train.runs import list_runs

    rows = []
    for info in list_runs():
        loss = (info.get("metrics") or {}).get("final_loss")
        status = info.get("status", "")
        steps = info.get("steps", "")
        if status == "running":  # run.json counts saved steps; the metrics log every logged one
            points = loss_points(info.get("name", ""))
            steps = int(points["step"].iloc[-1]) if len(points) else steps
        if jobs.running(info.get("name", "")):
            status += " (this server)"
        rows.append([info.get("name", ""), info.get("stage", ""), status, steps,
                     f"{loss:.4f}" if isinstance(loss, (int, float)) else "", str(info.get("created", ""))[:19]])
    return rows


def loss_points(name: str):
    """(step, loss) of a run's metrics.jsonl as a DataFrame for the line plot."""
    import json

    import pandas as pd

    from ..settings import get_settings

    points = []
    path = get_settings().runs_dir / (name or "") / "metrics.jsonl"
    if name and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line being written
            if isinstance(row.get("loss"), (int, float)):
                points.append({"step": row["step"], "loss": row["loss"]})
    return pd.DataFrame(points, columns=["step", "loss"])


def log_tail(name: str) -> str:
    """The command line, then the last lines of the run's output; a progress bar redrawn with \\r
    shows as its latest state. A long run's redraws fill the file, so the tail is read from the end
    and the command (the file's first line) is kept on top however long the file grows."""
    try:
        with log_path(name).open("rb") as f:
            head = f.readline()
            start = max(f.tell(), f.seek(0, 2) - 65536)
            f.seek(start)
            tail = f.read()
    except (OSError, TypeError):
        return ""
    if start > len(head):  # the tail starts mid-line: drop up to the next line or redraw
        tail = re.split(rb"[\r\n]", tail, maxsplit=1)[-1]
    text = ANSI.sub("", (head + tail).decode("utf-8", errors="replace"))
    lines = [part.rstrip("\r").rsplit("\r", 1)[-1] for part in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    return "\n".join(lines[:1] + lines[1:][-(LOG_TAIL - 1):])


def status_line(jobs: TrainJobs, name: str) -> str:
    from ..settings import get_settings
    from ..train.run import RunFolder

    if not name:
        return ""
    info = RunFolder(get_settings().runs_dir / name).info()
    proc = jobs.procs.get(name)
    if jobs.running(name):
        state = "running" if info.get("status") == "running" else "starting"
    elif proc is not None and proc.returncode not in (0, 130) and info.get("status") != "stopped":
        state = f"{info.get('status', 'failed')} (exit code {proc.returncode}; see the log)"
    else:
        state = info.get("status", "")
    points = loss_points(name)
    if len(points):
        state += f", step {int(points['step'].iloc[-1])}, loss {points['loss'].iloc[-1]:.4f}"
    return f"**{name}**: {state}"


def train_tab(gr, ctx) -> dict:
    jobs = TrainJobs()
    choices = recipe_choices()
    first = choices[0][1] if choices else ""
    with gr.Tab(TEXTS["tab"]["en"], elem_id="tab-train") as tab:
        with gr.Row():
            recipe = gr.Dropdown(choices, value=first, allow_custom_value=True, label=TEXTS["recipe"]["en"],
                                 elem_id="train-recipe", scale=3)
            overwrite = gr.Checkbox(False, label=TEXTS["overwrite"]["en"], elem_id="train-overwrite")
        fields = gr.Textbox(read_fields(first), lines=12, max_lines=30, label=TEXTS["fields"]["en"],
                            elem_id="train-fields")
        command = gr.Textbox(show_command(first, read_fields(first), False), interactive=False,
                             label=TEXTS["command"]["en"], elem_id="train-command")
        with gr.Row():
            start = gr.Button(TEXTS["start"]["en"], variant="primary", elem_id="train-start")
            stop = gr.Button(TEXTS["stop"]["en"], variant="stop", elem_id="train-stop")
        status = gr.Markdown(elem_id="train-status")
        watch = gr.Dropdown([], value=None, allow_custom_value=True, label=TEXTS["watch"]["en"], elem_id="train-watch")
        with gr.Row():
            plot = gr.LinePlot(loss_points(""), x="step", y="loss", label=TEXTS["loss"]["en"], elem_id="train-loss")
            log = gr.Textbox(lines=14, max_lines=14, interactive=False, label=TEXTS["log"]["en"], elem_id="train-log",
                             autoscroll=True)
        runs = gr.Dataframe(runs_table(jobs), headers=RUN_HEADERS, interactive=False, label=TEXTS["runs"]["en"],
                            elem_id="train-runs")
        refresh = gr.Button(TEXTS["refresh"]["en"], size="sm", elem_id="train-refresh")
        timer = gr.Timer(2.0, active=False)

    def pick(path):
        text = read_fields(path)
        return text, show_command(path, text, False), False

    def on_start(path, text, replace):
        try:
            name = jobs.start(command_for(path, text, replace))
        except LlmpError as e:
            hint = f" {e.hint}" if e.hint else ""
            return f"**Error:** {e.message}.{hint}", \
                gr.update(), gr.Timer(active=False)
        return status_line(jobs, name), gr.update(choices=[r[0] for r in runs_table(jobs)] + [name], value=name), \
            gr.Timer(active=True)

    def on_stop(name):
        what = jobs.stop(name) if name else "not_running"
        return {"interrupted": f"**{name}**: stopping (Ctrl-C: saving a checkpoint) ...",
                "killed": f"**{name}**: killed", "not_running": f"**{name or '-'}**: not running from this page"}[what]

    def tick(name):
        live = jobs.running(name)
        return (loss_points(name), log_tail(name), runs_table(jobs), status_line(jobs, name),
                gr.Timer(active=live))

    def on_watch(name):
        return (*tick(name)[:4], gr.Timer(active=jobs.running(name)))

    recipe.change(pick, recipe, [fields, command, overwrite])
    for trigger in (fields.change, overwrite.change):
        trigger(show_command, [recipe, fields, overwrite], command)
    start.click(on_start, [recipe, fields, overwrite], [status, watch, timer])
    stop.click(on_stop, watch, status)
    timer.tick(tick, watch, [plot, log, runs, status, timer])
    watch.change(on_watch, watch, [plot, log, runs, status, timer])
    refresh.click(lambda: (runs_table(jobs), gr.update(choices=[r[0] for r in runs_table(jobs)])), None, [runs, watch])
    keys = {tab: "tab", recipe: "recipe", fields: "fields", overwrite: "overwrite", command: "command",
            start: "start", stop: "stop", watch: "watch", plot: "loss", log: "log", runs: "runs", refresh: "refresh"}
    return {comp: TEXTS[key] for comp, key in keys.items()}
