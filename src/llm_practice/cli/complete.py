"""`llmp complete`: let a model continue plain text, with no chat template (base models)."""

from __future__ import annotations

import sys
import time

import click

from .chat import make_params, sampling_options

EXAMPLES = """\b
Examples:
  llmp complete my-base-model "Once upon a time"
  llmp complete smollm2-135m-instruct "The capital of France is" --temperature 0 --max-tokens 8
  echo "def fibonacci(n):" | llmp complete my-base-model - --json
"""


@click.command(epilog=EXAMPLES)
@click.argument("model")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object with the text and usage.")
@sampling_options
@click.option("--engine", help="llama.cpp (default for GGUF) or transformers (default for HF folders).")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads (default: all cores).")
@click.option("--context", type=click.IntRange(min=64), default=4096, show_default=True,
              help="Context window in tokens.")
def complete(model, text, as_json, temperature, top_p, max_tokens, seed, repeat_penalty, engine,
             threads, context):
    """Continue TEXT with MODEL ('-' reads stdin): what a base model does, and /v1/completions."""
    from .chat import answer_once, load_local
    from ..chat.session import ChatSession

    params = make_params(temperature, top_p, max_tokens, seed, repeat_penalty)
    started = time.perf_counter()
    session = ChatSession(load_local(model, engine, threads, context, announce=False), params)
    answer_once(session, session.ask_raw, sys.stdin.read() if text == "-" else text, as_json, started)
