"""`llmp models`: the local model registry."""

from __future__ import annotations

import json

import click

from ..workflow import SOURCES


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


@models.command("catalog")
@click.option("--fits", is_flag=True, help="Mark what this machine can chat with, LoRA-tune and fully tune.")
@click.option("--source", type=click.Choice(SOURCES),
              help="Only models on this hub, showing their id there.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def catalog_cmd(fits: bool, source: str | None, as_json: bool) -> None:
    """Curated models worth trying: ids on each hub, size, context, license.

    The catalog is a data file (llm_practice/catalog/models.yaml); `llmp estimate NAME` sizes
    any entry offline, `llmp download ID` fetches it.

    Example: llmp models catalog --fits --source modelscope
    """
    from ..catalog.catalog import fits as fit_of
    from ..catalog.catalog import load_catalog
    from ..catalog.machine import detect_machine

    entries = [e for e in load_catalog() if source is None or e.id_on(source)]
    machine = detect_machine() if fits else None
    rows = []
    for e in entries:
        row = {"name": e.name, "family": e.family, "parameters": e.params, "published": e.published,
               "context": e.context, "license": e.license, "tutorial": e.tutorial,
               "ids": e.ids.model_dump(exclude_none=True), "gated": e.gated, "source": e.source,
               "license_label": e.license_label}
        if machine is not None:
            f = fit_of(e, machine.budget, machine.device)
            row["fits"] = {"chat": f.chat, "chat_bytes": f.chat_bytes, "lora": f.lora,
                           "lora_bytes": f.lora_bytes, "full": f.full, "full_bytes": f.full_bytes}
        rows.append(row)
    if as_json:
        out = {"models": rows}
        if machine is not None:
            out["machine"] = machine.describe()
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Model catalog (* = used in the tutorial)", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    headers = ("chat", "LoRA", "full FT") if machine is not None else ("context", "license", f"{source or 'hf'} id")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        cells = [row["name"] + (" *" if row["tutorial"] else ""), f"{row['parameters'] / 1e9:.2f}B"]
        if machine is None:
            cells += [f"{row['context'] // 1024}k", row["license_label"],
                      row["ids"].get(source or "hf", "-")]
        else:
            f = row["fits"]
            cells += [f"yes ({f['chat']})" if f["chat"] else "no",
                      "yes" if f["lora"] else f"no ({f['lora_bytes'] / 1e9:.0f} GB)",
                      "yes" if f["full"] else f"no ({f['full_bytes'] / 1e9:.0f} GB)"]
        table.add_row(*cells)
    console = Console(highlight=False)
    console.print(table)
    if machine is not None:
        console.print(f"This machine: {machine.describe()}. Chat at 2048 tokens; LoRA (bf16, rank 8) "
                      "and full fine-tuning (bf16 + fp32 AdamW) at 1024 tokens with gradient "
                      "checkpointing. Details: llmp estimate NAME.")
