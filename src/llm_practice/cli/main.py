"""The `llmp` command: a lazy click group.

Sub-command modules are imported only when that command runs, so `llmp --help` stays instant
and never imports torch, transformers or llama.cpp (a test guards this).
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

from .. import __version__
from .errors import handle_errors

# name -> ("module:attribute", one-line help shown by `llmp --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("llm_practice.cli.chat:chat", "Chat with a model in the terminal (or answer once with --once)."),
    "complete": ("llm_practice.cli.complete:complete", "Let a model continue plain text (base models have no chat)."),
    "serve": ("llm_practice.cli.serve:serve", "Serve models over an OpenAI-compatible API with a web UI."),
    "models": ("llm_practice.cli.models:models", "List, import and remove local models."),
    "download": ("llm_practice.cli.download:download", "Download a model (HF, mirrors, ModelScope, OpenXLab), resumable and verified."),
    "estimate": ("llm_practice.cli.estimate:estimate", "Estimate the memory a model needs to chat and to fine-tune, before downloading."),
    "env": ("llm_practice.cli.env:env", "Show versions, hardware, settings and installed engines."),
    "prompt": ("llm_practice.cli.prompt:prompt", "Prompt formula, template library, linter and side-by-side compare."),
    "data": ("llm_practice.cli.data:data", "Validate, convert, inspect and prepare training datasets."),
    "eval": ("llm_practice.cli.evaluate:evaluate", "Evaluate a model (perplexity, multiple choice, QA) or compare two."),
    "export": ("llm_practice.cli.export:export", "Export a run: merge LoRA, GGUF (f16/q8_0/q4_k_m), Ollama Modelfile."),
    "train": ("llm_practice.cli.train:train", "Fine-tune from a recipe: pt, sft, rm, dpo, kto, grpo, rloo, ppo; list and show runs."),
    "kb": ("llm_practice.cli.kb:kb", "Knowledge bases: add documents, hybrid search, cited answers (RAG)."),
    "tour": ("llm_practice.cli.tour:tour", "Run the tutorial's whole path end to end, offline, with an HTML report."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        with handle_errors():
            return super().invoke(ctx)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Example: llmp chat smollm2-135m-instruct --once 'Tell me the name of the capital of France.'",
)
@click.version_option(__version__, "-V", "--version", prog_name="llmp")
def cli() -> None:
    """llm-practice: download, size, run, prompt, and fine-tune LLMs on your own machine.

    中文界面：设置 LLMP_LANG=zh。
    """


def main(argv: list[str] | None = None) -> None:
    sys.exit(cli.main(args=argv, prog_name="llmp", standalone_mode=True))
