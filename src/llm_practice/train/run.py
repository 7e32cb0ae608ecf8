"""The run folder (`LLMP_HOME/runs/NAME/`) and the callbacks that fill it while TRL trains.

Layout (read by evaluation, export and `llmp chat runs/NAME`):
`recipe.yaml` (resolved), `run.json` (status, base model, kind, steps, metrics), `final/` (a PEFT
adapter or a complete HF model, with the tokenizer), `checkpoints/` (Trainer checkpoints: weights,
optimizer, scheduler, RNG states and the data position, so `--resume` continues the same order),
`metrics.jsonl`, `loss.png`, `tensorboard/`, `README.md` (the run card).
Every file is written atomically; only the main process of a multi-process run writes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

from ..errors import RunFolderError

STATUSES = ("running", "finished", "failed", "stopped")
PLOT_EVERY = 10.0  # seconds between loss.png redraws at least
PLOT_COST_SHARE = 50  # ... and at least 50x what the last redraw cost (CPU seconds)


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


class RunFolder:
    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def final(self) -> Path:
        return self.path / "final"

    def info(self) -> dict:
        try:
            return json.loads((self.path / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def latest_checkpoint(self) -> Path | None:
        found = [p for p in self.checkpoints.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
                 and (p / "trainer_state.json").is_file()]
        return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None

    def check(self, *, resume: bool, overwrite: bool) -> None:
        """Refuse to clobber another run; make sure there is something to resume."""
        exists = self.path.exists() and any(self.path.iterdir())
        info = self.info()
        if resume:
            if not info:
                raise RunFolderError(self.path, "there is no run here to resume",
                                     "Start it without --resume.")
            if self.latest_checkpoint() is None:
                raise RunFolderError(self.path, f"run '{info.get('name')}' has no checkpoint to resume from",
                                     "Start again with --overwrite (checkpoints are written every save_steps).")
            return
        if exists and not overwrite:
            what = (f"holds run '{info.get('name')}' (stage {info.get('stage')}, status {info.get('status')})"
                    if info else "is not empty")
            raise RunFolderError(self.path, what,
                                 "Pass --resume to continue it, --overwrite to replace it, or choose another "
                                 "name (name=NEW) or --output folder.")

    def start(self, *, resume: bool, overwrite: bool, recipe_yaml: str, info: dict) -> None:
        if overwrite and not resume and self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path / "recipe.yaml", recipe_yaml)
        old = self.info() if resume else {}
        created = old.get("created") or datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.write_info({**old, **info, "status": "running", "created": created})

    def write_info(self, info: dict) -> None:
        atomic_write(self.path / "run.json", json.dumps(info, indent=2, ensure_ascii=False) + "\n")

    def update_info(self, **changes) -> dict:
        info = {**self.info(), **changes}
        self.write_info(info)
        return info


def plot_loss(metrics: Path, out: Path) -> None:
    """loss.png from metrics.jsonl: training loss per step (and eval loss when present)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[int, float]]] = {}
    for line in metrics.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        for key in ("loss", "eval_loss", "loss/policy_avg"):
            if isinstance(row.get(key), (int, float)):
                series.setdefault(key, []).append((row["step"], row[key]))
    if not series:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for key, points in series.items():
        ax.plot([p[0] for p in points], [p[1] for p in points], label=key, marker="." if len(points) < 50 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, out)


def make_callbacks(run: RunFolder, progress=None):
    """TrainerCallbacks: metrics log + loss plot, Ctrl-C -> checkpoint and stop, progress reports."""
    from transformers import TrainerCallback

    class RunCallback(TrainerCallback):
        def __init__(self):
            self.stop_requested = False
            self.last_plot = 0.0
            self.plot_cost = 0.0
            self.started = time.monotonic()
            self.first_step: int | None = None
            self._previous = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.first_step = state.global_step
            self.started = time.monotonic()
            if threading_main():
                self._previous = signal.signal(signal.SIGINT, self._interrupt)

        def _interrupt(self, signum, frame):
            if self.stop_requested:  # a second Ctrl-C stops at once
                raise KeyboardInterrupt
            self.stop_requested = True

        def on_step_end(self, args, state, control, **kwargs):
            if self.stop_requested:
                control.should_save = True
                control.should_training_stop = True
            if progress is not None and state.is_world_process_zero:
                done = state.global_step - (self.first_step or 0)
                elapsed = time.monotonic() - self.started
                left = state.max_steps - state.global_step
                progress({"step": state.global_step, "max_steps": state.max_steps,
                          "eta_s": elapsed / done * left if done else None,
                          "loss": getattr(self, "last_loss", None)})

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs:
                return
            self.last_loss = logs.get("loss", logs.get("loss/policy_avg", getattr(self, "last_loss", None)))
            row = {"step": state.global_step, "epoch": round(state.epoch or 0, 4),
                   "time": round(time.time(), 3), **{k: v for k, v in logs.items() if isinstance(v, (int, float))}}
            with (run.path / "metrics.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            now = time.monotonic()
            # Redraw at most every PLOT_EVERY seconds and so that drawing stays under ~2% of the run
            # (a redraw costs 0.1-1 s of CPU; with 5-second steps redrawing every step cost 6% of the
            # speed, docs/benchmarks.md `## train`). on_train_end draws the final curve.
            if now - self.last_plot > max(PLOT_EVERY, PLOT_COST_SHARE * self.plot_cost):
                started = time.process_time()
                plot_loss(run.path / "metrics.jsonl", run.path / "loss.png")
                self.plot_cost = time.process_time() - started
                self.last_plot = time.monotonic()

        def on_save(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                run.update_info(steps=state.global_step, max_steps=state.max_steps)

        def on_train_end(self, args, state, control, **kwargs):
            if self._previous is not None:
                signal.signal(signal.SIGINT, self._previous)
            if state.is_world_process_zero and (run.path / "metrics.jsonl").is_file():
                plot_loss(run.path / "metrics.jsonl", run.path / "loss.png")

    return RunCallback()


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
