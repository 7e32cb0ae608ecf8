"""Benchmark `llmp eval` against lm-evaluation-harness, and time `llmp export`.

1. The same multiple-choice task (the bilingual fixture benchmark in examples/mcq, val split,
   zero-shot and 3-shot, option letters scored by log-likelihood) and the same model (the bundled
   SmolLM2-135M-Instruct, its GGUF dequantised to fp32 safetensors) through `llmp eval` and
   through lm-evaluation-harness (`lm_eval --model hf`), each in a fresh process, same run, same
   thread count, alternating, `--repeat` rounds (median reported: the machine is shared). The
   harness reads a local task file written here (description, question, options and answer cue
   identical to ours; `dataset_path: csv` on the local files), so no hub is contacted. Targets:
   accuracy within 0.5 points, >= 2x faster. Per-question predictions are compared too.
2. `llmp export` of a LoRA run on the bundled model with --merge --gguf q8_0: seconds per stage
   and the peak RSS of the export process tree.

    python benchmarks/eval.py [--threads 1] [--repeat 3]
    python benchmarks/eval.py --tiny   # a 2-layer model from a config, 3-shot, 1 question per subject
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))
from machine import add_tiny_flag, begin, table, write_section  # noqa: E402

BIN = Path(sys.executable).parent
MCQ = ROOT / "examples" / "mcq"
PEERS = {"lm-evaluation-harness": ["lm_eval"]}
LIBRARIES = ["torch", "transformers", "lm-eval"]


def tiny_model(folder: Path, like: Path) -> Path:
    """A 2-layer Llama from a config with the bundled model's tokenizer (llama.cpp converts it)."""
    from llm_practice.models.tiny import tiny_llama

    return tiny_llama(folder, like)


WRAP = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
        "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
        "sys.exit(code)")


