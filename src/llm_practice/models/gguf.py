"""Read and check GGUF files without loading weights.

Used when a GGUF is imported and before an engine loads it, so a truncated download or a file
that is not a GGUF fails with a message that names the file instead of a crash inside llama.cpp.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelFormatError

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class GGUFSummary:
    path: Path
    architecture: str
    name: str
    parameters: int
    file_type: str
    context_length: int | None
    chat_template: str | None
    size_bytes: int
    # Every scalar and string key of the header; arrays appear as "KEY#count" (their length).
    metadata: dict = field(default_factory=dict, repr=False, compare=False)


# GGUF value types (gguf spec): id -> struct format; 8 = string, 9 = array.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


class _Truncated(Exception):
    pass


class _Reader:
    """A forward-only reader over a memory-mapped GGUF header. Arrays of strings (the
    vocabulary) are skipped without decoding, so checking a 100 MB file takes milliseconds."""

    def __init__(self, buf):
        self.buf = buf
        self.pos = 0
        self.size = len(buf)

    def read(self, n: int) -> bytes:
        if self.pos + n > self.size:
            raise _Truncated
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    def unpack(self, fmt: str):
        width = struct.calcsize(fmt)
        if self.pos + width > self.size:
            raise _Truncated
        value = struct.unpack_from("<" + fmt, self.buf, self.pos)[0]
        self.pos += width
        return value

    def string(self) -> bytes:
        return self.read(self.unpack("Q"))

    def skip_strings(self, count: int) -> None:
        unpack_from, buf, pos = struct.unpack_from, self.buf, self.pos
        for _ in range(count):
            pos += 8 + unpack_from("<Q", buf, pos)[0]
        if pos > self.size:
            raise _Truncated
        self.pos = pos

    def value(self, vtype: int):
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string().decode("utf-8", errors="replace")
        if vtype == _ARRAY:
            etype, count = self.unpack("I"), self.unpack("Q")
            self.last_count = count
            if etype in _SCALARS:
                self.pos += struct.calcsize(_SCALARS[etype]) * count
            elif etype == _STRING:
                self.skip_strings(count)
            else:
                for _ in range(count):
                    self.value(etype)
            if self.pos > self.size:
                raise _Truncated
            return None  # arrays (vocabulary, merges) are not needed here
        raise ValueError(f"unknown GGUF value type {vtype}")


def inspect_gguf(path: str | Path) -> GGUFSummary:
    """Check that `path` is a complete GGUF file and return what it says about itself."""
    path = Path(path)
    try:
        size = path.stat().st_size
        f = path.open("rb")
    except OSError as e:
        raise ModelFormatError(path, f"cannot read the file ({e.strerror}).") from e
    with f:
        if f.read(4) != GGUF_MAGIC:
            raise ModelFormatError(
                path,
                "not a GGUF file (it does not start with the GGUF magic bytes).",
                "Import a .gguf file, or a Hugging Face model folder that holds config.json.",
            )
        try:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise ModelFormatError(path, f"cannot map the file ({e}).") from e
        r = _Reader(buf)
        r.pos = 4
        try:
            version = r.unpack("I")
            if version < 2:
                raise ModelFormatError(path, f"GGUF version {version} is too old; llama.cpp reads v2 and v3.")
            n_tensors, n_kv = r.unpack("Q"), r.unpack("Q")
            meta = {}
            for _ in range(n_kv):
                key = r.string().decode("utf-8", errors="replace")
                vtype = r.unpack("I")
                meta[key] = r.value(vtype)
                if vtype == _ARRAY:
                    meta[f"{key}#count"] = r.last_count
            tensors = []
            for _ in range(n_tensors):
                r.string()  # name
                dims = [r.unpack("Q") for _ in range(r.unpack("I"))]
                tensors.append((dims, r.unpack("I"), r.unpack("Q")))
            header_end = r.pos
        except (_Truncated, ValueError, struct.error, MemoryError) as e:
            raise ModelFormatError(path, "the GGUF header is damaged or truncated.") from e
        finally:
            buf.close()

    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    alignment = int(meta.get("general.alignment") or 32)
    data_start = -(-header_end // alignment) * alignment
    end = data_start
    parameters = 0
    for dims, ttype, offset in tensors:
        n = 1
        for d in dims:
            n *= d
        parameters += n
        try:
            block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
        except (ValueError, KeyError):
            continue  # a tensor type newer than our gguf package: cannot size it
        end = max(end, data_start + offset + n // block * type_size)
    if end > size:
        raise ModelFormatError(
            path, f"the file is truncated: tensors need {end:,} bytes but the file has {size:,}."
        )
    arch = str(meta.get("general.architecture") or "unknown")
    file_type = meta.get("general.file_type")
    return GGUFSummary(
        path=path,
        architecture=arch,
        name=str(meta.get("general.name") or path.stem),
        parameters=parameters,
        file_type=_FILE_TYPES.get(file_type, str(file_type)) if file_type is not None else "?",
        context_length=meta.get(f"{arch}.context_length"),
        chat_template=meta.get("tokenizer.chat_template"),
        size_bytes=size,
        metadata={k: v for k, v in meta.items() if v is not None},
    )


# llama.cpp's LLAMA_FTYPE values for the common types.
_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16",
}
