"""Datasets: read every format the field uses, validate, convert, and prepare pretraining text.

Every format converts to one canonical `Record` (`records.py`); formats register in
`formats.REGISTRY`; a LLaMA-Factory `dataset_info.json` entry becomes a format of its own
(`dataset_info.py`); training reads through `reader.read_dataset`. Post-pretraining text goes
through `prepare.py`: documents (`documents.py`), the per-document map step (`mapstep.py`) run by an
executor (`executors.py`, local or Ray), resumable per file (`stages.py`), then global dedup.
Nothing here imports torch: `llmp data validate` stays light.
"""
