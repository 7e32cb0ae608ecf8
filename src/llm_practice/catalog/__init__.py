"""Know what fits before downloading: parameter counts, memory estimates, the model catalog.

`params` counts parameters from config.json, `memory` turns them into bytes for chat and each
fine-tuning method, `sources` reads a model from a folder, a GGUF file, the registry or the hub,
`catalog` holds the curated list (models.yaml), `machine` says what this computer has free.
"""
