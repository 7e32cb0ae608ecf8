"""Dataset statistics: record kinds, turns, and length percentiles, with an optional histogram.

Lengths are counted in tokens when a tokenizer is given (a registered model name or a Hugging
Face folder), else in characters. Streams the file; keeps one integer per record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, EngineMissingError
from .validate import iter_canonical

PERCENTILES = (50, 90, 99)


@dataclass
class DatasetStats:
    path: Path
    records: int = 0
    kinds: Counter = field(default_factory=Counter)
    turns: Counter = field(default_factory=Counter)  # user turns per record -> records
    unit: str = "characters"
    lengths: list[int] = field(default_factory=list)
    system_prompts: int = 0
    labels: Counter = field(default_factory=Counter)  # KTO label -> records

    def percentile(self, p: float) -> int:
        if not self.lengths:
            return 0
        ordered = sorted(self.lengths)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def to_json(self) -> dict:
        return {
            "path": str(self.path), "records": self.records, "kinds": dict(self.kinds),
            "user_turns": {str(k): v for k, v in sorted(self.turns.items())},
            "system_prompts": self.system_prompts, "unit": self.unit,
            "labels": {"true": self.labels[True], "false": self.labels[False]},
            "length": {"min": min(self.lengths, default=0), "max": max(self.lengths, default=0),
                       "mean": round(sum(self.lengths) / len(self.lengths), 1) if self.lengths else 0,
                       **{f"p{p}": self.percentile(p) for p in PERCENTILES}},
        }


def load_tokenizer(name: str) -> Callable[[str], int]:
    """A registered model name or a Hugging Face folder -> a function counting tokens."""
    try:
        from transformers import AutoTokenizer
    except ImportError as e:
        raise EngineMissingError("transformers", "pip install 'llm-practice[transformers]'",
                                 "needed for --tokenizer") from e
    folder = Path(name).expanduser()
    if not folder.is_dir():
        from ..errors import ModelNotFoundError
        from ..models.registry import get_model

        try:
            info = get_model(name)
        except ModelNotFoundError as e:
            raise ConfigError("--tokenizer", f"'{name}' is neither a local model nor a folder",
                              e.hint) from e
        if info.format == "gguf":
            tokenizer = _gguf_tokenizer(AutoTokenizer, info.path)
            return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
        folder = info.path
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _gguf_tokenizer(auto, gguf: Path):
    """Read only the tokenizer out of a GGUF file (no weights), cached as a tokenizer folder."""
    from ..atomic import atomic_path
    from ..settings import get_settings

    stat = gguf.stat()
    cached = get_settings().cache_dir / "tokenizers" / f"{gguf.stem}-{stat.st_size}-{int(stat.st_mtime)}"
    if (cached / "tokenizer_config.json").is_file():
        return auto.from_pretrained(str(cached))
    tokenizer = auto.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    with atomic_path(cached, folder=True) as tmp:  # another process may cache it first: fine
        tokenizer.save_pretrained(str(tmp))
    return tokenizer


def dataset_stats(path: str | Path, fmt="auto", tokenizer: str | None = None
                  ) -> DatasetStats:
    count = load_tokenizer(tokenizer) if tokenizer else len
    stats = DatasetStats(Path(path), unit="tokens" if tokenizer else "characters")
    for _, rec in iter_canonical(path, fmt):
        stats.records += 1
        stats.kinds[rec.kind] += 1
        stats.turns[sum(t.role == "user" for t in rec.turns)] += 1
        stats.system_prompts += rec.system is not None
        if rec.label is not None:
            stats.labels[rec.label] += 1
        stats.lengths.append(sum(count(p) for p in rec.pieces()))
    return stats


def plot_histogram(stats: DatasetStats, out: str | Path) -> Path:
    """Write a PNG histogram of record lengths (needs matplotlib, in the `data` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise EngineMissingError("matplotlib", "pip install 'llm-practice[data]'",
                                 "needed for the histogram") from e
    from ..atomic import atomic_path

    out = Path(out)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(stats.lengths, bins=min(50, max(5, len(set(stats.lengths)))), color="#4c72b0")
    for p, style in zip(PERCENTILES, ("--", "-.", ":")):
        ax.axvline(stats.percentile(p), color="black", linestyle=style, label=f"p{p}")
    ax.set_xlabel(f"record length ({stats.unit})")
    ax.set_ylabel("records")
    ax.set_title(f"{stats.path.name}: {stats.records} records")
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return out
