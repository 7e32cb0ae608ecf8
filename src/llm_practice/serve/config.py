"""`ServeConfig`: every setting of `llmp serve`, validated before any model loads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(default_factory=lambda: ["smollm2-135m-instruct"])
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_key: str | None = None
    engine: str | None = None
    parallel: int = Field(8, ge=1, le=64)
    queue: int = Field(32, ge=0, le=10_000)
    context: int = Field(2048, ge=128)
    serve_quant: Literal["q8_0", "f16"] | None = None
    max_tokens_limit: int = Field(4096, ge=1)
    default_max_tokens: int = Field(512, ge=1)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    request_timeout: float = Field(600.0, gt=0)
    max_messages: int = Field(1000, ge=1)  # per request, checked before any tokenizing

    @property
    def max_prompt_chars(self) -> int:
        """Characters a request may send: far more than the context holds (a token is at least
        one character), so a real prompt is never refused here, only a flood."""
        return self.context * 16
    cors_origins: list[str] = Field(default_factory=list)
    allowed_hosts: list[str] = Field(default_factory=list)  # beyond loopback names on a loopback bind
    ui: bool = True