def run(cmd: list[str], env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS (MiB) of the process tree (a fresh wrapper per command), the process."""
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", WRAP, rss.name, *cmd], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        return seconds, int(Path(rss.name).read_text()) / 1024, proc


def lm_eval_tasks(folder: Path, shots: int) -> list[str]:
    """One lm-eval task per subject, the prompt identical to llmp's (see evaluate/mcq.py): few-shot
    examples are the first `shots` rows of the subject's dev file, in order (sampler first_n)."""
    from llm_practice.evaluate.mcq import ANSWER_CUE, HEADERS, LETTER_SEP, McqConfig, _lang, load_benchmark

    _, questions, dev = load_benchmark(MCQ, McqConfig(shots=shots))
    names = []
    for subject, qs in questions.items():
        lang = _lang(qs, "auto")
        name = f"llmp_fixture_{subject}"
        header = HEADERS[lang].format(subject=subject.replace("_", " "))
        text = "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n" + ANSWER_CUE[lang]
        files = {"validation": str(qs[0].path)} | ({"dev": str(dev[subject][0].path)} if shots else {})
        task = {
            "task": name,
            "dataset_path": "csv",
            "dataset_kwargs": {"data_files": files},
            "validation_split": "validation",
            "output_type": "multiple_choice",
            "description": header,
            "doc_to_text": text,
            "doc_to_choice": ["A", "B", "C", "D"],
            "doc_to_target": "{{['A', 'B', 'C', 'D'].index(answer)}}",
            "target_delimiter": LETTER_SEP[lang],
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        }
        if shots:
            task |= {"fewshot_split": "dev", "num_fewshot": shots, "fewshot_delimiter": "\n\n",
                     "fewshot_config": {"sampler": "first_n"}}
        (folder / f"{name}.yaml").write_text(json.dumps(task, ensure_ascii=False, indent=1), encoding="utf-8")
        names.append(name)
    return names


def bench_mcq(folder: Path, shots: int, threads: int, env: dict, work: Path, repeat: int, limit: int | None
              ) -> tuple[list[list], dict]:
    from llm_practice.evaluate.mcq import McqConfig, _lang, build_prompt, load_benchmark

    tasks_dir = work / f"lm_eval_tasks_{shots}"
    tasks_dir.mkdir()
    names = lm_eval_tasks(tasks_dir, shots)
    few = ["--limit", str(limit)] if limit else []
    ours_cmd = [str(BIN / "llmp"), "eval", str(folder), "--task", "mcq", "--data", str(MCQ), "--json",
                "--no-cache", "--threads", str(threads), "--shots", str(shots), *few]
    seconds: dict[str, list[float]] = {"ours": [], "theirs": []}
    peaks: dict[str, list[float]] = {"ours": [], "theirs": []}
    for k in range(repeat):  # alternating, so background load hits both alike
        s1, m1, proc = run(ours_cmd, env)
        ours = json.loads(proc.stdout)
        out = work / f"lm_eval_out_{shots}_{k}"
        s2, m2, _ = run([sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
                         f"pretrained={folder},dtype=float32", "--tasks", ",".join(names), "--include_path",
                         str(tasks_dir), "--device", "cpu", "--batch_size", "8", "--output_path", str(out),
                         "--log_samples", *few], env)
        seconds["ours"].append(s1), seconds["theirs"].append(s2)
        peaks["ours"].append(m1), peaks["theirs"].append(m2)
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"]
    _, questions, dev = load_benchmark(MCQ, McqConfig(shots=shots, limit=limit))
    theirs_correct, n, agree, same_prompt = 0, 0, 0, 0
    ours_items = {i["id"]: i["correct"] for i in ours["items"]}
    for name in names:
        subject = name.removeprefix("llmp_fixture_")
        lang = _lang(questions[subject], "auto")
        samples = [json.loads(line) for f in out.rglob(f"samples_{name}_*.jsonl") for line in f.read_text().splitlines()]
        samples.sort(key=lambda s: s["doc_id"])
        for q, sample in zip(questions[subject], samples):
            correct = bool(sample["acc"])
            theirs_correct += correct
            n += 1
            agree += ours_items[q.id] == correct
            same_prompt += sample["arguments"]["gen_args_0"]["arg_0"] == build_prompt(q, dev.get(subject, []), lang)
        assert abs(results[name]["acc,none"] * len(samples) - sum(s["acc"] for s in samples)) < 1e-6
    acc_ours, acc_theirs = 100 * ours["metrics"]["acc"], 100 * theirs_correct / n
    s1, s2 = statistics.median(seconds["ours"]), statistics.median(seconds["theirs"])
    spread = {who: " / ".join(f"{x:.1f}" for x in xs) for who, xs in seconds.items()}
    rows = [[f"{shots}-shot", "llmp eval", f"{acc_ours:.1f}", ours["metrics"]["n"], f"{s1:.1f}", spread["ours"],
             f"{max(peaks['ours']):.0f}", f"**{s2 / s1:.2f}x**"],
            [f"{shots}-shot", "lm-evaluation-harness (hf, batch 8)", f"{acc_theirs:.1f}", n, f"{s2:.1f}",
             spread["theirs"], f"{max(peaks['theirs']):.0f}", ""]]
    return rows, {"shots": shots, "diff": abs(acc_ours - acc_theirs), "speedup": s2 / s1, "agree": agree,
                  "n": n, "same_prompt": same_prompt}


def bench_export(folder: Path, label: str, env: dict) -> list[list]:
    from tests.runs import make_lora_run

    home = Path(env["LLMP_HOME"])
    make_lora_run(home, folder, "bench-lora")
    seconds, peak, proc = run([str(BIN / "llmp"), "export", "bench-lora", "--merge", "--gguf", "q8_0", "--json"], env)
    result = json.loads(proc.stdout)
    size = Path(result["outputs"]["gguf"]).stat().st_size / 2**20
    return [[f"merge + GGUF q8_0 ({label}, LoRA r=16)", f"{result['seconds'].get('merge', 0):.1f}",
             f"{result['seconds'].get('gguf', 0):.1f}", f"{seconds:.1f}", f"{peak:.0f}", f"{size:.0f}"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of both tools (median reported)")
    add_tiny_flag(parser)
    args = parser.parse_args()
    if args.tiny:
        args.repeat = 1
    begin(PEERS, tiny=args.tiny)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "LLMP_HOME": str(work / "home"), "LLMP_THREADS": str(args.threads),
               "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "HF_HOME": str(work / "hf"), "TOKENIZERS_PARALLELISM": "false"}
        os.environ.update({k: env[k] for k in ("LLMP_HOME", "HF_HUB_OFFLINE")})
        from llm_practice.evaluate.target import resolve_model
        from llm_practice.settings import get_settings

        get_settings.cache_clear()
        folder = resolve_model("smollm2-135m-instruct").hf_folder()  # dequantised once, outside the timing
        if args.tiny:
            folder = tiny_model(work / "tiny-llama", folder)
        limit = 1 if args.tiny else None
        mcq_rows, summaries = [], []
        for shots in (3,) if args.tiny else (0, 3):  # tiny: the few-shot path, the longer one
            rows, summary = bench_mcq(folder, shots, args.threads, env, work, args.repeat, limit)
            mcq_rows += rows
            summaries.append(summary)
        export_rows = bench_export(folder, "tiny" if args.tiny else "135M", env)
    what = ("a 2-layer Llama built from a config (`--tiny`, 1 question per subject)" if args.tiny
            else "the bundled SmolLM2-135M-Instruct (GGUF dequantised to fp32)")
    checks = "; ".join(
        f"{s['shots']}-shot: accuracy differs by {s['diff']:.1f} points, predictions agree on {s['agree']}/{s['n']}, "
        f"prompts identical on {s['same_prompt']}/{s['n']}, `llmp eval` **{s['speedup']:.2f}x** the harness's speed"
        for s in summaries)
    body = (
        "The bilingual fixture benchmark (`examples/mcq`, val split, 4 subjects, option letters scored by "
        f"log-likelihood; zero-shot, and 3-shot with each subject's dev examples) on {what}, "
        "through `llmp eval` and through lm-evaluation-harness with a local task file (same prompt, checked "
        "string for string against the harness's logged requests), each a fresh process including imports "
        f"and model load, {args.threads} thread(s), {args.repeat} alternating round(s), median seconds "
        "(every round's in the next column). `llmp eval` runs the prompt opening its questions share (the "
        "header and few-shot examples) once per subject and keeps its keys and values; the harness runs "
        "each prompt whole (one forward pass per question, the letters read from it).\n\n"
        + table(["shots", "tool", "accuracy %", "questions", "seconds", "rounds s", "peak RSS MiB", "speed-up"],
                mcq_rows)
        + f"\n{checks} (targets: accuracy within 0.5 points, >= 2x).\n\n"
        "`llmp export` of a LoRA run (r=16, all linear layers) on the same model, `--merge --gguf q8_0`, "
        "one process (the converter runs as its child):\n\n"
        + table(["export", "merge s", "gguf s", "total s", "peak RSS MiB", "GGUF MiB"], export_rows)
    )
    write_section("eval", body, LIBRARIES)
    print(body)


if __name__ == "__main__":
    main()
