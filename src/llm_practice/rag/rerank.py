"""Optional cross-encoder reranking: any Hugging Face sequence-classification folder
(for example BAAI/bge-reranker-base after `llmp download`). None ships on PyPI, so the tests
build a tiny one from a config to exercise this path."""

from __future__ import annotations

from pathlib import Path


class CrossEncoderReranker:
    def __init__(self, path: str | Path, max_length: int = 512, batch_size: int = 16):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from ..errors import ConfigError

        path = Path(path).expanduser()
        if not (path / "config.json").is_file():
            raise ConfigError("--reranker", f"{path} is not a model folder (no config.json).",
                              "Point at a downloaded cross-encoder, e.g. `llmp download BAAI/bge-reranker-base`.")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(path)).eval()
        self.max_length = max_length
        self.batch_size = batch_size

    def score(self, query: str, texts: list[str]) -> list[float]:
        """Relevance of each text to the query as a probability (sigmoid of the model's logit)."""
        import torch

        out: list[float] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            encoded = self.tokenizer([query] * len(batch), batch, padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
            with torch.inference_mode():
                logits = self.model(**encoded).logits
            column = logits[:, -1] if logits.shape[-1] > 1 else logits[:, 0]
            out += torch.sigmoid(column.float()).tolist()
        return out
