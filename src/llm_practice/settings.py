"""Every environment variable llm-practice reads, read in one place.

`get_settings()` reads the environment once and caches the result; tests call
`get_settings.cache_clear()` after changing the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_HF_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class Settings:
    home: Path
    debug: bool
    hf_endpoint: str
    hf_endpoint_set: bool
    default_engine: str | None
    threads: int | None
    lang: str  # "zh" or "en": the language of the terminal UI
    cache_override: Path | None = None
    hf_mirrors: tuple[str, ...] = ()  # LLMP_HF_MIRRORS: tried in order when hf_endpoint is unreachable
    # MODELSCOPE_ENDPOINT, else the deprecated MODELSCOPE_DOMAIN; None: try modelscope.cn, then .ai
    modelscope_endpoint: str | None = None
    modelscope_prefer_ai: bool = False  # MODELSCOPE_PREFER_AI_SITE: try modelscope.ai first
    modelscope_token: str | None = None  # MODELSCOPE_API_TOKEN
    openxlab_endpoint: str = "https://openapi.openxlab.org.cn/api/v1"  # LLMP_OPENXLAB_ENDPOINT
    openxlab_token: str | None = None  # OPENXLAB_TOKEN: a JWT, used as is
    openxlab_ak: str | None = None  # OPENXLAB_AK / OPENXLAB_SK: exchanged for a JWT (as the SDK does)
    openxlab_sk: str | None = None
    gguf_converter: Path | None = None  # LLMP_GGUF_CONVERTER: folder of the isolated llama.cpp converter

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.cache_override or self.home / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def kb_dir(self) -> Path:
        return self.home / "kb"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    home = Path(env.get("LLMP_HOME") or Path.home() / ".llm-practice").expanduser()
    threads = env.get("LLMP_THREADS")
    lang = env.get("LLMP_LANG") or env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    return Settings(
        home=home,
        debug=_flag(env.get("LLMP_DEBUG")),
        hf_endpoint=(env.get("HF_ENDPOINT") or DEFAULT_HF_ENDPOINT).rstrip("/"),
        hf_endpoint_set=bool(env.get("HF_ENDPOINT")),
        default_engine=env.get("LLMP_ENGINE") or None,
        threads=int(threads) if threads and threads.isdigit() else None,
        cache_override=Path(env["LLMP_CACHE"]).expanduser() if env.get("LLMP_CACHE") else None,
        lang="zh" if lang.lower().startswith("zh") else "en",
        hf_mirrors=tuple(m.strip().rstrip("/") for m in (env.get("LLMP_HF_MIRRORS") or "").split(",") if m.strip()),
        modelscope_endpoint=_domain_url(env.get("MODELSCOPE_ENDPOINT") or env.get("MODELSCOPE_DOMAIN")),
        modelscope_prefer_ai=_flag(env.get("MODELSCOPE_PREFER_AI_SITE")),
        modelscope_token=env.get("MODELSCOPE_API_TOKEN") or None,
        openxlab_endpoint=(env.get("LLMP_OPENXLAB_ENDPOINT") or "https://openapi.openxlab.org.cn/api/v1").rstrip("/"),
        openxlab_token=env.get("OPENXLAB_TOKEN") or None,
        openxlab_ak=(env.get("OPENXLAB_AK") or "").strip() or None,
        openxlab_sk=(env.get("OPENXLAB_SK") or "").strip() or None,
        gguf_converter=Path(env["LLMP_GGUF_CONVERTER"]).expanduser() if env.get("LLMP_GGUF_CONVERTER") else None,
    )


def _domain_url(value: str | None) -> str | None:
    """MODELSCOPE_DOMAIN is a bare host (www.modelscope.cn); accept a full URL too."""
    if not value or not value.strip():
        return None
    value = value.strip().rstrip("/")
    return value if "://" in value else f"https://{value}"
