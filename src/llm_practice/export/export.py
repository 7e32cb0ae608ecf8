"""`export_run`: merge, convert and describe one finished run, atomically, then register it.

Output folder (default `LLMP_HOME/exports/<run>/`):

    merged/                     --merge: HF folder, sharded safetensors + tokenizer
    <run>-<type>.gguf           --gguf f16|q8_0|q4_k_m
    Modelfile                   --ollama (FROM the GGUF; --ollama alone implies --gguf q8_0)

Everything is built in a hidden temporary folder next to the output and renamed into place at the
end, so a failed or killed export leaves nothing at the output path. A GGUF export of a LoRA run
merges first (in the temporary folder) and keeps `merged/` only when --merge was asked for.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_path
from ..errors import ConfigError, ModelExistsError
from ..models.registry import ModelInfo, list_models, write_manifest
from ..models.runs import load_run
from ..settings import get_settings


@dataclass
class ExportResult:
    run: str
    output: Path
    outputs: dict[str, Path] = field(default_factory=dict)  # "merged" | "gguf" | "modelfile" -> path
    registered: list[str] = field(default_factory=list)
    ollama_command: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def export_run(spec: str, output: str | Path | None = None, *, merge: bool = False,
               gguf: str | None = None, ollama: bool = False, name: str | None = None,
               register: bool = True, step=None) -> ExportResult:
    """`step(label)` is called as each stage starts (for a progress line)."""
    from .gguf import OUTTYPES

    if not (merge or gguf or ollama):
        raise ConfigError("--merge/--gguf/--ollama", "nothing to export.",
                          "Pass --merge, --gguf f16|q8_0|q4_k_m and/or --ollama.")
    if gguf is not None and gguf not in OUTTYPES:
        raise ConfigError("--gguf", f"unknown type '{gguf}'.", f"Choose one of: {', '.join(OUTTYPES)}.")
    if ollama and gguf is None:
        gguf = "q8_0"
    run = load_run(spec)  # refuses unfinished runs and incomplete final/ folders, naming the run
    name = name or run.name
    out = Path(output).expanduser().resolve() if output else get_settings().home / "exports" / run.name
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise ConfigError("--output", f"{out} already exists and is not empty.",
                          "Pass another --output, or remove the old export first.")
    names = ([f"{name}-merged"] if merge else []) + ([f"{name}-{gguf}"] if gguf else [])
    taken = {m.name for m in list_models()} & set(names) if register else set()
    if taken:
        raise ModelExistsError(sorted(taken)[0])
    result = ExportResult(run.name, out)
    with atomic_path(out, folder=True) as tmp:  # an empty `out` is replaced; on failure tmp goes
        _build(run, tmp, result, merge, gguf, ollama, name, step)
        built = {k: v.relative_to(tmp) for k, v in result.outputs.items()}
    result.outputs = {k: out / rel for k, rel in built.items()}
    if register:
        _register(result, name, gguf, run.name)
    if "modelfile" in result.outputs:
        result.ollama_command = f"ollama create {name} -f {result.outputs['modelfile']}"
    return result


def _build(run, tmp: Path, result: ExportResult, merge: bool, gguf: str | None, ollama: bool,
           name: str, step) -> None:
    from .merge import merge_run

    say = step or (lambda label: None)
    source = run.final if run.kind != "adapter" else None
    if merge or source is None:
        say("merge")
        started = time.perf_counter()
        merged = merge_run(run, tmp / "merged")
        result.seconds["merge"] = round(time.perf_counter() - started, 2)
        if merge:
            result.outputs["merged"] = merged
        source = merged
    if gguf:
        from .gguf import convert

        say(f"gguf {gguf}")
        started = time.perf_counter()
        target = convert(source, tmp / f"{name}-{gguf}.gguf", gguf, run.name)
        result.seconds["gguf"] = round(time.perf_counter() - started, 2)
        result.outputs["gguf"] = target
    if ollama:
        from transformers import AutoTokenizer

        from .ollama import modelfile

        say("ollama")
        text, family = modelfile(result.outputs["gguf"].name, AutoTokenizer.from_pretrained(source))
        path = tmp / "Modelfile"
        path.write_text(text, encoding="utf-8")
        result.outputs["modelfile"] = path
        if family is None:
            result.notes.append("chat template family not recognised; Ollama will use the GGUF's own template")
    if not merge and (tmp / "merged").exists():
        shutil.rmtree(tmp / "merged")  # only an intermediate for the GGUF


def _register(result: ExportResult, name: str, gguf: str | None, run_name: str) -> None:
    entries = []
    if "merged" in result.outputs:
        entries.append(ModelInfo(f"{name}-merged", result.outputs["merged"], "hf", f"export:{run_name}",
                                 f"run {run_name} merged (HF folder)"))
    if "gguf" in result.outputs:
        entries.append(ModelInfo(f"{name}-{gguf}", result.outputs["gguf"], "gguf", f"export:{run_name}",
                                 f"run {run_name} as GGUF {gguf}"))
    for info in entries:
        write_manifest(info)
        result.registered.append(info.name)
