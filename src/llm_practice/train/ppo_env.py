"""Where PPO's TRL lives: TRL 1.13 removed `trl.experimental.ppo`, the current TRL has every other stage.

We keep the current TRL for pt/sft/rm/dpo/kto/grpo/rloo and run the `ppo` stage with TRL 1.12
overlaid on the same environment: `make install` puts TRL 1.12 (no dependencies) into
`<venv>/trl-ppo`, and `llmp train` re-runs itself with that folder first on PYTHONPATH when the
recipe's stage is ppo. torch, transformers, peft and accelerate stay the ones everything else uses.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

from ..errors import EngineMissingError

PPO_TRL = "trl==1.12.0"
ENV_FLAG = "LLMP_PPO_ENV"


def overlay_dir() -> Path:
    return Path(sys.prefix) / "trl-ppo"


def install_command() -> str:
    return f"{sys.executable} -m pip install --no-deps --target {overlay_dir()} {PPO_TRL}  (or: make install)"


def has_ppo() -> bool:
    from importlib.util import find_spec

    spec = find_spec("trl")  # look for the files: importing trl.experimental costs seconds
    if spec is None or not spec.origin:
        return False
    return (Path(spec.origin).parent / "experimental" / "ppo" / "__init__.py").is_file()


def overlay_ready() -> bool:
    return (overlay_dir() / "trl" / "experimental" / "ppo" / "__init__.py").is_file()


def trl_version(spec: str) -> str:
    """The version of the TRL that `spec` imports from (without importing it)."""
    from importlib.metadata import version

    if spec.startswith("trl.experimental.ppo") and not has_ppo():
        raise EngineMissingError(
            "ppo", install_command(),
            "the installed TRL has no PPO trainer (removed in TRL 1.13); llmp runs ppo on TRL 1.12")
    return version("trl")  # the overlay comes first on sys.path in the PPO environment


def import_trl_config(spec: str):
    module, cls = spec.split(":")
    if module.startswith("trl.experimental.ppo") and not has_ppo():
        raise EngineMissingError(
            "ppo", install_command(),
            "the installed TRL has no PPO trainer (removed in TRL 1.13); llmp runs ppo on TRL 1.12")
    import os
    import warnings

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(import_module(module), cls)
