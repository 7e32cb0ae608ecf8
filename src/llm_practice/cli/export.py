"""`llmp export RUN`: merge a LoRA run, convert it to GGUF, write an Ollama Modelfile."""

from __future__ import annotations

import json

import click

EXAMPLES = """\b
Examples:
  llmp export sft-demo --merge                  # HF folder: LoRA merged into the base
  llmp export sft-demo --gguf q8_0              # GGUF through llama.cpp's converter
  llmp export sft-demo --gguf q4_k_m --ollama   # plus a Modelfile and the `ollama create` command
  llmp chat sft-demo-q8_0                       # exports are registered models
"""


@click.command(epilog=EXAMPLES)
@click.argument("run")
@click.option("--output", help="Output folder (default: LLMP_HOME/exports/RUN); must not exist or be empty.")
@click.option("--merge", is_flag=True, help="Merge the LoRA adapter into the base: sharded safetensors + tokenizer.")
@click.option("--gguf", type=click.Choice(["f16", "q8_0", "q4_k_m"]), help="Write a GGUF of this type.")
@click.option("--ollama", is_flag=True, help="Write an Ollama Modelfile (implies --gguf q8_0 unless given).")
@click.option("--name", help="Name to register the exports under (default: the run's name).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def export(run, output, merge, gguf, ollama, name, as_json):
    """Export training run RUN (a name under LLMP_HOME/runs or a run folder)."""
    from ..export import export_run

    result = export_run(run, output, merge=merge, gguf=gguf, ollama=ollama, name=name,
                        step=None if as_json else lambda label: click.echo(f"... {label}", err=True))
    if as_json:
        click.echo(json.dumps({"run": result.run, "output": str(result.output),
                               "outputs": {k: str(v) for k, v in result.outputs.items()},
                               "registered": result.registered, "ollama_command": result.ollama_command,
                               "seconds": result.seconds, "notes": result.notes}, ensure_ascii=False))
        return
    click.echo(f"Exported run '{result.run}' to {result.output}")
    for kind, path in result.outputs.items():
        click.echo(f"  {kind:<9} {path}")
    for note in result.notes:
        click.echo(f"  note: {note}")
    if result.registered:
        click.echo("Registered: " + ", ".join(result.registered) + f"  (try: llmp chat {result.registered[-1]})")
    if result.ollama_command:
        click.echo(f"Ollama: {result.ollama_command}")
