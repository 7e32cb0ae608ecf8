"""Packed / padding-free batches attend within each document; a recipe's `bf16` is honoured on CPU."""

from __future__ import annotations

import json
import math

import pytest

from llm_practice.train import load_recipe, plan_run, train

from .train_helpers import DATA, build_tiny_model


def llama_in_memory():
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, attn_implementation="sdpa")
    return LlamaForCausalLM(cfg).eval()


def test_flattened_documents_see_only_themselves():
    """Three documents in one row (TRL's packed layout) give each the logits it gets alone."""
    import torch

    from llm_practice.train.attention import use_document_attention

    model = llama_in_memory()
    docs = [torch.randint(0, 64, (n,)) for n in (5, 9, 3)]
    alone = [model(input_ids=d[None]).logits[0] for d in docs]
    assert use_document_attention(model) and model.config._attn_implementation == "llmp_sdpa_varlen"
    cu = torch.tensor([0, 5, 14, 17], dtype=torch.int32)
    packed = model(input_ids=torch.cat(docs)[None], position_ids=torch.cat([torch.arange(len(d)) for d in docs])[None],
                   cu_seq_lens_q=cu, cu_seq_lens_k=cu, max_length_q=9, max_length_k=9).logits[0]
    torch.testing.assert_close(packed, torch.cat(alone), rtol=1e-4, atol=1e-5)
    # an ordinary padded batch still goes through SDPA with its mask
    batch = torch.stack([docs[1], torch.cat([docs[0], torch.zeros(4, dtype=torch.long)])])
    mask = torch.tensor([[1] * 9, [1] * 5 + [0] * 4])
    torch.testing.assert_close(model(input_ids=batch, attention_mask=mask).logits[1, :5], alone[0], rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama")


def test_packed_sft_run_trains(tiny, llmp_home):
    metrics = train(plan_run(load_recipe(None, ["stage=sft", f"data={DATA / 'sft_en.jsonl'}", f"model={tiny}",
                                                "max_steps=2", "packing=true", "per_device_train_batch_size=2",
                                                "max_length=256", "name=packed"])))
    rows = [json.loads(x) for x in (llmp_home / "runs" / "packed" / "metrics.jsonl").read_text().splitlines()]
    assert math.isfinite(metrics["final_loss"])
    assert max(r.get("num_tokens", 0) for r in rows) > 2 * 2 * 48  # rows hold several conversations


def test_cpu_precision_is_fp32_unless_the_recipe_asks_for_bf16(tiny):
    """TRL autocasts to bf16 by default; on CPU llmp keeps fp32 unless `bf16: true` (which must win)."""
    import torch
    from trl import SFTConfig

    from llm_practice.train.session import RunContext

    if torch.cuda.is_available():
        pytest.skip("a CPU-only rule: with CUDA, TRL's own bf16 default applies (this test runs on every CPU machine, CI included)")

    def bf16(*overrides):
        plan = plan_run(load_recipe(None, ["stage=sft", f"data={DATA / 'sft_en.jsonl'}", f"model={tiny}", *overrides]),
                        check_folder=False)
        return RunContext(plan).trl_args(SFTConfig).bf16

    assert bf16() is False and bf16("bf16=false") is False
    assert bf16("bf16=true") is True and bf16("bf16=true", "dtype=float32") is True


def test_cpu_lm_head_scores_only_trained_positions_with_the_same_loss_and_gradients():
    """compact_cpu_lm_head: TRL's fused head skips masked positions on CPU; loss and grads unchanged."""
    import torch
    import trl.trainer.utils as trl_utils
    from trl.trainer.utils import add_fused_lm_head

    from llm_practice.train.lm_head import CPU_TILE_COLUMNS, compact_cpu_lm_head

    model = llama_in_memory().train()
    ids = torch.randint(0, 64, (2, 12))
    labels = ids.clone()
    labels[:, :5] = -100  # a prompt
    labels[1, 9:] = -100  # padding
    logits = model(input_ids=ids).logits[:, :-1]
    reference = torch.nn.functional.cross_entropy(logits.reshape(-1, 64), labels[:, 1:].reshape(-1))
    reference.backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    assert compact_cpu_lm_head() and compact_cpu_lm_head()  # idempotent
    assert trl_utils._use_triton(torch.device("cpu")) and trl_utils._CHUNKED_LOGPROB_CHUNK_SIZE == CPU_TILE_COLUMNS
    add_fused_lm_head(model)
    out = model(input_ids=ids, labels=labels, fused_lm_head=True)
    assert int(out.label_mask.sum()) == 7 + 4
    torch.testing.assert_close(out.loss, reference)
    out.loss.backward()
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.grad, expected[name], rtol=1e-4, atol=1e-6, msg=name)
