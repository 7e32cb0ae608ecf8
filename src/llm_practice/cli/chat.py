"""`llmp chat`: the terminal chat (REPL) and one-shot answers for scripts."""

from __future__ import annotations

import json
import sys
import time

import click

from ..models.bundled import BUNDLED_NAME

EXAMPLES = """\b
Examples:
  llmp chat                                   # chat with the bundled SmolLM2
  llmp chat smollm2-135m-instruct --system "Answer in one sentence."
  llmp chat --once "Tell me the name of the capital of France." --temperature 0
  echo "Name three colours." | llmp chat --once - --json
  llmp chat --base-url http://127.0.0.1:8000/v1 --once "Hi"   # any OpenAI-compatible server
  llmp chat my-base-model --raw --once "Once upon a time"      # a base model continues text
  llmp chat --repeat-penalty 1.0                               # switch the loop guard off
"""


def sampling_options(command):
    """The sampling flags `llmp chat` and `llmp complete` share (GenerationParams' fields)."""
    from ..chat.engine import DEFAULT_REPEAT_PENALTY

    options = [
        click.option("--temperature", type=click.FloatRange(0, 2), default=0.7, show_default=True,
                     help="Sampling temperature; 0 is greedy and deterministic."),
        click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=0.95,
                     show_default=True),
        click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True),
        click.option("--seed", type=click.IntRange(min=0), help="Random seed for reproducible sampling."),
        click.option("--repeat-penalty", type=click.FloatRange(1, 2), default=DEFAULT_REPEAT_PENALTY,
                     show_default=True,
                     help="Divide the scores of tokens seen in the last 64 generated ones (llama.cpp's "
                          "repeat penalty); stops small models looping. 1.0 switches it off."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_params(temperature, top_p, max_tokens, seed, repeat_penalty):
    from ..chat.engine import GenerationParams

    return GenerationParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed,
                            repeat_penalty=repeat_penalty)


@click.command(epilog=EXAMPLES)
@click.argument("model", required=False)
@click.option("--once", "question", metavar="TEXT", help="Answer one question and exit ('-' reads stdin).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print a JSON object with the answer and usage.")
@click.option("--system", help="System prompt.")
@sampling_options
@click.option("--raw", is_flag=True,
              help="Continue plain text without the chat template (for base models, which have none).")
@click.option("--engine", help="llama.cpp (default for GGUF) or transformers (default for HF folders).")
@click.option("--base-url", metavar="URL",
              help="Chat with a model on an OpenAI-compatible server (llmp serve, vLLM, Ollama, a cloud "
                   "API), e.g. http://127.0.0.1:8000/v1; MODEL defaults to the first one it lists.")
@click.option("--api-key", envvar="LLMP_API_KEY", help="Key for --base-url (also LLMP_API_KEY).")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads (default: all cores).")
@click.option("--context", type=click.IntRange(min=64), default=4096, show_default=True,
              help="Context window in tokens.")
def chat(model, question, as_json, system, temperature, top_p, max_tokens, seed, repeat_penalty, raw,
         engine, base_url, api_key, threads, context):
    """Chat with MODEL (default: the bundled smollm2-135m-instruct) in the terminal.

    A base model (no chat template) cannot chat: `--raw` lets it continue text instead."""
    from ..chat.session import ChatSession
    from ..errors import BaseModelError, ConfigError

    if as_json and question is None:
        raise ConfigError("--json", "only works with --once.", 'Use: llmp chat --once "question" --json')
    if base_url and engine not in (None, "openai"):
        raise ConfigError("--engine", f"'{engine}' cannot be used with --base-url: the server runs the model.",
                          "Drop --engine, or drop --base-url to run a local model.")
    if raw and system:
        raise ConfigError("--system", "does not apply with --raw: plain text has no system turn.",
                          "Put the context at the start of the text instead.")
    params = make_params(temperature, top_p, max_tokens, seed, repeat_penalty)
    started = time.perf_counter()
    runner = (_remote(base_url, model, api_key) if base_url
              else load_local(model or BUNDLED_NAME, engine, threads, context, announce=question is None))
    if not raw and not runner.can_chat():  # say so now, not after the first question
        raise BaseModelError(runner.model.name, runner.model.path)
    session = ChatSession(runner, params, system=system)
    ask = session.ask_raw if raw else session.ask
    if question is not None:
        answer_once(session, ask, sys.stdin.read() if question == "-" else question, as_json, started)
    else:
        _repl(session, ask)


