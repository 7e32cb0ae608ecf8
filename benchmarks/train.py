"""`llmp train` against a plain TRL script: same model, data and settings, in the same run.

    python benchmarks/train.py [--steps 20] [--batch 8]
    python benchmarks/train.py --tiny     # a 2-layer model, 2 steps: checks the script works

Both sides fine-tune the bundled SmolLM2-135M (dequantised once) with LoRA on
examples/data/sft_en.jsonl for the same number of steps, each in a fresh process, one after the
other. Reported: tokens/s (tokens in the batches / train_runtime) and peak RSS (VmHWM) of the
process. Then `llmp train` with `packing=true` (BFD packing, padding-free batches) on the same data.
The plain script is what a TRL user writes: `SFTTrainer` on the conversational `messages`
dataset, loss on every token (SmolLM2's chat template has no `{% generation %}` markers, so TRL's
`assistant_only_loss` cannot be used with it). `llmp train` masks the prompts and, on CPU, makes
TRL's fused LM head score only the trained positions (train/lm_head.py; TRL itself does that only
on Triton devices), so its LM head does less work: that is part of what llmp gives, and the
tokens counted are the same input tokens on both sides. Precision: TRL's default is `bf16=True`,
autocast on CPU too; `llmp train` keeps fp32 on CPU unless told, so the compared llmp runs get the
plain script's own `bf16` value, and one more row shows llmp's fp32 default.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from machine import add_tiny_flag, begin, table, write_section  # noqa: E402
DATA = ROOT / "examples" / "data" / "sft_en.jsonl"

PLAIN = r'''
import json, resource, sys, time
import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer
folder, data, out, steps, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rows = [json.loads(l) for l in open(data)]
ds = Dataset.from_list([{"messages": r["messages"]} for r in rows])
tok = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
args = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=batch, learning_rate=2e-4,
                 max_length=256, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
                 disable_tqdm=True, seed=42, lr_scheduler_type="constant_with_warmup")
peft = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=peft)
res = trainer.train()
tokens = max(h.get("num_tokens", 0) for h in trainer.state.log_history)
print("RESULT", json.dumps({"tokens": tokens, "runtime": res.metrics["train_runtime"], "bf16": args.bf16}))
'''


def peak_rss_mb(proc_status: str) -> float:
    for line in proc_status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(cmd: list[str], env: dict) -> tuple[str, float]:
    """Run a command; return stdout and its peak RSS in MiB (max over the process tree's leader)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, peak_rss_mb(Path(f"/proc/{proc.pid}/status").read_text()))
        except OSError:
            pass
        time.sleep(0.2)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed:\n{err[-3000:]}")
    return out, peak


def tiny_model(out: Path) -> Path:
    """A 2-layer Llama with the bundled tokenizer (as tests/train_helpers.py builds it)."""
    sys.path.insert(0, str(ROOT))
    from tests.train_helpers import build_tiny_model

    return build_tiny_model(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--model", default=None, help="an HF folder instead of the bundled model (e.g. a tiny one)")
    add_tiny_flag(ap)
    a = ap.parse_args()
    begin({"TRL": ["trl", "peft"]}, tiny=a.tiny)
    from llm_practice.chat.hf import dequantized_folder
    from llm_practice.models.registry import get_model

    home = Path(tempfile.mkdtemp(prefix="llmp-bench-train-"))
    if a.tiny:
        a.steps, a.batch = 2, 2
        folder = tiny_model(home / "tiny-llama")
    else:
        folder = Path(a.model) if a.model else dequantized_folder(get_model("smollm2-135m-instruct").path)
    env = {**os.environ, "LLMP_HOME": str(home), "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": str(os.cpu_count())}
    llmp = [sys.executable, "-m", "llm_practice", "train", "run", str(ROOT / "recipes" / "sft-lora-demo.yaml")]
    common = [f"model={folder}", f"data={DATA}", f"max_steps={a.steps}", f"per_device_train_batch_size={a.batch}",
              "max_length=256", "learning_rate=2e-4", "lora_rank=8", "lora_alpha=16", "save_steps=100000",
              "--json"]
    results, failed = {}, {}
    out, peak = run([sys.executable, "-c", PLAIN, str(folder), str(DATA), str(home / "plain"), str(a.steps),
                     str(a.batch)], env)
    r = json.loads(out.split("RESULT", 1)[1])
    results["plain TRL (SFTTrainer, padded)"] = (r["tokens"], r["runtime"], peak)
    same = f"bf16={str(r['bf16']).lower()}"  # the plain script's precision (TRL's default)
    precision = f"{same} (autocast on the fp32 weights) on both sides unless the row says otherwise"
    for name, label, extra in (("padded", f"llmp train (padded) {same}", [same]),
                               ("packing", f"llmp train packing=true {same}", ["packing=true", same]),
                               ("padding-free", f"llmp train padding_free=true {same}", ["padding_free=true", same]),
                               ("fp32", "llmp train (padded), llmp's CPU default bf16=false", ["bf16=false"])):
        try:
            out, peak = run([*llmp, *common, *extra, f"name={name}"], env)
        except SystemExit as e:  # one failed variant is a row saying so, not a lost run
            print(e, file=sys.stderr)
            failed[label] = str(e).strip().splitlines()[-1][:120]
            continue
        info = json.loads(out)
        log = [json.loads(x) for x in (Path(info["run"]) / "metrics.jsonl").read_text().splitlines()]
        tokens = max(x.get("num_tokens", 0) for x in log)
        results[label] = (tokens, info["metrics"]["train_runtime"], peak)
    base_tokens, base_time, base_mem = results["plain TRL (SFTTrainer, padded)"]
    rows = []
    for label, (tokens, runtime, mem) in results.items():
        speed = tokens / runtime
        rows.append([label, f"{tokens:,.0f}", f"{runtime:.1f}", f"{speed:,.0f}", f"{speed / (base_tokens / base_time):.2f}x",
                     f"{mem:,.0f}", f"{mem / base_mem:.2f}x"])
    rows += [[label, "failed", "", "", "", "", ""] for label in failed]
    body = (f"{a.steps} steps x batch {a.batch}, LoRA r8 on all linear layers, max_length 256, "
            f"{folder.name} fp32 weights, {precision}, examples/data/sft_en.jsonl, each run a fresh process "
            "one after the other. "
            "tokens: non-padding tokens trained (TRL's num_tokens); tokens/s = tokens / train_runtime; "
            "peak RSS = the process's VmHWM. Packing and padding-free put more real tokens in each step, "
            "so their tokens/s is the number to compare.\n\n")
    body += table(["run", "tokens", "train s", "tokens/s", "vs plain TRL", "peak RSS MiB", "vs plain TRL"], rows)
    body += "".join(f"\n- {label} failed: `{why}`\n" for label, why in failed.items())
    print(body)
    write_section("train", body, libraries=["torch", "transformers", "trl", "peft"])


if __name__ == "__main__":
    main()
