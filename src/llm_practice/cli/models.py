"""`llmp models`: the local model registry."""

from __future__ import annotations

import json

import click


@click.group()
def models() -> None:
    """List, import and remove local models.

    Example: llmp models import ./qwen2.5-0.5b-instruct-q4_k_m.gguf --name qwen2.5-0.5b
    """


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """Show every model `llmp chat` can run.

    Example: llmp models list --json
    """
    from ..models.registry import list_models

    found = list_models()
    if as_json:
        click.echo(json.dumps([m.to_json() for m in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No models yet. Add one with `llmp models import PATH` or `llmp download REPO`.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "format", "source", "size", "path")
    for m in found:
        table.add_row(m.name, m.format, m.source, _size(m.path), str(m.path))
    Console().print(table)


def _size(path) -> str:
    try:
        total = path.stat().st_size if path.is_file() else sum(
            p.stat().st_size for p in path.rglob("*") if p.is_file()
        )
    except OSError:
        return "missing"
    return f"{total / 2**20:,.0f} MiB"


@models.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--name", help="Name to register it under (default: from the file or folder name).")
@click.option("--description", default="", help="A note shown by `llmp models list --json`.")
def import_cmd(path: str, name: str | None, description: str) -> None:
    """Register a local GGUF file or Hugging Face model folder (files are not copied).

    Example: llmp models import ~/models/Qwen2.5-0.5B-Instruct --name qwen2.5-0.5b
    """
    from ..models.registry import import_model

    info = import_model(path, name=name, description=description)
    click.echo(f"Imported {info.name} ({info.format}) from {info.path}")
    click.echo(f"Chat with it: llmp chat {info.name}")


@models.command("rm")
@click.argument("name")
def rm_cmd(name: str) -> None:
    """Unregister a local model (imported files are left where they are).

    Example: llmp models rm qwen2.5-0.5b
    """
    from ..models.registry import remove_model

    info = remove_model(name)
    click.echo(f"Removed {info.name}")


@models.command("verify")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify_cmd(name: str, as_json: bool) -> None:
    """Re-hash a downloaded model's files against the sizes and hashes the hub published.

    Exits non-zero and names each file that is missing or differs.

    Example: llmp models verify Qwen/Qwen2.5-0.5B-Instruct
    """
    from ..hub import verify_model

    report = verify_model(name)
    if as_json:
        click.echo(json.dumps({"name": report.name, "root": str(report.root),
                               "files": [{"path": p, "status": s} for p, s in report.checked]}, indent=2))
        return
    for path, status in report.checked:
        click.echo(f"{status:<4} {path}")
    click.echo(f"{report.name}: all {len(report.checked)} files verified in {report.root}")
