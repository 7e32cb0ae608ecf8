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
"""


@click.command(epilog=EXAMPLES)
@click.argument("model", required=False)
@click.option("--once", "question", metavar="TEXT", help="Answer one question and exit ('-' reads stdin).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print a JSON object with the answer and usage.")
@click.option("--system", help="System prompt.")
@click.option("--temperature", type=click.FloatRange(0, 2), default=0.7, show_default=True,
              help="Sampling temperature; 0 is greedy and deterministic.")
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=0.95, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), help="Random seed for reproducible sampling.")
@click.option("--engine", help="llama.cpp (default for GGUF) or transformers (default for HF folders).")
@click.option("--base-url", metavar="URL",
              help="Chat with a model on an OpenAI-compatible server (llmp serve, vLLM, Ollama, a cloud "
                   "API), e.g. http://127.0.0.1:8000/v1; MODEL defaults to the first one it lists.")
@click.option("--api-key", envvar="LLMP_API_KEY", help="Key for --base-url (also LLMP_API_KEY).")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads (default: all cores).")
@click.option("--context", type=click.IntRange(min=64), default=4096, show_default=True,
              help="Context window in tokens.")
def chat(model, question, as_json, system, temperature, top_p, max_tokens, seed, engine, base_url,
         api_key, threads, context):
    """Chat with MODEL (default: the bundled smollm2-135m-instruct) in the terminal."""
    from ..chat.engine import GenerationParams
    from ..chat.session import ChatSession
    from ..errors import ConfigError

    if as_json and question is None:
        raise ConfigError("--json", "only works with --once.", 'Use: llmp chat --once "question" --json')
    if base_url and engine not in (None, "openai"):
        raise ConfigError("--engine", f"'{engine}' cannot be used with --base-url: the server runs the model.",
                          "Drop --engine, or drop --base-url to run a local model.")
    params = GenerationParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
    started = time.perf_counter()
    runner = (_remote(base_url, model, api_key) if base_url
              else _local(model or BUNDLED_NAME, engine, threads, context, announce=question is None))
    session = ChatSession(runner, params, system=system)
    if question is not None:
        _answer_once(session, sys.stdin.read() if question == "-" else question, as_json, started)
    else:
        _repl(session)


def _remote(base_url: str, model: str | None, api_key: str | None):
    from ..chat.remote import connect

    return connect(base_url, model, api_key)


def _local(model: str, engine: str | None, threads: int | None, context: int, announce: bool):
    from ..chat.engine import load_engine
    from ..i18n import t
    from ..models.registry import get_model

    info = get_model(model)
    if announce:
        click.echo(t("chat_loading", model=info.name), err=True)
    return load_engine(info, engine, threads=threads, context=context)


def _answer_once(session, question: str, as_json: bool, started: float) -> None:
    stream = session.ask(question)
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


def _repl(session) -> None:
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
        stream = session.ask(line)
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
