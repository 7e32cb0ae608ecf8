"""`llmp tour`: the tutorial's whole path, end to end, with a progress line per step and a report."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import TourFailedError

EPILOG = """\b
Examples:
  llmp tour --quick                 # about ten minutes on 2 cores; report in ./llmp-tour/report.html
  llmp tour --lang zh --out ~/tour  # the full tour, Chinese report
  llmp tour --only chat,prompt-lint # some steps only
"""

WORDS = {
    "en": {"start": "llmp tour ({kind}): {n} steps, working in {out}", "quick": "quick", "full": "full",
           "ok": "ok", "failed": "FAILED", "skipped": "skipped", "running": "running",
           "done": "{ok} ok, {failed} failed, {skipped} skipped in {seconds:.0f} s. Report: {html}"},
    "zh": {"start": "llmp tour（{kind}）：共 {n} 步，工作目录 {out}", "quick": "快速版", "full": "完整版",
           "ok": "完成", "failed": "失败", "skipped": "跳过", "running": "正在运行",
           "done": "完成 {ok} 步，失败 {failed} 步，跳过 {skipped} 步，用时 {seconds:.0f} 秒。报告：{html}"},
}
STYLE = {"ok": "green", "failed": "bold red", "skipped": "yellow"}


@click.command(epilog=EPILOG)
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Report and output language (default: LLMP_LANG).")
@click.option("--quick", is_flag=True, help="Shorter training steps (the whole tour in about 10 minutes on 2 cores).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("llmp-tour"),
              show_default=True, help="Working folder: its own LLMP_HOME, outputs and report.html.")
@click.option("--only", help="Comma-separated step ids to run (estimate, chat, prompt-lint, prompt-compare, kb, "
                              "sft, rm, grpo, eval, export, chat-tuned).")
def tour(lang: str | None, quick: bool, out: Path, only: str | None) -> None:
    """Run the tutorial's path end to end on this machine, offline, and write an HTML report."""
    from rich.console import Console

    from ..settings import get_settings
    from ..tour.report import summary, write_report
    from ..tour.runner import TourConfig, find_repo, run_tour
    from ..tour.steps import STEPS
    from .main import COMMANDS

    lang = lang or get_settings().lang
    words = WORDS[lang]
    ids = tuple(s.strip() for s in only.split(",")) if only else ()
    unknown = [i for i in ids if i not in {s.id for s in STEPS}]
    if unknown:
        raise click.BadParameter(f"unknown step {unknown[0]!r}; steps: {', '.join(s.id for s in STEPS)}",
                                 param_hint="--only")
    config = TourConfig(out=out.resolve(), lang=lang, quick=quick, available=frozenset(COMMANDS),
                        repo=find_repo(), only=ids)
    console = Console(highlight=False)
    total = len(ids) or len(STEPS)
    console.print(words["start"].format(kind=words["quick" if quick else "full"], n=total, out=config.out))
    state = {"n": 0, "status": None}

    def on_start(index, step) -> None:
        state["n"] += 1
        state["status"] = console.status(f"[{state['n']}/{total}] {step.title[lang]} … {words['running']}")
        state["status"].start()

    def on_done(index, result) -> None:
        state["status"].stop()
        line = (f"[{state['n']:>2}/{total}] {result.title:<40} [{STYLE[result.status]}]{words[result.status]}"
                f"[/] {result.seconds:6.1f} s")
        console.print(line + (f"  ({result.reason})" if result.reason else ""))

    started = time.perf_counter()
    results = run_tour(config, on_start, on_done)
    seconds = time.perf_counter() - started
    _, html_path = write_report(results, config, seconds)
    counts = summary(results)
    console.print(words["done"].format(seconds=seconds, html=html_path, **counts))
    failed = [r.id for r in results if r.status == "failed"]
    if failed:
        raise TourFailedError(failed, html_path)
