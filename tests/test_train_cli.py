"""`llmp train` as a user runs it: messages and exit codes, kill -9 + --resume, Ctrl-C, 2-process DDP, ppo.

Every run trains a tiny Llama built from a config (the bundled model's real tokenizer), so each
command spends its time starting up, not training.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import BIN, run_llmp
from .train_helpers import DATA, assert_trained, build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama")


def recipe(tmp_path, tiny, name="r", **keys):
    body = {"stage": "sft", "model": str(tiny), "data": str(DATA / "sft_en.jsonl"), "finetuning": "full",
            "max_length": 64, "per_device_train_batch_size": 2, **keys}
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in body.items()) + "\n")
    return path


def test_cli_errors_are_clear(tmp_path, tiny):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: sft\ndata: x.jsonl\nepochs: 3\n")
    res = run_llmp("train", str(bad), "--dry-run")
    assert res.returncode == 2 and f"{bad}:3: epochs" in res.stderr and "num_train_epochs" in res.stderr
    assert "Traceback" not in res.stderr
    res = run_llmp("train", str(recipe(tmp_path, tiny, data=str(DATA / "rl_en.jsonl"), stage="rm")), "--dry-run")
    assert res.returncode == 4 and "rl_en.jsonl:1" in res.stderr
    res = run_llmp("train", str(recipe(tmp_path, tiny)), "bf16=maybe", "--dry-run")  # TRL would take it as true
    assert res.returncode == 2 and "bf16: expects true or false" in res.stderr and "'maybe'" in res.stderr
    res = run_llmp("train", str(recipe(tmp_path, tiny)), "finetuning=qlora", "--dry-run")
    assert res.returncode == 5 and "QLoRA needs a CUDA GPU" in res.stderr
    res = run_llmp("train", str(recipe(tmp_path, tiny)), "--dry-run")
    assert res.returncode == 0 and "dry run: no weights loaded" in res.stdout and "records" in res.stdout
    res = run_llmp("train", "show", "nothing-here")
    assert res.returncode == 2 and "no run named 'nothing-here'" in res.stderr


def test_kill_9_then_resume_ends_like_an_uninterrupted_run(tmp_path, tiny, llmp_home):
    from llm_practice.train import load_recipe, plan_run, train

    keys = dict(max_steps=12, save_steps=3, logging_steps=1, learning_rate=1e-3)
    expected = train(plan_run(load_recipe(recipe(tmp_path, tiny, "straight", **keys))))["final_loss"]

    path = recipe(tmp_path, tiny, "killed", **keys)
    run = llmp_home / "runs" / "killed"
    proc = subprocess.Popen([str(BIN / "llmp"), "train", str(path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=os.environ.copy())
    deadline = time.time() + 240
    while not (run / "checkpoints" / "checkpoint-3" / "trainer_state.json").is_file():
        assert proc.poll() is None and time.time() < deadline, "no checkpoint before the run ended"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "running" and not (run / "final").exists()  # killed mid-run
    again = run_llmp("train", str(path))
    assert again.returncode == 9 and "--resume" in again.stderr  # never clobbers the killed run
    resumed = run_llmp("train", str(path), "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    got = json.loads(resumed.stdout)
    assert got["status"] == "finished" and got["steps"] == 12
    assert math.isclose(got["metrics"]["final_loss"], expected, rel_tol=1e-3, abs_tol=1e-4)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps[-1] == 12 and set(range(1, 13)) <= set(steps)


def test_ctrl_c_saves_a_checkpoint_and_stops(tmp_path, tiny, llmp_home):
    path = recipe(tmp_path, tiny, "interrupted", max_steps=400, save_steps=1000)
    run = llmp_home / "runs" / "interrupted"
    proc = subprocess.Popen([str(BIN / "llmp"), "train", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    deadline = time.time() + 240
    while not (run / "metrics.jsonl").is_file():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "training stopped at step" in err and "--resume" in err and "Traceback" not in err
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "stopped" and 0 < info["steps"] < 400
    assert (run / "checkpoints" / f"checkpoint-{info['steps']}" / "trainer_state.json").is_file()
    listing = run_llmp("train", "list")
    assert "interrupted" in listing.stdout and "stopped" in listing.stdout


def test_two_process_ddp_on_cpu(tmp_path, tiny, llmp_home):
    path = recipe(tmp_path, tiny, "ddp", max_steps=2, save_steps=2)
    res = run_llmp("train", str(path), "--nproc", "2", timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    run = llmp_home / "runs" / "ddp"
    info = assert_trained(run, tiny)
    assert info["steps"] == 2
    state = json.loads((run / "checkpoints" / "checkpoint-2" / "trainer_state.json").read_text())
    # 2 processes x 2 per device: each optimizer step saw 4 examples
    assert state["train_batch_size"] == 2 and (run / "final" / "model.safetensors").is_file()


def test_ppo_runs_on_trl_1_12_with_a_reward_model_run(tmp_path, tiny, llmp_home):
    rm = run_llmp("train", str(recipe(tmp_path, tiny, "rm-tiny", stage="rm", data=str(DATA / "rm_en.jsonl"),
                                      max_steps=2)))
    assert rm.returncode == 0, rm.stderr[-2000:]
    ppo = recipe(tmp_path, tiny, "ppo-tiny", stage="ppo", data=str(DATA / "rl_en.jsonl"), max_steps=2,
                 reward_model="runs/rm-tiny", response_length=8)
    res = run_llmp("train", str(ppo))
    assert res.returncode == 0, res.stderr[-3000:]
    assert_trained(llmp_home / "runs" / "ppo-tiny", tiny)
    shown = run_llmp("train", "show", "ppo-tiny")
    assert "finished" in shown.stdout and "llmp chat" in shown.stdout
    chat = run_llmp("chat", "runs/rm-tiny", "--once", "hi")
    assert chat.returncode != 0 and "reward model" in chat.stderr
