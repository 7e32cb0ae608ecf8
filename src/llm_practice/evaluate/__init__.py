"""Evaluation: perplexity, multiple-choice benchmarks, generated-answer QA, before/after reports.

    from llm_practice.evaluate import evaluate
    result = evaluate("smollm2-135m-instruct", "mcq", "examples/mcq", {"shots": 3})
    result["metrics"]["acc"], result["subjects"]

Each task is one module with its config and `run_<task>(model, data, config, ...)`; the table
below dispatches by name. Results are cached by (model, data, settings) and resumable
(`journal.py`).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from ..errors import ConfigError

# task -> (module, config class, run function)
TASKS: dict[str, tuple[str, str, str]] = {
    "ppl": ("llm_practice.evaluate.ppl", "PplConfig", "run_ppl"),
    "mcq": ("llm_practice.evaluate.mcq", "McqConfig", "run_mcq"),
    "qa": ("llm_practice.evaluate.qa", "QaConfig", "run_qa"),
}


def task_config(task: str, options: dict | None = None):
    if task not in TASKS:
        raise ConfigError("--task", f"unknown task '{task}'.", f"Choose one of: {', '.join(TASKS)}.")
    from pydantic import ValidationError

    module, config_cls, _ = TASKS[task]
    try:
        return getattr(import_module(module), config_cls)(**(options or {}))
    except ValidationError as e:
        from ..validation import config_error

        raise config_error(e, show_input=True, rename={"subjects": "--subject", "format": "--format"}) from None


def evaluate(model: str, task: str, data: str | Path, options: dict | None = None, *,
             base_url: str | None = None, api_key: str | None = None, **kwargs) -> dict:
    """Run `task` on `model` (anything `llmp chat` accepts, or a run) over `data`; with `base_url`,
    `model` is the name an OpenAI-compatible endpoint serves (qa only: it returns no logits)."""
    from .target import remote_target, resolve_model

    config = task_config(task, options)
    module, _, run = TASKS[task]
    if base_url and task != "qa":
        raise ConfigError("--base-url", f"--task {task} scores log-likelihoods, which an endpoint does not "
                          "return; only --task qa (generated answers) runs against one.",
                          "Drop --base-url to evaluate the local model.")
    target = remote_target(model, base_url, api_key) if base_url else resolve_model(model)
    return getattr(import_module(module), run)(target, data, config, **kwargs)
