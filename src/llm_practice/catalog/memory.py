"""Estimate the memory a model needs to chat, LoRA-tune, QLoRA-tune, freeze-tune or fully tune.

    >>> from llm_practice.catalog.memory import EstimateOptions, estimate_memory
    >>> rows = estimate_memory(shape, EstimateOptions(context=4096, mode="lora"))

The total is a sum of parts a learner can check by hand:
- weights: parameters x bytes per parameter. fp32 is single precision (4 bytes); fp16 and bf16
  are half precision (2 bytes); int8 is 1 byte; int4 is half a byte plus scales. A 7B model in
  fp16 needs about 14 GB for the weights alone.
- KV cache (inference): 2 (keys and values) x layers x kv_heads x head_dim x bytes, per token.
- activations: what one forward pass keeps alive. Training keeps every layer's activations for
  the backward pass (gradient checkpointing keeps only each layer's input and recomputes the
  rest), plus the logits over the whole vocabulary, which dominate small models with big vocabs.
- gradients and optimizer states for the parameters that train: AdamW keeps two fp32 moments
  (8 bytes per trainable parameter). Mixed-precision training also keeps an fp32 master copy of
  half-precision weights (ZeRO paper accounting: 2 + 2 + 12 = 16 bytes per parameter).
- runtime: the framework itself (Python + torch, or llama.cpp; a CUDA context on a GPU).
Inference holds all of these at once. Training does not: the backward pass frees activations as
gradients fill in, so its peak is weights + optimizer + runtime + the larger of the activations
and the gradients plus the optimizer step's temporaries.
ZeRO-2 shards gradients and optimizer states over the GPUs, ZeRO-3 the weights too; offload
moves optimizer states (and, with ZeRO-3, weights) to CPU RAM.

The constants were measured with `benchmarks/estimate_accuracy.py` (see docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from ..validation import config_error
from .params import ModelShape

GB = 1e9
Mode = Literal["infer", "full", "lora", "qlora", "freeze"]
MODES: tuple[str, ...] = ("infer", "lora", "qlora", "freeze", "full")


@dataclass(frozen=True)
class Precision:
    name: str
    label: str
    bytes_per_param: float
    engine: str  # "transformers" or "llama.cpp"
    quantized: bool = False


# GGUF bits per weight are llama.cpp's own averages for whole files (Llama-3-8B, `llama-quantize
# --help`), so they include the embedding and output tensors kept at higher precision.
PRECISIONS: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision("fp32", "fp32 (single precision, 4 bytes)", 4.0, "transformers"),
        Precision("bf16", "bf16/fp16 (half precision, 2 bytes)", 2.0, "transformers"),
        Precision("int8", "int8 (1 byte, bitsandbytes LLM.int8)", 1.0, "transformers", True),
        Precision("int4", "int4 (NF4/GPTQ/AWQ, ~4.25 bits)", 4.25 / 8, "transformers", True),
        Precision("Q8_0", "GGUF Q8_0 (8.5 bits)", 8.5 / 8, "llama.cpp", True),
        Precision("Q6_K", "GGUF Q6_K (6.6 bits)", 6.57 / 8, "llama.cpp", True),
        Precision("Q5_K_M", "GGUF Q5_K_M (5.7 bits)", 5.70 / 8, "llama.cpp", True),
        Precision("Q4_K_M", "GGUF Q4_K_M (4.9 bits)", 4.90 / 8, "llama.cpp", True),
        Precision("Q3_K_M", "GGUF Q3_K_M (4.0 bits)", 4.00 / 8, "llama.cpp", True),
        Precision("Q2_K", "GGUF Q2_K (3.2 bits)", 3.17 / 8, "llama.cpp", True),
    )
}
DTYPE_ALIASES = {"fp16": "bf16", "half": "bf16", "float16": "bf16", "bfloat16": "bf16",
                 "float32": "fp32", "float": "fp32", "8bit": "int8", "4bit": "int4", "nf4": "int4",
                 **{k.lower(): k for k in PRECISIONS}}

# Measured on CPU (benchmarks/estimate_accuracy.py): resident memory of the runtime before any
# weights load. On a GPU the CUDA context and kernels take about half a gigabyte per device.
RUNTIME_BYTES = {
    ("transformers", "cpu"): 0.40 * GB, ("transformers", "gpu"): 0.50 * GB,
    ("llama.cpp", "cpu"): 0.05 * GB, ("llama.cpp", "gpu"): 0.30 * GB,
}
LLAMACPP_UBATCH = 512  # llama.cpp's default micro-batch
FREEZE_TRAINABLE_LAYERS = 2  # LLaMA-Factory's freeze_trainable_layers default
# Training holds the logits over the whole vocabulary about six times at the start of the
# backward pass: logits, log-softmax, their gradients and softmax temporaries (measured).
LOGIT_COPIES = 6
PEFT_RUNTIME_BYTES = 0.15 * GB  # importing peft adds this much to the CPU process (measured)


class EstimateOptions(BaseModel):
    """The settings an estimate is for (the flags of `llmp estimate`)."""

    model_config = ConfigDict(extra="forbid")

    context: int = Field(4096, ge=1, description="tokens per sequence (prompt + answer, or training length)")
    batch: int = Field(1, ge=1)
    dtype: str | None = None  # None: every precision
    mode: Mode = "infer"
    lora_rank: int = Field(8, ge=1)
    gpus: int = Field(1, ge=1)
    zero: Literal[0, 2, 3] = 0
    offload: bool = False
    grad_checkpointing: bool = False
    device: Literal["cpu", "gpu"] = "cpu"


def make_options(**values) -> EstimateOptions:
    """Build `EstimateOptions`, turning any bad value into a `ConfigError` that names the flag."""
    try:
        options = EstimateOptions(**values)
    except ValidationError as e:
        raise config_error(e, show_input=True,
                           hint="See `llmp estimate --help` for the accepted values.") from None
    if options.dtype is not None:
        key = DTYPE_ALIASES.get(options.dtype.lower()) or DTYPE_ALIASES.get(options.dtype)
        if key is None:
            raise ConfigError(
                "--dtype", f"unknown precision '{options.dtype}'.",
                f"Choose one of: {', '.join(PRECISIONS)} (fp16 and bf16 are both half precision).",
            )
        options = options.model_copy(update={"dtype": key})
    if options.zero and options.gpus < 2 and not options.offload:
        raise ConfigError("--zero", f"ZeRO-{options.zero} shards over GPUs, but --gpus is 1.",
                          "Add --gpus N (N >= 2), or --offload to move states to CPU RAM.")
    return options


@dataclass(frozen=True)
class Breakdown:
    """Bytes one device needs for one precision and one method."""

    precision: str
    mode: str
    weights: float
    kv_cache: float
    activations: float
    gradients: float
    optimizer: float
    runtime: float
    offloaded: float = 0.0  # moved to CPU RAM by --offload
    trainable: int = 0
    note: str = ""
    measured: bool = False  # weights are a real file's size, not computed from bits per weight

    @property
    def total(self) -> float:
        """The peak. Inference holds everything at once. Training holds activations until the
        backward pass frees them as gradients fill in, so its peak is the larger of the
        activations and the gradients plus the optimizer step's temporaries (one more copy)."""
        fixed = self.weights + self.kv_cache + self.optimizer + self.runtime
        if self.mode == "infer":
            return fixed + self.activations
        return fixed + max(self.activations, 2 * self.gradients)

    def to_json(self) -> dict:
        return asdict(self) | {"total": self.total}