def _remote(base_url: str, model: str | None, api_key: str | None):
    from ..chat.remote import connect

    return connect(base_url, model, api_key)


def load_local(model: str, engine: str | None, threads: int | None, context: int, announce: bool):
    from ..chat.engine import load_engine
    from ..i18n import t
    from ..models.registry import get_model

    info = get_model(model)
    if announce:
        click.echo(t("chat_loading", model=info.name), err=True)
    return load_engine(info, engine, threads=threads, context=context)


def answer_once(session, ask, question: str, as_json: bool, started: float) -> None:
    stream = ask(question)
    if as_json:
        answer = stream.text()
        click.echo(json.dumps({
            "model": session.engine.model.name,
            "engine": session.engine.name,
            "answer": answer,
            "finish_reason": stream.finish_reason,
            "usage": {
                "prompt_tokens": stream.prompt_tokens,
                "completion_tokens": stream.completion_tokens,
            },
            "seconds": round(time.perf_counter() - started, 3),
        }, ensure_ascii=False))
        return
    for delta in stream:
        sys.stdout.write(delta)
        sys.stdout.flush()
    sys.stdout.write("\n")


def _repl(session, ask) -> None:
    from ..i18n import t

    try:  # line editing and history for input()
        import readline  # noqa: F401
    except ImportError:
        pass
    click.echo(t("chat_banner", model=session.engine.model.name, engine=session.engine.name), err=True)
    interrupted = False
    while True:
        try:
            line = input(">>> ")
        except EOFError:
            click.echo("\n" + t("chat_bye"), err=True)
            return
        except KeyboardInterrupt:
            if interrupted:
                click.echo("\n" + t("chat_bye"), err=True)
                return
            interrupted = True
            click.echo("\n" + t("chat_exit_hint"), err=True)
            continue
        interrupted = False
        line = line.strip()
        if not line:
            continue
        if line.startswith("/"):
            if _command(session, line) == "exit":
                click.echo(t("chat_bye"), err=True)
                return
            continue
        stream = ask(line)
        try:
            for delta in stream:
                sys.stdout.write(delta)
                sys.stdout.flush()
        except KeyboardInterrupt:
            stream.close()
            sys.stdout.write(" " + t("chat_interrupted"))
        sys.stdout.write("\n")
        sys.stdout.flush()


def _help(session, arg: str) -> str:
    from ..i18n import t

    return t("chat_help")


def _reset(session, arg: str) -> str:
    from ..i18n import t

    session.reset()
    return t("chat_reset")


def _system(session, arg: str) -> str:
    from ..i18n import t

    session.set_system(arg)
    return t("chat_system_set")


def _save(session, arg: str) -> str:
    from ..errors import LlmpError
    from ..i18n import t

    if not arg:
        return t("chat_usage", usage="/save FILE")
    try:
        n = session.save(arg)
    except LlmpError as e:
        return str(e)
    return t("chat_saved", n=n, path=arg)


# in-chat commands: name -> handler(session, argument) returning the text to show
CHAT_COMMANDS = {"/help": _help, "/reset": _reset, "/system": _system, "/save": _save}
EXIT_COMMANDS = ("/exit", "/quit", "/bye")


def _command(session, line: str) -> str | None:
    from ..i18n import t

    cmd, _, arg = line.partition(" ")
    if cmd in EXIT_COMMANDS:
        return "exit"
    handler = CHAT_COMMANDS.get(cmd)
    click.echo(handler(session, arg.strip()) if handler else t("chat_unknown_command", cmd=cmd))
    return None
