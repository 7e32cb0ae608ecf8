"""This machine's free memory, and the one-sentence verdict `llmp estimate` ends with.

Free RAM comes from psutil (`available`: what can be used without swapping); free VRAM from
`nvidia-smi` when it is on PATH. No torch import: this must stay fast.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from .memory import GB, Breakdown, lookup


@dataclass(frozen=True)
class Machine:
    ram_free: float
    ram_total: float
    gpus: tuple[tuple[str, float, float], ...] = ()  # (name, free bytes, total bytes)

    @property
    def device(self) -> str:
        return "gpu" if self.gpus else "cpu"

    @property
    def budget(self) -> float:
        """Bytes one device can use: the smallest GPU's free VRAM, else free RAM."""
        return min(free for _, free, _ in self.gpus) if self.gpus else self.ram_free

    def describe(self) -> str:
        ram = f"{self.ram_free / GB:.1f} GB free RAM"
        if not self.gpus:
            return f"{ram}, no GPU"
        name, free, _ = self.gpus[0]
        count = f"{len(self.gpus)} x " if len(self.gpus) > 1 else ""
        return f"{ram}; {count}{name} with {free / GB:.1f} GB free VRAM"


def _nvidia_gpus() -> tuple[tuple[str, float, float], ...]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return ()
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.free,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    gpus = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        try:
            gpus.append((parts[0], float(parts[1]) * 2**20, float(parts[2]) * 2**20))  # MiB
        except (IndexError, ValueError):
            continue
    return tuple(gpus)


def detect_machine() -> Machine:
    import psutil

    vm = psutil.virtual_memory()
    return Machine(ram_free=float(vm.available), ram_total=float(vm.total), gpus=_nvidia_gpus())


def _gb(n: float) -> str:
    return f"{n / GB:.1f} GB" if n < 10 * GB else f"{n / GB:.0f} GB"


# Chat precisions from best quality down.
_CHAT = ("fp32", "bf16", "Q8_0", "int8", "Q6_K", "Q5_K_M", "Q4_K_M", "int4", "Q3_K_M", "Q2_K")
_LABEL = {"fp32": "fp32", "bf16": "bf16/fp16", "int8": "int8", "int4": "int4"}


def verdict(rows: list[Breakdown], machine: Machine, gguf_type: str | None = None,
            gpus: int = 1) -> str:
    """One sentence: what fits for chat, and what each training method needs."""
    where = "this GPU" if machine.gpus else "this machine"
    budget = machine.budget
    if gpus > max(1, len(machine.gpus)):
        # The user asks about a cluster this machine is not: report per-GPU needs, no judgement.
        needs = [f"{label} {_gb(row.total)}" for mode, precision, label in
                 (("infer", "bf16", "chat at bf16"), ("lora", "bf16", "LoRA"), ("full", "bf16", "full fine-tuning"))
                 if (row := lookup(rows, mode, precision)) is not None]
        return (f"Per GPU with {gpus} GPUs: " + "; ".join(needs) + f". This machine has {machine.describe()}."
                if needs else f"This machine has {machine.describe()}.")
    parts = []
    order = ((gguf_type,) if gguf_type else ()) + _CHAT
    chat = [r for p in order if (r := lookup(rows, "infer", p)) is not None]
    fitting = next((r for r in chat if r.total <= budget), None)
    if fitting is not None:
        own = " (this file)" if fitting.precision == gguf_type else ""
        parts.append(f"fits for chat at {_LABEL.get(fitting.precision, fitting.precision)}{own} "
                     f"(about {_gb(fitting.total)})")
    elif chat:
        smallest = min(chat, key=lambda r: r.total)
        parts.append(f"too big to chat even at {smallest.precision} (needs {_gb(smallest.total)})")
    for mode, precision, label in (("lora", "bf16", "LoRA"), ("qlora", "int4", "QLoRA (4-bit)"),
                                   ("full", "bf16", "full fine-tuning")):
        row = lookup(rows, mode, precision) or next((r for r in rows if r.mode == mode), None)
        if row is None:
            continue
        ok = "fits" if row.total <= budget else "does not fit"
        parts.append(f"{label} needs about {_gb(row.total)} ({ok})")
    if not parts:
        return f"{where.capitalize()} has {machine.describe()}."
    return f"On {where} ({machine.describe()}): " + "; ".join(parts) + "."
