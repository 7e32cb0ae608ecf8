"""Count a model's parameters from its config.json, without torch and without the weights.

Every decoder LLM here is embeddings + N transformer blocks + a final norm + an output head; the
blocks differ in how attention is projected (separate q/k/v, fused wqkv, multi-head latent
attention) and in whether the MLP is dense or a mixture of experts. Each architecture family is a
small function that fills in a `ModelShape`; `count_parameters(config)` dispatches on
`model_type` through a dict. The counts match the published totals exactly for the models in
`tests/fixtures/configs/` (Qwen2.5-7B: 7,615,616,512; Llama-3.1-8B: 8,030,261,248; ...).

For an architecture not listed, `count_parameters` uses the llama formula and says so in
`ModelShape.method`; callers with transformers installed may prefer `count_on_meta_device`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ConfigError


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimator needs to know about a model."""

    architecture: str
    total: int  # every parameter in the checkpoint
    active: int  # used per token (differs from total for mixture-of-experts models)
    embedding: int  # input embedding (+ output head when not tied)
    layers: int
    hidden: int
    intermediate: int  # dense MLP width (for MoE: one expert's width times experts per token)
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    kv_per_token: int  # cached values per token, all layers (keys + values, or latents for MLA)
    context: int | None  # the longest context the model was trained for
    linear_shapes: list[tuple[int, int]] = field(default_factory=list)  # (in, out) per block, for LoRA
    experts: int = 0
    experts_per_token: int = 0
    method: str = "config"  # how the total was obtained: "config", "llama formula", "safetensors", ...
    notes: tuple[str, ...] = ()

    def with_total(self, total: int, method: str) -> ModelShape:
        """The same shape with an exact total (from safetensors headers or a GGUF file)."""
        from dataclasses import replace

        scale = total / self.total if self.total else 1.0
        return replace(self, total=total, active=round(self.active * scale), method=method)


def _get(config: dict, *names, default=None):
    for name in names:
        if config.get(name) is not None:
            return config[name]
    return default


def _require(config: dict, *names) -> int:
    value = _get(config, *names)
    if value is None:
        raise ConfigError(
            f"config.json: {names[0]}",
            "missing; cannot count parameters without it.",
            "Pass the size instead, e.g. `llmp estimate --params 7b`.",
        )
    return int(value)


