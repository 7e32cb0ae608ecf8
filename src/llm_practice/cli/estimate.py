"""`llmp estimate`: how much memory a model needs to chat and to fine-tune, before downloading it.

Never imports torch: config.json, safetensors headers or a GGUF header are all it reads.
"""

from __future__ import annotations

import json

import click

EPILOG = """\b
Examples:
  llmp estimate Qwen/Qwen2.5-7B-Instruct              # reads config.json + safetensors headers only
  llmp estimate ./Qwen2.5-0.5B-Instruct --mode lora --context 1024 --grad-checkpointing
  llmp estimate smollm2-135m-instruct                  # a registered model (GGUF or folder)
  llmp estimate --params 7b --mode full --gpus 8 --zero 3 --json

\b
Bytes per parameter: fp32 = 4 (single precision), fp16/bf16 = 2 (half precision),
int8 = 1, int4 = 0.5 plus scales. A 7B model in fp16 needs about 14 GB for its weights alone.
"""

_COLUMNS = (("weights", "weights"), ("kv_cache", "KV"), ("activations", "activ."),
            ("gradients", "grads"), ("optimizer", "optim."), ("runtime", "runtime"))


_SHORT = {"bf16": "bf16/fp16"}


def _gb(n: float) -> str:
    if n == 0:
        return "-"
    return f"{n / 1e9:.2f}" if n < 10e9 else f"{n / 1e9:.1f}"


@click.command(epilog=EPILOG)
@click.argument("model", required=False)
@click.option("--params", "params", metavar="SIZE", help="Estimate for a size instead of a model: 7b, 1.5b, 135m.")
@click.option("--context", type=int, default=2048, show_default=True, help="Tokens per sequence.")
@click.option("--batch", type=int, default=1, show_default=True, help="Sequences at once.")
@click.option("--dtype", help="Only this precision: fp32, bf16/fp16, int8, int4, Q8_0, Q4_K_M, ...")
@click.option("--mode", type=click.Choice(["infer", "full", "lora", "qlora", "freeze"]),
              help="Show the full breakdown for one method (default: inference, plus a summary of all).")
@click.option("--lora-rank", type=int, default=8, show_default=True)
@click.option("--gpus", type=int, default=1, show_default=True, help="GPUs to shard training over.")
@click.option("--zero", type=click.Choice(["0", "2", "3"]), default="0", show_default=True,
              help="DeepSpeed ZeRO stage: 2 shards gradients and optimizer states, 3 the weights too.")
@click.option("--offload", is_flag=True, help="Optimizer states (and ZeRO-3 weights) in CPU RAM.")
@click.option("--grad-checkpointing", is_flag=True, help="Recompute activations in the backward pass.")
@click.option("--device", type=click.Choice(["auto", "cpu", "gpu"]), default="auto", show_default=True,
              help="Where it runs (auto: a GPU if nvidia-smi finds one).")
@click.option("--endpoint", help="Hub endpoint or mirror (default: HF_ENDPOINT or https://huggingface.co).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def estimate(model, params, context, batch, dtype, mode, lora_rank, gpus, zero, offload,
             grad_checkpointing, device, endpoint, as_json) -> None:
    """Estimate the memory MODEL needs for chat and for each fine-tuning method.

    MODEL is a hub repo id, a local folder, a .gguf file, a registered or catalog model name.

    Example: llmp estimate Qwen/Qwen2.5-7B-Instruct --context 4096
    """
    from ..catalog.machine import detect_machine, verdict
    from ..catalog.memory import estimate_memory, make_options
    from ..catalog.sources import resolve_model
    from ..settings import get_settings

    machine = detect_machine()
    options = make_options(
        context=context, batch=batch, dtype=dtype, mode=mode or "infer", lora_rank=lora_rank,
        gpus=gpus, zero=int(zero), offload=offload, grad_checkpointing=grad_checkpointing,
        device=("gpu" if gpus > 1 else machine.device) if device == "auto" else device,
    )
    source = resolve_model(model, params, (endpoint or get_settings().hf_endpoint).rstrip("/"))
    rows = estimate_memory(source.shape, options, gguf_bytes=source.gguf_bytes, gguf_type=source.gguf_type)
    sentence = verdict(rows, machine, source.gguf_type, gpus=options.gpus)
    if as_json:
        click.echo(json.dumps(_to_json(source, options, rows, machine, sentence), indent=2))
        return
    _render(source, options, rows, mode, sentence)


