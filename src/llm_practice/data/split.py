"""Split a dataset into train and validation files, in the same file format, untouched.

Two streaming passes: count the records, then route each to train or validation by a seeded
random sample of record indices (memory holds only the validation indices).
"""

from __future__ import annotations

import random
from pathlib import Path

from ..errors import ConfigError, DatasetFormatError
from .files import ParseFailure, read_records, write_records


def split_dataset(path: str | Path, out_dir: str | Path | None = None, val: float = 0.1,
                  seed: int = 0) -> tuple[Path, Path, int, int]:
    path = Path(path)
    if not 0 < val < 1:
        raise ConfigError("--val", f"must be between 0 and 1 (a fraction) or a count, got {val}")
    total = 0
    for line, obj in read_records(path):
        if isinstance(obj, ParseFailure):
            raise DatasetFormatError(path, line, None, obj.problem,
                                     f"Run `llmp data validate {path}` first.")
        total += 1
    n_val = max(1, round(total * val)) if total > 1 else 0
    picked = set(random.Random(seed).sample(range(total), n_val))
    out_dir = Path(out_dir) if out_dir else path.parent
    suffix = path.suffix if path.suffix.lower() != ".txt" else ".txt"
    train_path = out_dir / f"{path.stem}.train{suffix}"
    val_path = out_dir / f"{path.stem}.val{suffix}"

    def pick(want_val: bool):
        for i, (_, obj) in enumerate(read_records(path)):
            if (i in picked) == want_val:
                yield obj

    write_records(train_path, pick(False))
    write_records(val_path, pick(True))
    return train_path, val_path, total - n_val, n_val
