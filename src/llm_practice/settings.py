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
    )
