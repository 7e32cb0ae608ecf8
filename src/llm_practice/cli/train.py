"""`llmp train`: run a recipe (with key=value overrides), list runs, show one.

    llmp train recipes/sft-lora-demo.yaml max_steps=20 learning_rate=1e-4
    llmp train recipes/sft-lora-demo.yaml --dry-run      # every check, no weights loaded
    llmp train recipes/sft-lora-demo.yaml --resume       # after Ctrl-C or kill -9
    llmp train recipes/sft-lora-demo.yaml --nproc 2      # accelerate launch (DDP; --accelerate-config zero3)
    llmp train list
    llmp train show sft-lora-demo
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click

WORKER_ENV = "LLMP_TRAIN_WORKER"


class DefaultGroup(click.Group):
    """`llmp train RECIPE ...` runs a recipe; `llmp train list|show|keys` are sub-commands."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup)
def train() -> None:
    """Fine-tune a model from a recipe: pt, sft, rm, dpo, kto, grpo, rloo, ppo.

    \b
    llmp train RECIPE.yaml [key=value ...] [--nproc N] [--resume] [--dry-run] [--output DIR] [--overwrite]
    llmp train list | show NAME | keys STAGE

    Example: llmp train recipes/sft-lora-demo.yaml max_steps=20
    """


@train.command("run", context_settings={"ignore_unknown_options": False})
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--nproc", type=click.IntRange(1), default=1, show_default=True,
              help="Processes (one per GPU; CPU uses gloo) through `accelerate launch`.")
@click.option("--accelerate-config", "accel", default=None,
              help="ddp (default), zero2, zero3, fsdp, or an accelerate config file.")
@click.option("--resume", is_flag=True, help="Continue the run from its newest checkpoint.")
@click.option("--dry-run", is_flag=True, help="Check recipe, data, model, folder and memory; load no weights.")
@click.option("--output", type=click.Path(file_okay=False), default=None,
              help="Run folder (default: LLMP_HOME/runs/NAME).")
@click.option("--overwrite", is_flag=True, help="Replace a finished or failed run in the output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan / result as JSON.")
def run_cmd(recipe, overrides, nproc, accel, resume, dry_run, output, overwrite, as_json) -> None:
    """Run RECIPE.yaml; key=value overrides any recipe key or TRL setting.

    Example: llmp train recipes/dpo-demo.yaml loss_type=ipo max_steps=10
    """
    from ..train.ppo_env import ENV_FLAG, has_ppo, overlay_dir, overlay_ready
    from ..train.recipe import peek_stage

    if peek_stage(recipe, overrides) == "ppo" and not has_ppo() and overlay_ready() and not os.environ.get(ENV_FLAG):
        env = {**os.environ, ENV_FLAG: "1", "TRL_EXPERIMENTAL_SILENCE": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(overlay_dir()), os.environ.get("PYTHONPATH")]))}
        code = subprocess.call([sys.executable, "-m", "llm_practice", "train", *sys_args()], env=env)
        raise click.exceptions.Exit(code)

    from ..train.recipe import load_recipe
    from ..train.session import plan_run, start_run, train as run_train

    worker = bool(os.environ.get(WORKER_ENV))
    parsed = load_recipe(recipe, overrides)
    plan = plan_run(parsed, output=output, resume=resume, overwrite=overwrite, check_folder=not worker)
    if dry_run:
        _print_plan(plan, as_json)
        return
    if nproc > 1 and not worker:
        from ..train.launch import launch_command

        start_run(plan)
        cmd = launch_command(nproc, accel, [recipe, *overrides, "--output", str(plan.run.path),
                                            *(["--resume"] if resume else [])])
        code = subprocess.call(cmd, env={**os.environ, WORKER_ENV: "1"})
        info = plan.run.info()
        if code != 0 and info.get("status") == "running":
            plan.run.update_info(status="failed", error=f"accelerate launch exited with {code}")
        _print_result(plan, info.get("metrics", {}), as_json)
        raise click.exceptions.Exit(code)
    if not as_json and not worker:
        for note in plan.notes:
            click.echo(f"note: {note}", err=True)
    metrics = _train_with_progress(plan, run_train, quiet=as_json or (worker and int(os.environ.get("RANK", 0)) > 0),
                                   started=worker)
    if not worker or int(os.environ.get("RANK", 0)) == 0:
        _print_result(plan, metrics, as_json)


def sys_args() -> list[str]:
    """This process's arguments after `train` (re-run in the PPO environment)."""
    argv = sys.argv[1:]
    return argv[argv.index("train") + 1:] if "train" in argv else argv


