"""`llmp estimate` and the parameter counter: exact counts for real models' configs, sizes a user
can check by hand (fp16 = 2 bytes, fp32 = 4), every kind of MODEL input, and clear errors."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from llm_practice.catalog.memory import estimate_memory, lookup, make_options
from llm_practice.catalog.params import count_parameters
from llm_practice.errors import ConfigError

from .conftest import run_llmp

CONFIGS = Path(__file__).parent / "fixtures" / "configs"


def config(name: str) -> dict:
    return json.loads((CONFIGS / f"{name}.json").read_text())


# Published totals (model cards / the safetensors "Safetensors: N params" figure).
PUBLISHED = {
    "Qwen2.5-7B-Instruct": 7_615_616_512,
    "Qwen2.5-0.5B-Instruct": 494_032_768,
    "Llama-3.1-8B-Instruct": 8_030_261_248,
    "Llama-3.2-1B-Instruct": 1_235_814_400,
    "SmolLM2-135M-Instruct": 134_515_008,
    "Mixtral-8x7B-Instruct-v0.1": 46_702_792_704,
    "Mistral-7B-v0.1": 7_241_732_096,
    "Qwen3-8B": 8_190_735_360,
    "gemma-3-270m": 268_098_176,
}
# Published to two or three significant figures only.
ROUNDED = {
    "chatglm3-6b": 6.24e9, "internlm2-chat-7b": 7.74e9, "glm-4-9b-chat": 9.40e9,
    "Qwen1.5-7B-Chat": 7.72e9, "Qwen3-30B-A3B": 30.5e9, "DeepSeek-V2-Lite-Chat": 15.7e9,
    "DeepSeek-R1-Distill-Qwen-1.5B": 1.78e9,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_exact_parameter_counts(name):
    assert count_parameters(config(name)).total == PUBLISHED[name]


@pytest.mark.parametrize("name", sorted(ROUNDED))
def test_rounded_parameter_counts(name):
    total = count_parameters(config(name)).total
    assert round(total / 1e9, 2 if total < 10e9 else 1) == pytest.approx(ROUNDED[name] / 1e9)


def test_moe_active_parameters():
    mixtral = count_parameters(config("Mixtral-8x7B-Instruct-v0.1"))
    assert round(mixtral.active / 1e9, 1) == 12.9  # "uses 12.9B parameters per token"
    qwen3 = count_parameters(config("Qwen3-30B-A3B"))
    assert 3.3e9 <= qwen3.active < 3.4e9  # "3.3B activated", the "A3B" in the name


def test_weight_bytes_teach_fp16_as_half_precision():
    shape = count_parameters(config("Qwen2.5-7B-Instruct"))
    rows = estimate_memory(shape, make_options(context=4096))
    fp32, half = lookup(rows, "infer", "fp32"), lookup(rows, "infer", "bf16")
    assert fp32.weights == 4 * 7_615_616_512  # single precision: 4 bytes
    assert half.weights == 2 * 7_615_616_512  # half precision: 2 bytes, about 15.2 GB
    assert round(half.weights / 1e9, 1) == 15.2
    assert lookup(rows, "infer", "int4").weights < lookup(rows, "infer", "int8").weights < half.weights
    assert make_options(dtype="fp16").dtype == make_options(dtype="bf16").dtype == "bf16"


def test_kv_cache_formula():
    shape = count_parameters(config("Llama-3.1-8B-Instruct"))
    rows = estimate_memory(shape, make_options(context=8192, batch=2, dtype="bf16"))
    # 2 (K and V) x 32 layers x 8 kv heads x 128 dims x 2 bytes = 128 KiB per token
    assert lookup(rows, "infer", "bf16").kv_cache == 2 * 8192 * 2 * 32 * 8 * 128 * 2


def test_training_methods_order_and_rule_of_thumb():
    shape = count_parameters(config("Qwen2.5-7B-Instruct"))
    rows = estimate_memory(shape, make_options(context=512, grad_checkpointing=True))
    full, lora = lookup(rows, "full", "bf16"), lookup(rows, "lora", "bf16")
    qlora = lookup(rows, "qlora", "int4")
    # weights + gradients + AdamW with fp32 master weights: 16 bytes a parameter (ZeRO paper)
    assert full.weights + full.gradients + full.optimizer == 16 * shape.total
    assert lora.trainable == 20_185_088  # rank 8 on q,k,v,o,gate,up,down of 28 blocks
    # LLaMA-Factory's published 7B figures: full (16-bit) ~120 GB, LoRA ~16 GB, QLoRA-4 ~6 GB
    assert 110e9 < full.total < 140e9
    assert 14e9 < lora.total < 20e9
    assert 5e9 < qlora.total < 10e9
    assert qlora.total < lora.total < lookup(rows, "freeze", "bf16").total < full.total


def test_zero_and_offload_shard_training_state():
    shape = count_parameters(config("Llama-3.1-8B-Instruct"))
    one = lookup(estimate_memory(shape, make_options(mode="full", dtype="bf16")), "full", "bf16")
    z3 = lookup(estimate_memory(shape, make_options(mode="full", dtype="bf16", gpus=8, zero=3)), "full", "bf16")
    assert z3.weights == pytest.approx(one.weights / 8)
    assert z3.optimizer == pytest.approx(one.optimizer / 8)
    off = lookup(estimate_memory(shape, make_options(mode="full", dtype="bf16", gpus=8, zero=2,
                                                     offload=True)), "full", "bf16")
    assert off.optimizer == 0 and off.offloaded == pytest.approx(one.optimizer / 8)


def test_bad_options_name_the_flag():
    with pytest.raises(ConfigError, match="--dtype"):
        make_options(dtype="fp12")
    with pytest.raises(ConfigError, match="--zero"):
        make_options(zero=3)
    with pytest.raises(ConfigError, match="--context"):
        make_options(context=0)


def write_safetensors(path: Path, tensors: dict[str, list[int]]) -> None:
    """A real safetensors file (header + zero bytes) with the given tensor shapes, in bf16."""
    header, offset = {}, 0
    for name, dims in tensors.items():
        n = 1
        for d in dims:
            n *= d
        header[name] = {"dtype": "BF16", "shape": dims, "data_offsets": [offset, offset + 2 * n]}
        offset += 2 * n
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob)
        f.truncate(8 + len(blob) + offset)  # sparse: the full size, without writing the zeros


def smollm2_tensors() -> dict[str, list[int]]:
    c = config("SmolLM2-135M-Instruct")
    h, i, kv = c["hidden_size"], c["intermediate_size"], c["num_key_value_heads"] * c["head_dim"]
    tensors = {"model.embed_tokens.weight": [c["vocab_size"], h], "model.norm.weight": [h]}
    for n in range(c["num_hidden_layers"]):
        p = f"model.layers.{n}."
        tensors |= {p + "self_attn.q_proj.weight": [h, h], p + "self_attn.k_proj.weight": [kv, h],
                    p + "self_attn.v_proj.weight": [kv, h], p + "self_attn.o_proj.weight": [h, h],
                    p + "mlp.gate_proj.weight": [i, h], p + "mlp.up_proj.weight": [i, h],
                    p + "mlp.down_proj.weight": [h, i], p + "input_layernorm.weight": [h],
                    p + "post_attention_layernorm.weight": [h]}
    return tensors


def test_estimate_local_folder_counts_from_safetensors_headers(tmp_path):
    folder = tmp_path / "SmolLM2-135M-Instruct"
    folder.mkdir()
    shutil.copy(CONFIGS / "SmolLM2-135M-Instruct.json", folder / "config.json")
    write_safetensors(folder / "model.safetensors", smollm2_tensors())
    result = run_llmp("estimate", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["parameters"] == 134_515_008
    assert data["counted_from"] == "safetensors headers"
    assert data["checkpoint_dtype"] == "bfloat16"
    infer = {r["precision"]: r for r in data["estimates"] if r["mode"] == "infer"}
    assert infer["bf16"]["weights"] == 2 * 134_515_008
    assert "fits for chat" in data["verdict"]


def test_estimate_table_shows_every_method(tmp_path):
    result = run_llmp("estimate", str(CONFIGS / "Qwen2.5-7B-Instruct.json"), env={"COLUMNS": "140"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "7,615,616,512 parameters" in out
    for word in ("fp32", "bf16/fp16", "int8", "int4", "Q4_K_M", "lora", "qlora", "freeze", "full"):
        assert word in out, word
    assert "half precision (2 bytes)" in out
    assert "fits for chat" in out or "too big to chat" in out


def test_estimate_bundled_gguf_by_name():
    result = run_llmp("estimate", "smollm2-135m-instruct", "--json", "--context", "4096")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "registered" and data["gguf_type"] == "Q4_1"
    assert data["parameters"] == 134_515_008 and data["layers"] == 30
    own = next(r for r in data["estimates"] if r["precision"] == "Q4_1")
    from llm_practice.models.bundled import bundled_gguf_path

    assert own["weights"] == bundled_gguf_path().stat().st_size
    assert own["kv_cache"] == 4096 * 2 * 30 * 3 * 64 * 2  # llama.cpp's f16 cache: 90 MiB


def test_estimate_params_and_catalog_name():
    data = json.loads(run_llmp("estimate", "--params", "7b", "--json").stdout)
    assert data["parameters"] == 7_000_000_000 and "assumed like" in data["notes"][0]
    data = json.loads(run_llmp("estimate", "chatglm3-6b", "--json", "--mode", "lora").stdout)
    assert data["kind"] == "catalog" and data["parameters"] == 6_243_584_000
    assert {r["mode"] for r in data["estimates"]} >= {"infer", "lora", "qlora", "full"}


def test_estimate_does_not_import_torch(tmp_path):
    code = (
        "import sys\nfrom llm_practice.cli.main import main\n"
        f"try:\n    main(['estimate', {str(CONFIGS / 'Llama-3.1-8B-Instruct.json')!r}, '--json'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print('HEAVY', [m for m in ('torch', 'transformers', 'huggingface_hub') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--dtype", "fp12", "--params", "7b"], 2, ["--dtype", "fp16"]),
        (["--params", "seven"], 2, ["--params", "7b"]),
        (["--params", "7b", "--zero", "3"], 2, ["--zero", "--gpus"]),
        (["no-such-model"], 3, ["no-such-model", "llmp models list"]),
    ],
)
def test_estimate_errors(args, code, words):
    result = run_llmp("estimate", *args)
    assert result.returncode == code, result.stderr
    for word in words:
        assert word in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_config_names_file_and_line(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text('{\n  "model_type": "llama",\n  "hidden_size": 576,,\n}\n')
    result = run_llmp("estimate", str(folder))
    assert result.returncode == 4
    assert "config.json: line 3" in result.stderr and "Traceback" not in result.stderr


def test_unknown_architecture_is_built_on_the_meta_device(tmp_path):
    folder = tmp_path / "gpt2"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 768, "n_head": 12,
        "n_layer": 12, "n_positions": 1024, "n_ctx": 1024, "vocab_size": 50257,
        "activation_function": "gelu_new", "tie_word_embeddings": True,
    }))
    result = run_llmp("estimate", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["parameters"] == 124_439_808  # GPT-2 small, as published
    assert data["counted_from"] == "meta device (transformers)"


def test_cluster_question_reports_per_gpu_needs():
    result = run_llmp("estimate", "--params", "7b", "--gpus", "8", "--zero", "3", "--dtype", "bf16", "--json")
    data = json.loads(result.stdout)
    full = next(r for r in data["estimates"] if r["mode"] == "full")
    assert full["weights"] == pytest.approx(7e9 * 2 / 8)  # ZeRO-3: each GPU holds 1/8 of the weights
    assert data["options"]["device"] == "gpu"
    if len(data["machine"]["gpus"]) < 8:
        assert data["verdict"].startswith("Per GPU with 8 GPUs")


def test_a_files_real_size_is_its_own_marked_row_not_a_computed_one():
    """A real Q4_K_M file keeps some tensors at higher precision and can outweigh the computed
    Q5_K_M: its row is labelled as this file's, and the computed Q4_K_M row stays computed."""
    shape = count_parameters(config("Qwen2.5-7B-Instruct"))
    computed = lookup(estimate_memory(shape, make_options()), "infer", "Q4_K_M")
    real = computed.weights * 1.3  # bigger than the computed Q5_K_M
    rows = estimate_memory(shape, make_options(), gguf_bytes=real, gguf_type="Q4_K_M")
    own = rows[0]
    assert own.measured and own.precision == "Q4_K_M" and own.weights == real
    others = [r for r in rows if r.mode == "infer" and r.precision == "Q4_K_M" and not r.measured]
    assert len(others) == 1 and others[0].weights == computed.weights
