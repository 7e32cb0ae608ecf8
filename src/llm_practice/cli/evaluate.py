"""`llmp eval`: perplexity, multiple-choice benchmarks, QA, and before/after comparison."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

EXAMPLES = """\b
Examples:
  llmp eval smollm2-135m-instruct --task mcq --data examples/mcq --shots 3
  llmp eval smollm2-135m-instruct --task ppl --data held-out.txt --window 1024 --stride 512
  llmp eval my-sft-run --task qa --data qa.jsonl --metric contains
  llmp eval my-sft-run --task qa --data qa.jsonl --metric judge --judge-model qwen2.5-7b
  llmp eval qwen2.5-7b --task qa --data qa.jsonl --base-url http://127.0.0.1:8000/v1
  llmp eval compare smollm2-135m-instruct my-sft-run --task mcq --data examples/mcq --out report/
"""


class DefaultGroup(click.Group):
    """`llmp eval MODEL ...` runs `run`; `llmp eval compare ...` runs `compare`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, epilog=EXAMPLES)
def evaluate():
    """Evaluate MODEL: `llmp eval MODEL --task ppl|mcq|qa --data PATH`, or compare two models.

    MODEL is anything `llmp chat` runs (registered name, .gguf file, HF folder) or a training run.
    """


def _task_options(f):
    options = [
        click.option("--window", type=int, help="ppl: tokens per window (default 1024)."),
        click.option("--stride", type=int, help="ppl: tokens between window starts (default 512)."),
        click.option("--split", help="mcq: val or test (default: val when present)."),
        click.option("--shots", type=int, help="mcq: solved dev examples before each question (default 0)."),
        click.option("--scoring", type=click.Choice(["letter", "text"]),
                     help="mcq: log-likelihood of the option letter (default) or of its text."),
        click.option("--lang", type=click.Choice(["auto", "en", "zh"]), help="mcq: prompt language."),
        click.option("--subject", "subjects", multiple=True, help="mcq: only these subjects (repeat)."),
        click.option("--limit", type=int, help="mcq: questions per subject; qa: questions."),
        click.option("--metric", type=click.Choice(["exact", "contains", "judge"]),
                     help="qa: how answers are scored (default contains)."),
        click.option("--max-tokens", type=int, help="qa: answer length limit (default 128)."),
        click.option("--format", "fmt", help="ppl/qa: dataset format (default auto)."),
        click.option("--base-url", help="qa: evaluate MODEL as this OpenAI-compatible endpoint serves it "
                                        "(llmp serve, vLLM, Ollama, a cloud API)."),
        click.option("--judge-model", help="qa --metric judge: the judge, a local model name or the name "
                                           "served at --judge-base-url."),
        click.option("--judge-base-url", help="qa --metric judge: the judge's OpenAI-compatible endpoint."),
        click.option("--api-key", envvar="OPENAI_API_KEY", help="Key for --base-url and --judge-base-url."),
        click.option("--threads", type=click.IntRange(min=1), help="CPU threads."),
        click.option("--batch-tokens", type=click.IntRange(min=64), default=4096, show_default=True,
                     help="Tokens per forward batch (ppl, mcq)."),
        click.option("--no-cache", is_flag=True, help="Recompute even if a finished result is cached."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


OPTION_KEYS = {"window", "stride", "split", "shots", "scoring", "lang", "subjects", "limit", "metric",
               "max_tokens", "fmt"}


def _options(task: str, kw: dict, strict: bool = True) -> dict:
    """The task's options from the flags; a flag the task does not take is an error when `strict`
    (one task), and is left to the tasks that take it otherwise (compare runs several)."""
    from ..evaluate import TASKS, task_config

    if task not in TASKS:
        task_config(task)  # raises the error listing the tasks
    module, cls_name, _ = TASKS[task]
    from importlib import import_module

    fields = getattr(import_module(module), cls_name).model_fields
    options = {}
    for key in OPTION_KEYS:
        value = kw.get(key)
        if value in (None, ()):
            continue
        name = "format" if key == "fmt" else key
        if name not in fields and not strict:
            continue
        if name not in fields:
            from ..errors import ConfigError

            flag = "--" + ("subject" if key == "subjects" else key.replace("_", "-"))
            raise ConfigError(flag, f"does not apply to --task {task}.",
                              f"--task {task} takes: {', '.join('--' + f.replace('_', '-').removesuffix('s') if f == 'subjects' else '--' + f.replace('_', '-') for f in fields)}.")
        options[name] = list(value) if isinstance(value, tuple) else value
    return options


def _judge(kw: dict, metric: str | None):
    if metric != "judge":
        return None
    from ..errors import ConfigError
    from ..prompts.backends import make_backend

    if not kw.get("judge_model") and not kw.get("judge_base_url"):
        raise ConfigError("--metric judge", "needs a judge: --judge-model NAME (local) or --judge-base-url URL "
                          "[--judge-model NAME].")
    return make_backend(kw.get("judge_model"), kw.get("judge_base_url"), api_key=kw.get("api_key"))


@contextmanager
def _bar(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, disable=not enabled, transient=True) as bars:
        tasks: dict[str, int] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=total)
            bars.update(tasks[label], completed=done, total=total)

        yield update


@evaluate.command("run", epilog=EXAMPLES)
@click.argument("model")
@click.option("--task", required=True, help="ppl, mcq or qa.")
@click.option("--data", required=True, help="Text file (ppl), benchmark folder or CSV (mcq), QA dataset (qa).")
@_task_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def run(model, task, data, as_json, **kw):
    """Evaluate MODEL on one task."""
    from ..evaluate import evaluate as run_task

    options = _options(task, kw)
    extra = {"judge": _judge(kw, options.get("metric"))} if task == "qa" else {}
    with _bar(sys.stderr.isatty() and not as_json) as update:
        result = run_task(model, task, data, options, threads=kw.get("threads"),
                          progress=lambda d, n: update(f"{task} {model}", d, n),
                          use_cache=not kw.get("no_cache"), base_url=kw.get("base_url"),
                          api_key=kw.get("api_key"),
                          **({"batch_tokens": kw["batch_tokens"]} if task != "qa" else {}), **extra)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_result(result)


def _print_result(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    m = result["metrics"]
    note = " (cached)" if result.get("cached") else (
        f" (resumed {result['resumed_items']} finished items)" if result.get("resumed_items") else "")
    if result["task"] == "ppl":
        s = result["settings"]
        console.print(f"perplexity {m['ppl']:.3f} on {result['data']}: {result['scored_tokens']} tokens "
                      f"scored in {result['windows']} windows of {s['window']} tokens, stride {s['stride']}"
                      f" ({result['documents']} documents){note}")
        return
    if result["task"] == "mcq":
        s = result["settings"]
        table = Table(title=f"{result['model']}: {result['data']} ({s['split']}, {s['shots']}-shot, "
                      f"{s['scoring']} scoring)")
        for col in ("subject", "questions", "acc", "acc_norm"):
            table.add_column(col, justify="left" if col == "subject" else "right")
        for name, sub in result["subjects"].items():
            table.add_row(name, str(sub["n"]), f"{100 * sub['acc']:.1f}", f"{100 * sub['acc_norm']:.1f}")
        table.add_row("[bold]overall", str(m["n"]), f"[bold]{100 * m['acc']:.1f}", f"{100 * m['acc_norm']:.1f}")
        console.print(table)
        console.print(f"macro average {100 * m['acc_macro']:.1f}{note}")
        return
    console.print(f"{m['metric']} accuracy {100 * m['acc']:.1f}% on {m['n']} questions from "
                  f"{result['data']}{note}")


@evaluate.command("compare", epilog=EXAMPLES)
@click.argument("base")
@click.argument("tuned")
@click.option("--task", "tasks", multiple=True, required=True, help="ppl, mcq or qa (repeat, one per --data).")
@click.option("--data", "datas", multiple=True, required=True, help="Data for each --task, in order.")
@_task_options
@click.option("--out", default="eval-report", show_default=True, help="Folder for compare.html and compare.json.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def compare(base, tuned, tasks, datas, out, as_json, **kw):
    """Compare BASE and TUNED on the same tasks: where the tuned model wins and loses."""
    from ..errors import ConfigError
    from ..evaluate.compare import compare_models, write_report

    if len(tasks) != len(datas):
        raise ConfigError("--data", f"{len(tasks)} --task but {len(datas)} --data.",
                          "Give one --data per --task, in the same order.")
    plan, judge, used = [], None, set()
    for task, data in zip(tasks, datas):
        options = _options(task, kw, strict=False)
        used |= set(options)
        judge = judge or _judge(kw, options.get("metric"))
        plan.append((task, data, options))
    for key in OPTION_KEYS:
        name = "format" if key == "fmt" else key
        if kw.get(key) not in (None, ()) and name not in used:
            flag = "--" + ("subject" if key == "subjects" else key.replace("_", "-"))
            raise ConfigError(flag, f"applies to none of the tasks ({', '.join(tasks)}).")
    kwargs = {"threads": kw.get("threads"), "use_cache": not kw.get("no_cache")}
    if kw.get("base_url"):  # both models as that endpoint serves them
        kwargs |= {"base_url": kw["base_url"], "api_key": kw.get("api_key")}
    if judge is not None:
        kwargs["judge"] = judge
    with _bar(sys.stderr.isatty() and not as_json) as update:
        report = compare_models(base, tuned, plan, progress=update, **kwargs)
    paths = write_report(report, out)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_compare(report, paths)


def _print_compare(report: dict, paths: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{report['base']} -> {report['tuned']}")
    for col in ("task", "data", "metric", "base", "tuned", "change", "wins", "losses"):
        table.add_column(col)
    for row in report["tasks"]:
        pct = row["metric"] != "ppl"
        fmt = (lambda v: f"{100 * v:.1f}%") if pct else (lambda v: f"{v:.3f}")
        colour = {"better": "green", "worse": "red"}.get(row["verdict"], "white")
        change = f"{100 * row['delta']:+.1f} pts" if pct else f"{row['delta']:+.3f}"
        table.add_row(row["task"], row["data"], row["metric"], fmt(row["base"]), fmt(row["tuned"]),
                      f"[{colour}]{change} ({row['verdict']})", str(len(row.get("wins", []))),
                      str(len(row.get("losses", []))))
        for name, sub in (row.get("subjects") or {}).items():
            d = 100 * (sub["tuned"] - sub["base"])
            table.add_row("", f"  {name}", "acc", f"{100 * sub['base']:.1f}%", f"{100 * sub['tuned']:.1f}%",
                          f"[{'green' if d > 0 else 'red' if d < 0 else 'white'}]{d:+.1f} pts", "", "")
    console.print(table)
    console.print(f"report: {paths['html']} (and {paths['json'].name})")