def _train_with_progress(plan, run_train, quiet: bool, started: bool) -> dict:
    import warnings

    for category in (FutureWarning, UserWarning, DeprecationWarning):  # upstream deprecation chatter
        warnings.filterwarnings("ignore", category=category)
    if quiet:
        return run_train(plan, None, started=started)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[loss]}"))
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"{plan.recipe.stage} {plan.recipe.name}", total=None, loss="")

        def progress(event: dict) -> None:
            loss = event.get("loss")
            bar.update(task, completed=event["step"], total=event["max_steps"],
                       loss=f"loss {loss:.4f}" if isinstance(loss, (int, float)) else "")

        return run_train(plan, progress, started=started)


def _print_plan(plan, as_json: bool) -> None:
    summary = plan.summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    click.echo(f"recipe ok: {summary['name']} (stage {summary['stage']}, {summary['finetuning']})")
    click.echo(f"  model:   {summary['model']}")
    click.echo(f"  data:    {summary['data']}: {summary['records']} records {summary['kinds']}")
    click.echo(f"  output:  {summary['output']}")
    click.echo(f"  memory:  about {summary['memory_gb']} GB needed, {summary['free_gb']} GB free on {plan.budget_where}")
    click.echo("  trainer: " + ", ".join(f"{k}={v}" for k, v in summary["trainer"].items()))
    for note in summary["notes"]:
        click.echo(f"  note: {note}")
    click.echo("dry run: no weights loaded. Drop --dry-run to train.")


def _print_result(plan, metrics: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"run": str(plan.run.path), **plan.run.info()}, indent=2, ensure_ascii=False))
        return
    loss = metrics.get("final_loss")
    click.echo(f"finished: {plan.run.path}" + (f" (final loss {loss:.4f})" if isinstance(loss, float) else ""))
    if plan.recipe.stage != "rm":
        click.echo(f"chat with it: llmp chat {plan.run.path}")


@train.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(as_json) -> None:
    """List runs under LLMP_HOME/runs with stage, status, steps and final loss.

    Example: llmp train list
    """
    from ..train.runs import list_runs

    runs = list_runs()
    if as_json:
        click.echo(json.dumps(runs, indent=2, ensure_ascii=False))
        return
    if not runs:
        click.echo("No runs yet. Start one: llmp train recipes/sft-lora-demo.yaml")
        return
    click.echo(f"{'NAME':24} {'STAGE':5} {'TUNING':7} {'STATUS':9} {'STEPS':>6} {'LOSS':>8}  CREATED")
    for r in runs:
        loss = r.get("metrics", {}).get("final_loss")
        loss_s = f"{loss:8.4f}" if isinstance(loss, (int, float)) else f"{'-':>8}"
        click.echo(f"{r.get('name', '?'):24} {r.get('stage', '?'):5} {r.get('finetuning', '?'):7} "
                   f"{r.get('status', '?'):9} {r.get('steps', 0):>6} {loss_s}  {r.get('created', '')}")


@train.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show_cmd(name, as_json) -> None:
    """Show one run: run.json, its files and how to use it.

    Example: llmp train show sft-lora-demo
    """
    from ..train.runs import get_run

    path, info = get_run(name)
    if as_json:
        click.echo(json.dumps({"path": str(path), **info}, indent=2, ensure_ascii=False))
        return
    click.echo(f"{info.get('name')}  ({path})")
    for key in ("stage", "status", "finetuning", "kind", "base_model", "steps", "created", "error"):
        if info.get(key) is not None:
            click.echo(f"  {key + ':':12} {info[key]}")
    for key, value in sorted(info.get("metrics", {}).items()):
        click.echo(f"  {key + ':':24} {value:.4g}" if isinstance(value, float) else f"  {key + ':':24} {value}")
    files = [p.name + ("/" if p.is_dir() else "") for p in sorted(path.iterdir())]
    click.echo("  files:       " + " ".join(files))
    if info.get("status") == "finished" and info.get("stage") != "rm":
        click.echo(f"chat with it: llmp chat {path}")
    elif info.get("status") in ("stopped", "failed", "running"):
        click.echo(f"continue it: llmp train {path / 'recipe.yaml'} --output {path} --resume")


@train.command("keys")
@click.argument("stage")
def keys_cmd(stage) -> None:
    """List every recipe key of STAGE: ours, then the TRL settings passed through.

    Example: llmp train keys dpo
    """
    from ..train.recipe import recipe_class, stage_entry, trl_fields

    stage_entry(stage)
    cls = recipe_class(stage)
    click.echo(f"recipe keys ({stage}):")
    for key, field in cls.model_fields.items():
        if key != "source":
            click.echo(f"  {key:24} {field.description or ''}")
    click.echo(f"TRL settings ({stage_entry(stage)[3]}), passed through:")
    click.echo("  " + ", ".join(sorted(trl_fields(stage))))