def lora_parameters(shape: ModelShape, rank: int) -> int:
    """LoRA on every linear layer of every block: r x (in + out) per adapted matrix."""
    return shape.layers * sum(rank * (n_in + n_out) for n_in, n_out in shape.linear_shapes)


def _layer_activation_elements(shape: ModelShape) -> int:
    """Values one block keeps per token for the backward pass (fused/flash attention, so no
    seq x seq scores): norms, q/k/v and rotary copies, attention output, and the SwiGLU MLP's
    gate, up, activation and product. Measured within a few percent on SmolLM2 (fp32, CPU)."""
    kv_dim = shape.kv_heads * shape.head_dim
    return 10 * shape.hidden + 4 * kv_dim + 4 * shape.intermediate


def _training_activations(shape: ModelShape, o: EstimateOptions, act_bytes: float,
                          layers_with_grad: int, lora: bool = False) -> float:
    tokens = o.batch * o.context
    elements = _layer_activation_elements(shape)
    if lora:  # each adapted layer also keeps its adapter branch's output (measured with PEFT)
        elements += sum(n_out for _, n_out in shape.linear_shapes)
    per_layer = elements * act_bytes * tokens
    if o.grad_checkpointing:
        stored = layers_with_grad * shape.hidden * act_bytes * tokens + per_layer
    else:
        stored = layers_with_grad * per_layer
    logits = LOGIT_COPIES * tokens * shape.vocab * 4
    return stored + logits


def _inference_activations(shape: ModelShape, o: EstimateOptions, precision: Precision) -> float:
    if precision.engine == "llama.cpp":
        # llama.cpp's compute buffer: the attention scores of one micro-batch against the whole
        # context window plus the MLP and norm scratch, in fp32 (matches its own log line).
        ub = min(LLAMACPP_UBATCH, o.context) * o.batch
        return 4 * ub * (shape.heads * o.context + 4 * shape.hidden + 3 * shape.intermediate)
    act = 4.0 if precision.name == "fp32" else 2.0
    tokens = o.batch * o.context
    mlp = tokens * (4 * shape.hidden + 3 * shape.intermediate) * act
    # A batch needs a padding mask, and with a mask CPU attention materialises the scores and
    # their softmax (one sequence runs the fused causal kernel instead).
    masked = o.device == "cpu" and o.batch > 1
    scores = 2 * o.batch * shape.heads * o.context * o.context * act if masked else 0
    return mlp + scores + o.batch * shape.vocab * 4


