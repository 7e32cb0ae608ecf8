"""`--nproc N`: the same `llmp train` command under `accelerate launch`, one process per device.

CPU runs use DDP over gloo (tested with 2 processes); GPU runs use DDP by default, or one of the
templates in `accelerate/` (DeepSpeed ZeRO-2/3, FSDP) with `--accelerate-config zero3`.
Multi-node: copy a template, set num_machines, machine_rank, main_process_ip/port on each node,
and pass it as `--accelerate-config FILE` (see docs in the README).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ConfigError

TEMPLATES = Path(__file__).with_name("accelerate")
NAMED = {"zero2": "deepspeed_zero2.yaml", "zero3": "deepspeed_zero3.yaml", "fsdp": "fsdp.yaml"}


def launch_command(nproc: int, config: str | None, train_args: list[str]) -> list[str]:
    import torch

    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(nproc),
           "--num_machines", "1", "--dynamo_backend", "no"]
    if config and config != "ddp":
        path = TEMPLATES / NAMED[config] if config in NAMED else Path(config)
        if not path.is_file():
            raise ConfigError("--accelerate-config", f"{config} is neither {', '.join(['ddp', *NAMED])} nor a file",
                              "Pass a template name or the path of an accelerate config YAML.")
        if not torch.cuda.is_available():
            raise ConfigError("--accelerate-config", f"{config} needs CUDA GPUs (DeepSpeed / FSDP)",
                              "On CPU leave it out: --nproc N runs DDP over gloo.")
        cmd += ["--config_file", str(path)]
    elif torch.cuda.is_available():
        cmd += ["--multi_gpu", "--mixed_precision", "bf16"]
    else:
        cmd += ["--cpu", "--mixed_precision", "no"]
    return [*cmd, "-m", "llm_practice", "train", "run", *train_args]
