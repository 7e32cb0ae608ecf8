"""`llmp serve`: the OpenAI-compatible API and the web UI."""

from __future__ import annotations

import click

EXAMPLES = """\b
Examples:
  llmp serve                                  # bundled model at http://127.0.0.1:8000
  llmp serve smollm2-135m-instruct --port 9000 --api-key secret
  curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
       -d '{"messages": [{"role": "user", "content": "Hello"}]}'
"""


@click.command(epilog=EXAMPLES)
@click.argument("models", nargs=-1)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; the default accepts local connections only.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--api-key", envvar="LLMP_API_KEY", help="Require 'Authorization: Bearer KEY' (also LLMP_API_KEY).")
@click.option("--engine", help="llama.cpp (GGUF, batched) or transformers.")
@click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Conversations decoded together in one batch (llama.cpp).")
@click.option("--queue", "queue_size", type=click.IntRange(0, 10000), default=32, show_default=True,
              help="Requests allowed to wait for a slot; beyond that the server answers 429.")
@click.option("--context", type=click.IntRange(min=128), default=2048, show_default=True,
              help="Context window per conversation, in tokens.")
@click.option("--serve-quant", type=click.Choice(["q8_0", "f16"]),
              help="Re-encode the GGUF once (cached) as Q8_0 or F16, whose batched CPU kernels scale "
                   "better with --parallel; F16 is slower for a single user. Default: serve as is.")
@click.option("--max-tokens-limit", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Largest max_tokens a request may ask for.")
@click.option("--timeout", "request_timeout", type=click.FloatRange(min=1), default=600, show_default=True,
              help="Seconds a generation may run before it is stopped.")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="Allow browser calls from this origin (repeatable). CORS is off by default.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this host name (repeatable). On 127.0.0.1 only loopback "
                   "names are accepted by default, which stops DNS-rebinding pages.")
@click.option("--no-ui", is_flag=True, help="Serve only the API, no web UI at /.")
def serve(models, host, port, api_key, engine, parallel, queue_size, context, serve_quant,
          max_tokens_limit, request_timeout, cors_origins, allowed_hosts, no_ui):
    """Serve MODELS (default: the bundled smollm2-135m-instruct) over an OpenAI-compatible API,
    with a web UI at / (中文 / English)."""
    from ..models.bundled import BUNDLED_NAME
    from ..serve.app import create_app, run_server
    from ..serve.config import ServeConfig

    config = ServeConfig(
        models=list(models) or [BUNDLED_NAME], host=host, port=port, api_key=api_key or None,
        engine=engine, parallel=parallel, queue=queue_size, context=context, serve_quant=serve_quant,
        max_tokens_limit=max_tokens_limit, request_timeout=request_timeout,
        cors_origins=list(cors_origins), allowed_hosts=list(allowed_hosts), ui=not no_ui,
    )
    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        click.echo(f"Warning: serving on {host} without --api-key: anyone who can reach this port "
                   "can use the models.", err=True)
    _check_port(host, port)  # before loading models: a taken port is the commonest failure
    click.echo("Loading " + ", ".join(config.models) + " ...", err=True)
    app = create_app(config)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"llmp serve: API at http://{shown}:{port}/v1  web UI at http://{shown}:{port}/  "
               f"(Ctrl-C to stop)", err=True)
    run_server(app, host, port)


def _check_port(host: str, port: int) -> None:
    import socket

    from ..errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise ConfigError("--port", f"cannot listen on {host}:{port} ({e.strerror}).",
                              "Another server may be using it: stop it, or pick another --port.") from e