def _to_json(source, options, rows, machine, sentence) -> dict:
    shape = source.shape
    return {
        "model": source.label, "kind": source.kind, "architecture": shape.architecture,
        "parameters": shape.total, "active_parameters": shape.active, "counted_from": shape.method,
        "layers": shape.layers, "hidden": shape.hidden, "kv_heads": shape.kv_heads,
        "head_dim": shape.head_dim, "vocab": shape.vocab, "context_max": shape.context,
        "kv_cache_values_per_token": shape.kv_per_token, "checkpoint_dtype": source.checkpoint_dtype,
        "gguf_type": source.gguf_type, "notes": list(shape.notes),
        "options": options.model_dump(), "estimates": [r.to_json() for r in rows],
        "machine": {"ram_free": machine.ram_free, "ram_total": machine.ram_total,
                    "gpus": [{"name": n, "free": f, "total": t} for n, f, t in machine.gpus]},
        "verdict": sentence,
    }


def _render(source, options, rows, mode, sentence) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..catalog.memory import MODES, lookup

    shape = source.shape
    console = Console(highlight=False)
    active = f", {shape.active / 1e9:.2f}B active per token" if shape.active != shape.total else ""
    console.print(f"[bold]{source.label}[/bold] ({shape.architecture}): {shape.total:,} parameters "
                  f"({shape.total / 1e9:.2f}B{active}), from {shape.method}.")
    console.print(f"{shape.layers} layers, {shape.kv_heads} KV heads x {shape.head_dim}: KV cache "
                  f"{shape.kv_per_token * 2 / 1e6:.3f} MB per token in fp16"
                  + (f"; trained context {shape.context:,} tokens." if shape.context else "."))
    for note in shape.notes:
        console.print(f"Note: {note}")
    shown = mode or "infer"
    setting = f"batch {options.batch} x {options.context} tokens"
    if shown != "infer":
        setting += (", gradient checkpointing" if options.grad_checkpointing else "")
        if options.gpus > 1 or options.offload:
            setting += f", {options.gpus} GPU(s), ZeRO-{options.zero}" + (", offload" if options.offload else "")
    table = Table(title=f"{shown}: GB per device ({setting})", title_justify="left")
    table.caption = (("'this file' = the real file's size, measured; other rows are computed from "
                      "average bits per weight. " if any(r.measured for r in rows) else "")
                     + "KV = KV cache, activ. = activations, grads = gradients, optim. = AdamW "
                     "states (and fp32 master weights), runtime = framework."
                     + ("" if shown == "infer" else " Training total = weights + optim. + runtime "
                        "+ the larger of activ. and 2 x grads (they are not held at once)."))
    table.caption_justify = "left"
    table.add_column("precision")
    for _, header in _COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("total", justify="right", style="bold")
    for row in (r for r in rows if r.mode == shown):
        label = _SHORT.get(row.precision, row.precision) + (" (this file)" if row.measured else "")
        table.add_row(label, *(_gb(getattr(row, key)) for key, _ in _COLUMNS), _gb(row.total))
    console.print(table)
    if any(r.offloaded for r in rows if r.mode == shown):
        off = max(r.offloaded for r in rows if r.mode == shown)
        console.print(f"Offloaded to CPU RAM: up to {_gb(off)} GB.")
    if mode is None:
        summary = Table(title="total GB by method (LoRA/QLoRA rank "
                              f"{options.lora_rank}, all linear layers; freeze: last 2 blocks)",
                        title_justify="left")
        summary.add_column("precision")
        for m in MODES:
            summary.add_column(m, justify="right")
        for name in dict.fromkeys(r.precision for r in rows):
            cells = [lookup(rows, m, name) for m in MODES]
            summary.add_row(_SHORT.get(name, name), *(_gb(c.total) if c else "n/a" for c in cells))
        console.print(summary)
    console.print("fp32 is single precision (4 bytes a parameter); fp16 and bf16 are half precision (2 bytes).")
    console.print(sentence)