@dataclass
class _Block:
    """Parameters of one transformer block, split the way the families differ."""

    attention: int = 0
    mlp: int = 0  # dense MLP, or all experts + router + shared experts
    mlp_active: int = 0
    norms: int = 0
    linear: list[tuple[int, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.attention + self.mlp + self.norms

    @property
    def active(self) -> int:
        return self.attention + self.mlp_active + self.norms


def _linear(block: _Block, n_in: int, n_out: int, bias: bool = False) -> int:
    block.linear.append((n_in, n_out))
    return n_in * n_out + (n_out if bias else 0)


def _gqa_attention(block: _Block, hidden: int, heads: int, kv: int, head_dim: int,
                   qkv_bias: bool, o_bias: bool = False, qk_norm: bool = False) -> None:
    block.attention += _linear(block, hidden, heads * head_dim, qkv_bias)
    block.attention += _linear(block, hidden, kv * head_dim, qkv_bias)
    block.attention += _linear(block, hidden, kv * head_dim, qkv_bias)
    block.attention += _linear(block, heads * head_dim, hidden, o_bias)
    if qk_norm:
        block.norms += 2 * head_dim


def _swiglu(block: _Block, hidden: int, width: int, bias: bool = False) -> int:
    n = _linear(block, hidden, width, bias) + _linear(block, hidden, width, bias)
    return n + _linear(block, width, hidden, bias)


def _expert(hidden: int, width: int) -> int:
    return 3 * hidden * width


def _standard(c: dict, arch: str) -> tuple[ModelShape, list[str]]:
    """llama, mistral, qwen2/3, gemma 1-3, internlm3, minicpm, glm4, phi3, mixtral, qwen MoE."""
    notes: list[str] = []
    hidden = _require(c, "hidden_size", "n_embd", "d_model")
    layers = _require(c, "num_hidden_layers", "n_layer", "num_layers")
    heads = _require(c, "num_attention_heads", "n_head")
    kv = int(_get(c, "num_key_value_heads", default=heads) or heads)
    head_dim = int(_get(c, "head_dim", default=hidden // heads) or hidden // heads)
    vocab = _require(c, "vocab_size")
    inter = int(_get(c, "intermediate_size", "ffn_hidden_size", default=4 * hidden))
    family = _FAMILY_FLAGS.get(arch, {"approximate": True})
    qkv_bias = bool(_get(c, "attention_bias", default=family.get("qkv_bias", False)))
    o_bias = bool(family.get("o_bias", False)) or (qkv_bias and family.get("o_bias_follows", False))
    mlp_bias = bool(_get(c, "mlp_bias", default=False))
    norms_per_layer = family.get("norms", 2)
    experts = int(_get(c, "num_local_experts", "num_experts", "n_routed_experts", default=0) or 0)
    top_k = int(_get(c, "num_experts_per_tok", "moe_topk", default=0) or 0)
    moe_width = int(_get(c, "moe_intermediate_size", default=inter) or inter)
    shared_width = int(_get(c, "shared_expert_intermediate_size", default=0) or 0)
    sparse_step = int(_get(c, "decoder_sparse_step", default=1) or 1)
    dense_layers = set(_get(c, "mlp_only_layers", default=[]) or [])

    tied = bool(_get(c, "tie_word_embeddings", default=family.get("tied", False)))
    embedding = vocab * hidden * (1 if tied else 2)
    total = embedding + hidden  # final norm
    active = total
    first: _Block | None = None
    for i in range(layers):
        block = _Block()
        _gqa_attention(block, hidden, heads, kv, head_dim, qkv_bias, o_bias,
                       qk_norm=family.get("qk_norm", False))
        block.norms += norms_per_layer * hidden
        is_moe = experts and i not in dense_layers and (i + 1) % sparse_step == 0
        if is_moe:
            router = hidden * experts
            shared = 0
            if shared_width:
                shared = _expert(hidden, shared_width) + hidden  # shared expert + its gate
            block.mlp = router + experts * _expert(hidden, moe_width) + shared
            block.mlp_active = router + top_k * _expert(hidden, moe_width) + shared
        else:
            block.mlp = block.mlp_active = _swiglu(block, hidden, inter, mlp_bias)
        total += block.total
        active += block.active
        first = first or block
    if family.get("approximate"):
        notes.append(f"'{arch}' is not a known architecture: counted with the llama formula.")
    shape = ModelShape(
        architecture=arch, total=total, active=active, embedding=embedding, layers=layers,
        hidden=hidden, intermediate=top_k * moe_width if experts else inter, heads=heads,
        kv_heads=kv, head_dim=head_dim, vocab=vocab, kv_per_token=2 * layers * kv * head_dim,
        context=_get(c, "max_position_embeddings", "seq_length"), linear_shapes=first.linear,
        experts=experts, experts_per_token=top_k,
        method="llama formula" if family.get("approximate") else "config",
    )
    return shape, notes


def _internlm2(c: dict, arch: str) -> tuple[ModelShape, list[str]]:
    """InternLM2: one fused wqkv projection, w1/w3 gate-up and w2 down; same count as llama."""
    c = {**c, "attention_bias": c.get("bias", False), "mlp_bias": c.get("bias", False)}
    shape, notes = _standard(c, "llama")
    from dataclasses import replace

    return replace(shape, architecture=arch), notes


def _chatglm(c: dict, arch: str) -> tuple[ModelShape, list[str]]:
    """ChatGLM2/3 and GLM-4 (THUDM's own code): fused query_key_value with multi-query groups,
    a SwiGLU MLP whose dense_h_to_4h holds gate and up, and an untied output layer."""
    hidden = _require(c, "hidden_size")
    layers = _require(c, "num_layers")
    heads = _require(c, "num_attention_heads")
    head_dim = int(_get(c, "kv_channels", default=hidden // heads))
    groups = int(c.get("multi_query_group_num") or heads) if c.get("multi_query_attention") else heads
    vocab = _require(c, "padded_vocab_size", "vocab_size")
    ffn = _require(c, "ffn_hidden_size")
    qkv_bias = bool(c.get("add_qkv_bias", False)) or bool(c.get("add_bias_linear", False))
    bias = bool(c.get("add_bias_linear", False))
    block = _Block()
    block.attention += _linear(block, hidden, (heads + 2 * groups) * head_dim, qkv_bias)
    block.attention += _linear(block, heads * head_dim, hidden, bias)
    block.mlp = block.mlp_active = _linear(block, hidden, 2 * ffn, bias) + _linear(block, ffn, hidden, bias)
    norm = hidden if c.get("rmsnorm", True) else 2 * hidden
    block.norms = 2 * norm
    embedding = 2 * vocab * hidden
    total = embedding + layers * block.total + (norm if c.get("post_layer_norm", True) else 0)
    return ModelShape(
        architecture=arch, total=total, active=total, embedding=embedding, layers=layers,
        hidden=hidden, intermediate=ffn, heads=heads, kv_heads=groups, head_dim=head_dim, vocab=vocab,
        kv_per_token=2 * layers * groups * head_dim, context=_get(c, "seq_length"),
        linear_shapes=block.linear,
    ), []


def _mla(c: dict, arch: str) -> tuple[ModelShape, list[str]]:
    """DeepSeek-V2/V3 and MiniCPM3: multi-head latent attention, DeepSeekMoE (shared + routed
    experts) after the first `first_k_dense_replace` dense layers. DeepSeek-V3's multi-token
    prediction module is not counted, as in the published 671B."""
    hidden = _require(c, "hidden_size")
    layers = _require(c, "num_hidden_layers")
    heads = _require(c, "num_attention_heads")
    vocab = _require(c, "vocab_size")
    inter = _require(c, "intermediate_size")
    q_rank = c.get("q_lora_rank")
    kv_rank = _require(c, "kv_lora_rank")
    nope = _require(c, "qk_nope_head_dim")
    rope = _require(c, "qk_rope_head_dim")
    v_dim = _require(c, "v_head_dim")
    experts = int(c.get("n_routed_experts") or 0)
    shared = int(c.get("n_shared_experts") or 0)
    top_k = int(c.get("num_experts_per_tok") or 0)
    moe_width = int(c.get("moe_intermediate_size") or inter)
    first_dense = int(c.get("first_k_dense_replace") or 0)
    freq = int(c.get("moe_layer_freq") or 1)
    score_bias = c.get("topk_method") == "noaux_tc"
    tied = bool(c.get("tie_word_embeddings", False))
    embedding = vocab * hidden * (1 if tied else 2)
    total = active = embedding + hidden
    first: _Block | None = None
    for i in range(layers):
        block = _Block()
        if q_rank:
            block.attention += _linear(block, hidden, q_rank) + q_rank
            block.attention += _linear(block, q_rank, heads * (nope + rope))
        else:
            block.attention += _linear(block, hidden, heads * (nope + rope))
        block.attention += _linear(block, hidden, kv_rank + rope) + kv_rank
        block.attention += _linear(block, kv_rank, heads * (nope + v_dim))
        block.attention += _linear(block, heads * v_dim, hidden)
        block.norms = 2 * hidden
        if experts and i >= first_dense and i % freq == 0:
            router = hidden * experts + (experts if score_bias else 0)
            fixed = router + shared * _expert(hidden, moe_width)
            block.mlp = fixed + experts * _expert(hidden, moe_width)
            block.mlp_active = fixed + top_k * _expert(hidden, moe_width)
        else:
            block.mlp = block.mlp_active = _swiglu(block, hidden, inter)
        total += block.total
        active += block.active
        first = first or block
    notes = ["multi-head latent attention: engines that cache the latent (vLLM, SGLang) need "
             "this KV cache; transformers expands it to full keys and values."]
    return ModelShape(
        architecture=arch, total=total, active=active, embedding=embedding, layers=layers,
        hidden=hidden, intermediate=(top_k + shared) * moe_width if experts else inter, heads=heads,
        kv_heads=1, head_dim=kv_rank + rope, vocab=vocab, kv_per_token=layers * (kv_rank + rope),
        context=c.get("max_position_embeddings"), linear_shapes=first.linear, experts=experts,
        experts_per_token=top_k,
    ), notes


# Per-family facts the config does not state: biases, norms per block, tied embeddings.
_FAMILY_FLAGS: dict[str, dict] = {
    "llama": {}, "mistral": {}, "mixtral": {}, "internlm3": {}, "minicpm": {}, "phi3": {},
    "qwen2": {"qkv_bias": True}, "qwen2_moe": {"qkv_bias": True},
    "qwen3": {"qk_norm": True}, "qwen3_moe": {"qk_norm": True},
    "gemma": {"tied": True}, "gemma2": {"tied": True, "norms": 4},
    "gemma3_text": {"tied": True, "norms": 4, "qk_norm": True},
    "glm": {"qkv_bias": True}, "glm4": {"qkv_bias": True, "norms": 4},
    "olmo2": {"norms": 2, "qk_norm": False}, "granite": {}, "cohere": {}, "starcoder2": {},
    "deepseek": {},
}

_COUNTERS: dict[str, Callable[[dict, str], tuple[ModelShape, list[str]]]] = {
    **{name: _standard for name in _FAMILY_FLAGS},
    "internlm2": _internlm2,
    "chatglm": _chatglm,
    "deepseek_v2": _mla, "deepseek_v3": _mla, "minicpm3": _mla, "kimi_k2": _mla,
}

KNOWN_ARCHITECTURES = sorted(_COUNTERS)


def text_config(config: dict) -> dict:
    """Multimodal configs (Gemma 3 4B+, Llama 4, Qwen2.5-VL) nest the language model's config."""
    inner = config.get("text_config")
    if isinstance(inner, dict) and "hidden_size" in inner:
        merged = {**inner}
        merged.setdefault("model_type", config.get("model_type"))
        merged.setdefault("tie_word_embeddings", config.get("tie_word_embeddings"))
        if merged.get("model_type") == "gemma3":
            merged["model_type"] = "gemma3_text"
        return merged
    return config


def count_parameters(config: dict) -> ModelShape:
    """Return the parameter count and shape for a Hugging Face `config.json` (as a dict)."""
    config = text_config(config)
    arch = str(config.get("model_type") or "").lower()
    counter = _COUNTERS.get(arch)
    shape, notes = (counter or _standard)(config, arch or "unknown")
    from dataclasses import replace

    return replace(shape, notes=tuple(dict.fromkeys(notes)))


def count_on_meta_device(folder: str) -> int:
    """Build the model on the meta device (no memory for weights) and count its parameters.

    Needs torch and transformers; used only for architectures the formulas do not know.
    `torch.device("meta")` rather than accelerate's `init_empty_weights`: with transformers 5 the
    latter leaves tied embeddings untied, counting GPT-2's 38.6M-parameter head twice.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def parse_size(text: str) -> int:
    """'7b', '0.5B', '135m', '1.5e9', '7000000000' -> a parameter count."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
    try:
        if raw and raw[-1] in scale:
            value = float(raw[:-1]) * scale[raw[-1]]
        else:
            value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise ConfigError(
            "--params", f"'{text}' is not a model size.",
            "Write the number of parameters like 7b, 1.5b, 135m or 7000000000.",
        )
    return int(round(value))
