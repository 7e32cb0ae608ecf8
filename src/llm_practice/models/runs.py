"""Read a training run folder (`LLMP_HOME/runs/<name>/`) as a model: evaluation and export use it.

The training stages write the folder (see the run-folder contract): `run.json` says the status,
the base model and whether `final/` holds a LoRA adapter (`kind: adapter`) or a complete
Hugging Face model (`kind: model`). Here we only read it, and refuse a run that is not finished
or whose `final/` is incomplete, naming the run and what is missing.

    run = load_run("sft-demo")          # a name under LLMP_HOME/runs/, or a path to a run folder
    run.adapter                         # Path to final/ for LoRA/QLoRA runs, else None
    run.base_path                       # the base model's HF folder
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunError
from ..settings import get_settings

RUN_FILE = "run.json"


@dataclass(frozen=True)
class RunInfo:
    name: str
    folder: Path
    status: str
    kind: str  # "adapter" | "model"
    finetuning: str
    base_model: str
    base_path: Path | None
    final: Path
    data: dict

    @property
    def adapter(self) -> Path | None:
        return self.final if self.kind == "adapter" else None

    @property
    def model_folder(self) -> Path:
        """The HF folder that holds the weights to load first (the base, for an adapter)."""
        return self.base_path if self.kind == "adapter" else self.final


def run_folder(spec: str | Path) -> Path | None:
    """The run folder `spec` names (a path to a folder with run.json, or a name under runs/)."""
    path = Path(spec).expanduser()
    if (path / RUN_FILE).is_file():
        return path.resolve()
    named = get_settings().runs_dir / str(spec)
    if (named / RUN_FILE).is_file():
        return named
    return None


def list_runs() -> list[str]:
    root = get_settings().runs_dir
    return sorted(p.parent.name for p in root.glob(f"*/{RUN_FILE}")) if root.is_dir() else []


def load_run(spec: str | Path, require_finished: bool = True) -> RunInfo:
    folder = run_folder(spec)
    if folder is None:
        runs = ", ".join(list_runs()) or "none yet"
        raise RunError(str(spec), f"no such run (no {RUN_FILE} in {spec} or under "
                       f"{get_settings().runs_dir}). Runs: {runs}.",
                       "Train one with `llmp train RECIPE`, or pass the path of a run folder.")
    name = folder.name
    try:
        data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunError(name, f"{folder / RUN_FILE} cannot be read ({e}).") from e
    status = str(data.get("status", "unknown"))
    if require_finished and status != "finished":
        hint = {
            "running": "Wait until it finishes (or stop it), then try again.",
            "failed": "Look at its log and metrics.jsonl, fix the recipe and train again.",
            "stopped": "Resume the training, or train again to the end.",
        }.get(status, "Only a finished run has a final model.")
        raise RunError(name, f"status is '{status}', not 'finished' ({folder / RUN_FILE}).", hint)
    kind = data.get("kind") or ("adapter" if data.get("finetuning") in ("lora", "qlora") else "model")
    final = folder / "final"
    base_path = Path(data["base_path"]) if data.get("base_path") else None
    info = RunInfo(name=name, folder=folder, status=status, kind=kind,
                   finetuning=str(data.get("finetuning", "")), base_model=str(data.get("base_model", "")),
                   base_path=base_path, final=final, data=data)
    if require_finished:
        _check_final(info)
    return info


def _check_final(run: RunInfo) -> None:
    needed = ("adapter_config.json",) if run.kind == "adapter" else ("config.json",)
    missing = [n for n in needed if not (run.final / n).is_file()]
    weights = [*run.final.glob("*.safetensors"), *run.final.glob("*.bin")] if run.final.is_dir() else []
    if missing or not weights:
        what = ", ".join(missing) or "weights (*.safetensors)"
        raise RunError(run.name, f"{run.final} is incomplete: no {what}.",
                       "The run did not save its final model; train it again.")
    if run.kind == "adapter":
        if run.base_path is None or not (run.base_path / "config.json").is_file():
            raise RunError(run.name, f"its base model folder '{run.base_path}' (run.json base_path) "
                           "is missing.", "Restore the base model there, or edit base_path in run.json.")
