"""Datasets: read every format the field uses, validate, convert, and prepare pretraining text.

Every format converts to one canonical `Record` (`records.py`); formats register in
`formats.REGISTRY`. Nothing here imports torch: `llmp data validate` stays light.
"""
