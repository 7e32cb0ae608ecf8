"""Training run folders in the run-folder contract, made directly with PEFT for eval/export tests.

`make_lora_run` writes `LLMP_HOME/runs/<name>/` (run.json, recipe.yaml, final/ with the adapter
and tokenizer) on top of an HF base folder; with `fact` it first teaches the adapter one
question/answer pair with a few dozen plain PEFT steps.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path


def make_lora_run(home: Path, base: Path, name: str, *, fact: tuple[str, str] | None = None,
                  steps: int = 30, seed: int = 0, status: str = "finished", random_init: bool = False) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # the test machine is shared: one thread is steadier than two
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                        init_lora_weights=not random_init)
    model = get_peft_model(model, config)
    losses = []
    if fact is not None:
        question, answer = fact
        messages = [{"role": "user", "content": question}]
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        full = prompt + answer + "<|im_end|>\n"
        ids = tokenizer(full, add_special_tokens=False, return_tensors="pt").input_ids
        n_prompt = len(tokenizer(prompt, add_special_tokens=False).input_ids)
        labels = ids.clone()
        labels[:, :n_prompt] = -100
        optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
        model.train()
        for _ in range(steps):
            loss = model(input_ids=ids, labels=labels).loss
            loss.backward()
            optim.step()
            optim.zero_grad()
            losses.append(loss.item())
        model.eval()
    folder = home / "runs" / name
    final = folder / "final"
    final.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    (folder / "recipe.yaml").write_text(f"stage: sft\nmodel: {base}\nfinetuning: lora\n", encoding="utf-8")
    (folder / "metrics.jsonl").write_text("".join(json.dumps({"step": i + 1, "loss": v}) + "\n"
                                                  for i, v in enumerate(losses)), encoding="utf-8")
    (folder / "run.json").write_text(json.dumps({
        "name": name, "stage": "sft", "status": status, "base_model": "smollm2-135m-instruct",
        "base_path": str(base), "finetuning": "lora", "kind": "adapter", "steps": len(losses),
        "metrics": {"final_loss": losses[-1] if losses else None},
        "created": datetime.now(timezone.utc).isoformat()}), encoding="utf-8")
    return folder
