"""The curated model catalog: `catalog/models.yaml`, validated, plus "what fits on this machine".

Each entry carries its ids on Hugging Face / ModelScope / OpenXLab, context, license and the
shape from its config.json, so `llmp estimate NAME` and `llmp models catalog --fits` work
offline. Parameter counts are computed from the shape (`params.count_parameters`); `published`
is what the authors say, kept for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError, ModelFormatError
from ..workflow import SOURCES, Source
from .params import count_parameters

CATALOG_FILE = Path(__file__).with_name("models.yaml")


class CatalogIds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hf: str | None = None
    modelscope: str | None = None
    openxlab: str | None = None


class CatalogEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    family: str
    published: str
    context: int
    license: str
    ids: CatalogIds
    config: dict = Field(default_factory=dict)
    tutorial: bool = False
    source: list[str]  # where the facts come from: the model card first
    gated: list[Source] = Field(default_factory=list)  # hubs where the terms must be accepted first
    context_note: str = ""  # why `context` differs from config.json's position limit

    @field_validator("source", mode="before")
    @classmethod
    def _urls(cls, value):
        urls = [value] if isinstance(value, str) else value
        if not urls or not all(isinstance(u, str) and u.startswith("https://") for u in urls):
            raise ValueError("source must be one https:// URL or a list of them (the model card first)")
        return urls

    @property
    def license_label(self) -> str:
        """The license's short name, plus where the model is gated."""
        gated = f", gated on {'/'.join(self.gated)}" if self.gated else ""
        return self.license.split(" (")[0] + gated

    @property
    def params(self) -> int:
        return count_parameters(self.config).total

    @property
    def experts(self) -> int:
        return count_parameters(self.config).experts

    def id_on(self, source: str) -> str | None:
        return getattr(self.ids, source)


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[CatalogEntry, ...]:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as e:
        raise ModelFormatError(path, f"cannot read the catalog ({e}).") from e
    entries = []
    for i, item in enumerate(raw):
        try:
            entries.append(CatalogEntry(**item))
        except (ValidationError, TypeError) as e:
            name = item.get("name", f"entry {i + 1}") if isinstance(item, dict) else f"entry {i + 1}"
            raise ModelFormatError(path, f"catalog entry '{name}' is invalid: {e}",
                                   "Fix the entry; copy the layout of a working one.") from e
    return tuple(entries)


def load_catalog(path: Path | None = None) -> tuple[CatalogEntry, ...]:
    return _load(path or CATALOG_FILE)


def find_entry(name: str, by_id: bool = False) -> CatalogEntry | None:
    """A catalog entry by name (case-insensitive), or also by its hub ids with `by_id`."""
    key = name.lower()
    for entry in load_catalog():
        ids = [v.lower() for v in entry.ids.model_dump().values() if v] if by_id else []
        if key == entry.name.lower() or key in ids:
            return entry
    return None


def check_source(source: str | None) -> str | None:
    if source is not None and source not in SOURCES:
        raise ConfigError("--source", f"unknown source '{source}'.", f"Choose one of: {', '.join(SOURCES)}.")
    return source


@dataclass(frozen=True)
class Fit:
    """What this machine can do with one catalog model (bytes are the estimates used)."""

    chat: str | None  # the best precision that fits for chat, or None
    chat_bytes: float
    lora: bool
    lora_bytes: float
    full: bool
    full_bytes: float


# Chat precisions from best quality down; the first that fits wins.
CHAT_ORDER = ("bf16", "Q8_0", "Q4_K_M", "Q2_K")


def fits(entry: CatalogEntry, budget: float, device: str, context: int = 2048) -> Fit:
    """Chat (best precision that fits), LoRA (bf16 base, gradient checkpointing, 1 x 1024
    tokens) and full fine-tuning (same settings), against `budget` bytes."""
    from .memory import estimate_memory, lookup, make_options

    shape = count_parameters(entry.config)
    chat_rows = estimate_memory(shape, make_options(context=context, device=device))
    chat, chat_bytes = None, lookup(chat_rows, "infer", CHAT_ORDER[-1]).total
    for precision in CHAT_ORDER:
        row = lookup(chat_rows, "infer", precision)
        if row.total <= budget:
            chat, chat_bytes = precision, row.total
            break
    train = estimate_memory(shape, make_options(context=1024, device=device, grad_checkpointing=True))
    lora = lookup(train, "lora", "bf16").total
    full = lookup(train, "full", "bf16").total
    return Fit(chat, chat_bytes, lora <= budget, lora, full <= budget, full)
