"""The one way a training stage reads its dataset: a file, or a LLaMA-Factory registry entry.

A recipe names its data as `{"path": "train.jsonl"}` (format detected, or `format: NAME`) or as
`{"dataset_info": "data/dataset_info.json", "name": "kto_en_demo"}`. `read_dataset` streams the
canonical records, checked for the stage, and raises `DatasetFormatError` with the file and line at
the first record that does not fit; no field that matters for the stage is dropped silently.

    >>> from llm_practice.data.reader import DatasetSpec, read_dataset
    >>> spec = DatasetSpec(path="examples/data/sft_en.jsonl")
    >>> first = next(read_dataset(spec, stage="sft"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ConfigDict

from .records import Record


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    format: str = "auto"
    dataset_info: Path | None = None
    name: str | None = None

    def source(self):
        """-> (file path, format name or DatasetFormat) for the readers in `validate.py`."""
        from ..errors import ConfigError

        if (self.path is None) == (self.dataset_info is None):
            raise ConfigError("dataset", "give either path or dataset_info + name",
                              'e.g. {"path": "train.jsonl"} or {"dataset_info": '
                              '"data/dataset_info.json", "name": "my_data"}')
        if self.dataset_info is not None:
            if not self.name:
                raise ConfigError("dataset.name", "is missing", "Name the entry of dataset_info.json.")
            from .dataset_info import load_dataset_info

            entry = load_dataset_info(self.dataset_info, self.name)
            return entry.path, entry.format
        return self.path, self.format


def read_dataset(spec: DatasetSpec, stage: str | None = None) -> Iterator[Record]:
    """Stream the canonical records of `spec`, each checked for `stage` when one is given."""
    from .validate import iter_canonical

    path, fmt = spec.source()
    for _, rec in iter_canonical(path, fmt, stage):
        yield rec
