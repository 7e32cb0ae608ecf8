"""Start a real `llmp serve` process on a free loopback port for a test module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LLMP = str(Path(sys.executable).parent / "llmp")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, *args: str, home: Path, cache: Path, key: str | None = None,
                 env: dict[str, str | None] | None = None):
        """`env`: extra variables for the server process; a None value removes that variable."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = key
        extra = env or {}
        env = {**os.environ, "LLMP_HOME": str(home), "LLMP_CACHE": str(cache), "LLMP_LANG": "en"}
        env = {k: v for k, v in {**env, **extra}.items() if v is not None}
        cmd = [LLMP, "serve", "--port", str(self.port), *args]
        if key:
            cmd += ["--api-key", key]
        self.log = home / f"serve-{self.port}.log"
        home.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llmp serve exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"llmp serve did not start: {self.log.read_text()}")

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def __enter__(self) -> "LiveServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class InProcessServer:
    """The app served by uvicorn on a thread of the test process, for a test that changes the
    process itself (e.g. a module made unimportable with `monkeypatch.setitem(sys.modules, ...)`),
    which a `llmp serve` subprocess would not see."""

    def __init__(self, app):
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "InProcessServer":
        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.time() > deadline:
                raise RuntimeError("the in-process server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)
