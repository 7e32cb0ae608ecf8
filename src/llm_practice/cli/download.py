"""`llmp download`: fetch a model from Hugging Face (or a mirror), ModelScope or OpenXLab."""

from __future__ import annotations

import json
import threading

import click

from ..workflow import SOURCES


class RichProgress:
    """Per-file and total bars (speed, ETA) for the library's progress callbacks."""

    def __init__(self, progress):
        self.progress = progress
        self.total = None
        self.tasks: dict[str, int] = {}
        self.lock = threading.Lock()

    def start_total(self, total: int, done: int) -> None:
        self.total = self.progress.add_task("[bold]total", total=total or None, completed=done)

    def file_started(self, path: str, total: int | None, done: int) -> None:
        with self.lock:
            if path in self.tasks:
                self.progress.reset(self.tasks[path], total=total, completed=done)
            else:
                self.tasks[path] = self.progress.add_task(path, total=total, completed=done)

    def advanced(self, path: str, n: int) -> None:
        self.progress.advance(self.tasks[path], n)
        if self.total is not None:
            self.progress.advance(self.total, n)

    def file_finished(self, path: str, status: str) -> None:
        self.progress.update(self.tasks[path], visible=False)
        self.progress.console.print(f"  {status:<10} {path}")


def _mib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**20:,.1f} MiB"


@click.command(epilog="Example: llmp download Qwen/Qwen2.5-0.5B-Instruct-GGUF qwen2.5-0.5b-instruct-q4_k_m.gguf --mirror hf-mirror")
@click.argument("repo")
@click.argument("files", nargs=-1)
@click.option("--source", type=click.Choice(SOURCES), default="hf", show_default=True,
              help="Which hub to download from.")
@click.option("--revision", default="main", show_default=True, help="Branch, tag or commit.")
@click.option("--include", multiple=True, metavar="GLOB", help="Only files matching GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB (repeatable).")
@click.option("--local-dir", type=click.Path(file_okay=False), help="Put files here instead of LLMP_HOME/models/<org--repo>.")
@click.option("--endpoint", metavar="URL", help="Hub URL (default: HF_ENDPOINT, then LLMP_HF_MIRRORS in order).")
@click.option("--mirror", metavar="NAME", help="A known mirror: hf-mirror (https://hf-mirror.com).")
@click.option("--token", metavar="T", help="Access token for gated or private repositories (or set HF_TOKEN, MODELSCOPE_API_TOKEN; for OpenXLab a JWT, or set OPENXLAB_AK and OPENXLAB_SK).")
@click.option("--dry-run", is_flag=True, help="List files, sizes and what is already here; fetch nothing.")
@click.option("--max-workers", type=int, default=8, show_default=True, help="Files fetched at once.")
@click.option("--timeout", type=float, default=30.0, show_default=True, metavar="SECONDS",
              help="Give up on a silent or trickling connection (under 1 KiB/s) after this long, then retry.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the final path.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def download(repo, files, source, revision, include, exclude, local_dir, endpoint, mirror, token,
             dry_run, max_workers, timeout, quiet, as_json) -> None:
    """Download REPO (all files, or just FILES), resumably and verified, and register it.

    Interrupted downloads resume from the bytes on disk; every file is checked (sha256 where
    the hub publishes it, else git blob id or size) before it appears at its final path.
    Afterwards `llmp chat REPO` and `llmp models list` see the model.

    Example: llmp download HuggingFaceTB/SmolLM2-135M-Instruct --include '*.json' --include '*.safetensors'
    """
    from pydantic import ValidationError
    from rich.console import Console

    from ..hub import DownloadRequest, download_model
    from ..validation import config_error

    try:
        request = DownloadRequest(
            repo_id=repo, files=files, source=source, revision=revision, include=include,
            exclude=exclude, local_dir=local_dir, endpoint=endpoint, mirror=mirror, token=token,
            dry_run=dry_run, max_workers=max_workers, timeout=timeout,
        )
    except ValidationError as e:
        raise config_error(e, rename={"repo_id": "REPO"},
                           hint="REPO looks like OWNER/NAME, e.g. Qwen/Qwen2.5-0.5B-Instruct.") from None

    chatty = not (quiet or as_json)
    console = Console(stderr=True, quiet=not chatty)

    def on_listing(listing, planned):
        total = sum(p.size or 0 for p in planned)
        here = sum(p.on_disk for p in planned)
        at = listing.commit[:10] if listing.commit else listing.revision
        console.print(f"{listing.repo_id}@{at}: {len(planned)} files, {_mib(total)} "
                      f"({_mib(here)} already here); served by {listing.endpoint}")
        for note in listing.notes:
            console.print(f"Note: {note}")
        if sink is not None:
            sink.start_total(total, here)

    if dry_run:
        sink = None
        result = download_model(request, on_listing=on_listing)
        if as_json:
            click.echo(json.dumps(result.to_json(), indent=2))
        elif not quiet:
            for f in result.files:
                state = f"partial {_mib(f.on_disk)}" if f.state == "partial" else f.state
                click.echo(f"{_mib(f.size):>14}  {state:<22} {f.path}")
            todo = sum((f.size or 0) - f.on_disk for f in result.files if f.state != "present")
            click.echo(f"To fetch: {_mib(todo)} into {result.root}")
        else:
            click.echo(str(result.path))
        return

    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    columns = (TextColumn("{task.description}", justify="left"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False, disable=not chatty) as bars:
        sink = RichProgress(bars)
        result = download_model(request, progress=sink, on_listing=on_listing)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    console.print(f"Done in {result.seconds:.1f} s: fetched {_mib(result.fetched_bytes)}, "
                  f"registered as '{result.name}'. Chat with it: llmp chat {result.name}")
    click.echo(str(result.path))