def _infer(shape: ModelShape, p: Precision, o: EstimateOptions, gguf_bytes: float | None) -> Breakdown:
    weights = _weight_bytes(shape, p, gguf_bytes)
    kv_bytes = 4.0 if p.name == "fp32" else 2.0  # llama.cpp keeps an f16 cache by default
    kv = o.batch * o.context * shape.kv_per_token * kv_bytes
    shard = o.gpus  # several GPUs serve one model tensor-parallel: weights and cache split
    return Breakdown(p.name, "infer", weights / shard, kv / shard, _inference_activations(shape, o, p),
                     0.0, 0.0, RUNTIME_BYTES[(p.engine, o.device)])


def _weight_bytes(shape: ModelShape, p: Precision, gguf_bytes: float | None) -> float:
    if gguf_bytes is not None and p.engine == "llama.cpp":
        return gguf_bytes
    if p.quantized and p.engine == "transformers":
        # bitsandbytes/GPTQ quantise the blocks' linear layers; embeddings and the output head
        # stay in half precision.
        return (shape.total - shape.embedding) * p.bytes_per_param + shape.embedding * 2
    return shape.total * p.bytes_per_param


def _train(shape: ModelShape, p: Precision, o: EstimateOptions, mode: str) -> Breakdown:
    half = p.name != "fp32"
    act_bytes = 2.0 if half else 4.0
    base = _weight_bytes(shape, p, None)
    per_block = (shape.total - shape.embedding - shape.hidden) / max(shape.layers, 1)
    layers_with_grad = shape.layers
    note = ""
    if mode == "full":
        trainable = shape.total
        # half precision: half weights + half grads, fp32 master weights + two moments in the
        # optimizer (16 bytes/param); fp32: 4 + 4 + 8.
        weights, grads = base, trainable * (2.0 if half else 4.0)
        optimizer = trainable * (12.0 if half else 8.0)
    elif mode == "freeze":
        trainable = int(per_block * min(FREEZE_TRAINABLE_LAYERS, shape.layers))
        layers_with_grad = min(FREEZE_TRAINABLE_LAYERS, shape.layers)
        weights = base + (trainable * 2.0 if half else 0.0)  # trainable blocks upcast to fp32
        grads, optimizer = trainable * 4.0, trainable * 8.0
        note = f"last {layers_with_grad} blocks train"
    else:  # lora, qlora: adapters train in fp32 on a frozen base
        trainable = lora_parameters(shape, o.lora_rank)
        weights = base + trainable * 4.0
        grads, optimizer = trainable * 4.0, trainable * 8.0
        note = f"rank {o.lora_rank} on all linear layers"
    activations = _training_activations(shape, o, act_bytes, layers_with_grad, lora=mode in ("lora", "qlora"))
    runtime = RUNTIME_BYTES[("transformers", o.device)]
    if mode in ("lora", "qlora") and o.device == "cpu":
        runtime += PEFT_RUNTIME_BYTES
    offloaded = 0.0
    if o.zero >= 2 and o.gpus > 1:
        grads, optimizer = grads / o.gpus, optimizer / o.gpus
    if o.zero == 3 and o.gpus > 1:
        weights = weights / o.gpus
    if o.offload:
        offloaded = optimizer + (weights if o.zero == 3 else 0.0)
        weights = 0.0 if o.zero == 3 else weights
        optimizer = 0.0
    return Breakdown(p.name, mode, weights, 0.0, activations, grads, optimizer,
                     runtime, offloaded, trainable, note)


# Which precisions each method runs in; the rest are marked "not applicable" by leaving them out.
_MODE_PRECISIONS: dict[str, tuple[str, ...]] = {
    "infer": tuple(PRECISIONS),
    "full": ("fp32", "bf16"),
    "freeze": ("fp32", "bf16"),
    "lora": ("fp32", "bf16"),
    "qlora": ("int8", "int4"),
}


def estimate_memory(shape: ModelShape, options: EstimateOptions, *, gguf_bytes: float | None = None,
                    gguf_type: str | None = None) -> list[Breakdown]:
    """Every (precision, method) this model can run in, with the bytes each part needs.

    `gguf_bytes`/`gguf_type`: a GGUF file's real size and type, used for its own precision row.
    """
    rows: list[Breakdown] = []
    for mode in MODES:
        for name in _MODE_PRECISIONS[mode]:
            if options.dtype and name != options.dtype:
                continue
            p = PRECISIONS[name]
            rows.append(_infer(shape, p, options, None) if mode == "infer" else _train(shape, p, options, mode))
    if gguf_type and gguf_bytes is not None:
        # The file's own row comes first and is marked: a real Q4_K_M file (with its higher-precision
        # embeddings) can be bigger than the computed Q5_K_M, so it must not pose as a computed row.
        p = PRECISIONS.get(gguf_type) or Precision(gguf_type, f"GGUF {gguf_type} (this file)",
                                                   gguf_bytes / shape.total, "llama.cpp", True)
        rows.insert(0, replace(_infer(shape, p, options, gguf_bytes), measured=True))
    return rows


def lookup(rows: list[Breakdown], mode: str, precision: str) -> Breakdown | None:
    return next((r for r in rows if r.mode == mode and r.precision == precision), None)
