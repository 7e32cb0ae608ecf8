"""The FastAPI app: routers, errors in OpenAI's shape, auth, limits, and the web UI at `/`.

    app = create_app(ServeConfig(models=["smollm2-135m-instruct"]))
    uvicorn.run(app, host="127.0.0.1", port=8000)

Each area of the API is an `APIRouter` in its own module (`ROUTERS`); what they share lives on
`app.state` (see `context.py`). Every generation, from the API or the web UI, goes through the
one generation service (`generation.py`): admission (429), the `--timeout` deadline, metrics.
A new area (say `/v1/kb/...`) is one module with a `router`, added to `ROUTERS`, and a tab
builder added to `ui.TABS`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from . import api_embeddings, api_kb, api_ops, api_openai
from .config import ServeConfig
from .context import AppContext
from .generation import GenerationService, Served, load_served
from .metrics import Metrics
from .middleware import BodyLimitMiddleware, HostCheckMiddleware, allowed_hosts
from .responses import install_error_handlers

ROUTERS = [api_ops.router, api_openai.router, api_embeddings.router, api_kb.router]


def create_app(config: ServeConfig, served: dict[str, Served] | None = None) -> FastAPI:
    served = served if served is not None else load_served(config)
    metrics = Metrics(served)
    ctx = AppContext(config, served, GenerationService(served, config, metrics), metrics)

    app = FastAPI(title="llm-practice", version=_version(), docs_url="/docs", redoc_url=None)
    ctx.publish(app.state)
    # Always our CORS policy, even an empty one: the web UI then adds none of its own (Gradio
    # would answer any localhost origin with credentials).
    app.add_middleware(CORSMiddleware, allow_origins=config.cors_origins, allow_methods=["*"],
                       allow_headers=["*"])
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)
    hosts = allowed_hosts(config.host, config.allowed_hosts)
    if hosts is not None:
        app.add_middleware(HostCheckMiddleware, allowed=hosts)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    if config.ui:
        from .ui import mount_ui

        app = mount_ui(app, ctx)
    return app


def _version() -> str:
    from .. import __version__

    return __version__


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` with uvicorn until SIGTERM / Ctrl-C. On shutdown the live generations end
    first, each with an error event (503 `server_shutting_down`), so no client sees a stream
    simply cut; connections then close within uvicorn's graceful timeout."""
    import uvicorn

    service: GenerationService = app.state.generation

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets=None) -> None:
            service.stop_all()
            await super().shutdown(sockets)

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    _Server(config).run()
