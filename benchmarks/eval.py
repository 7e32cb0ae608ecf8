"""Benchmark `llmp eval` against lm-evaluation-harness, and time `llmp export`.

1. The same multiple-choice task (the bilingual fixture benchmark in examples/mcq, val split,
   zero-shot, option letters scored by log-likelihood) and the same model (the bundled
   SmolLM2-135M-Instruct, its GGUF dequantised to fp32 safetensors) through `llmp eval` and
   through lm-evaluation-harness (`lm_eval --model hf`), each in a fresh process, same run, same
   thread count. The harness reads a local task file written here (description, question,
   options and answer cue identical to ours; `dataset_path: csv` on the local files), so no hub is
   contacted. Targets: accuracy within 0.5 points, >= 2x faster. Per-question predictions are
   compared too.
2. `llmp export` of a LoRA run on the bundled model with --merge --gguf q8_0: seconds per stage
   and the peak RSS of the export process tree.

    python benchmarks/eval.py [--threads 1] [--repeat 1]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))
from _report import table, write_section  # noqa: E402

BIN = Path(sys.executable).parent
MCQ = ROOT / "examples" / "mcq"


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


def lm_eval_tasks(folder: Path) -> list[str]:
    """One lm-eval task per subject, the prompt identical to llmp's (see evaluate/mcq.py)."""
    from llm_practice.evaluate.mcq import ANSWER_CUE, HEADERS, LETTER_SEP, McqConfig, _lang, load_benchmark

    _, questions, _ = load_benchmark(MCQ, McqConfig())
    names = []
    for subject, qs in questions.items():
        lang = _lang(qs, "auto")
        name = f"llmp_fixture_{subject}"
        header = HEADERS[lang].format(subject=subject.replace("_", " "))
        text = "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n" + ANSWER_CUE[lang]
        task = {
            "task": name,
            "dataset_path": "csv",
            "dataset_kwargs": {"data_files": {"validation": str(qs[0].path)}},
            "validation_split": "validation",
            "output_type": "multiple_choice",
            "description": header,
            "doc_to_text": text,
            "doc_to_choice": ["A", "B", "C", "D"],
            "doc_to_target": "{{['A', 'B', 'C', 'D'].index(answer)}}",
            "target_delimiter": LETTER_SEP[lang],
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        }
        (folder / f"{name}.yaml").write_text(json.dumps(task, ensure_ascii=False, indent=1), encoding="utf-8")
        names.append(name)
    return names


def bench_mcq(threads: int, env: dict, work: Path) -> tuple[list[list], dict]:
    from llm_practice.evaluate.target import resolve_model

    folder = resolve_model("smollm2-135m-instruct").hf_folder()  # dequantised once, outside the timing
    s1, m1, ours = run([str(BIN / "llmp"), "eval", "smollm2-135m-instruct", "--task", "mcq", "--data", str(MCQ),
                        "--json", "--no-cache", "--threads", str(threads)], env)
    ours = json.loads(ours.stdout)
    tasks_dir = work / "lm_eval_tasks"
    tasks_dir.mkdir()
    names = lm_eval_tasks(tasks_dir)
    out = work / "lm_eval_out"
    s2, m2, _ = run([sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
                     f"pretrained={folder},dtype=float32", "--tasks", ",".join(names), "--include_path",
                     str(tasks_dir), "--device", "cpu", "--batch_size", "8", "--output_path", str(out),
                     "--log_samples"], env)
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"]
    theirs_correct, n, agree = 0, 0, 0
    ours_items = {i["id"]: i["correct"] for i in ours["items"]}
    for name in names:
        subject = name.removeprefix("llmp_fixture_")
        samples = [json.loads(line) for f in out.rglob(f"samples_{name}_*.jsonl") for line in f.read_text().splitlines()]
        samples.sort(key=lambda s: s["doc_id"])
        for k, sample in enumerate(samples):
            correct = bool(sample["acc"])
            theirs_correct += correct
            n += 1
            line = k + 2  # header on line 1, one question per line
            agree += ours_items[f"{subject}:{line}"] == correct
        assert abs(results[name]["acc,none"] * len(samples) - sum(s["acc"] for s in samples)) < 1e-6
    acc_ours, acc_theirs = 100 * ours["metrics"]["acc"], 100 * theirs_correct / n
    rows = [["llmp eval", f"{acc_ours:.1f}", ours["metrics"]["n"], f"{s1:.1f}", f"{m1:.0f}"],
            ["lm-evaluation-harness 0.4 (hf, batch 8)", f"{acc_theirs:.1f}", n, f"{s2:.1f}", f"{m2:.0f}"]]
    return rows, {"diff": abs(acc_ours - acc_theirs), "speedup": s2 / s1, "agree": agree, "n": n}


def bench_export(threads: int, env: dict, work: Path) -> list[list]:
    from llm_practice.evaluate.target import resolve_model
    from tests.runs import make_lora_run

    home = Path(env["LLMP_HOME"])
    make_lora_run(home, resolve_model("smollm2-135m-instruct").hf_folder(), "bench-lora")
    seconds, peak, proc = run([str(BIN / "llmp"), "export", "bench-lora", "--merge", "--gguf", "q8_0", "--json"], env)
    result = json.loads(proc.stdout)
    size = Path(result["outputs"]["gguf"]).stat().st_size / 2**20
    return [["merge + GGUF q8_0 (135M, LoRA r=16)", f"{result['seconds'].get('merge', 0):.1f}",
             f"{result['seconds'].get('gguf', 0):.1f}", f"{seconds:.1f}", f"{peak:.0f}", f"{size:.0f}"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "LLMP_HOME": str(work / "home"), "LLMP_THREADS": str(args.threads),
               "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "HF_HOME": str(work / "hf"), "TOKENIZERS_PARALLELISM": "false"}
        os.environ.update({k: env[k] for k in ("LLMP_HOME", "HF_HUB_OFFLINE")})
        from llm_practice.settings import get_settings

        get_settings.cache_clear()
        mcq_rows, summary = bench_mcq(args.threads, env, work)
        export_rows = bench_export(args.threads, env, work)
    body = (
        "The bilingual fixture benchmark (`examples/mcq`, 40 val questions, 4 subjects, zero-shot, option "
        "letters scored by log-likelihood) on the bundled SmolLM2-135M-Instruct (GGUF dequantised to fp32), "
        f"through `llmp eval` and through lm-evaluation-harness with a local task file (same prompt), "
        f"each a fresh process including model load, {args.threads} thread(s), same run. "
        "The machine is shared with other jobs, so seconds are noisy.\n\n"
        + table(["tool", "accuracy %", "questions", "seconds", "peak RSS MiB"], mcq_rows)
        + f"\nAccuracy differs by {summary['diff']:.1f} points (target <= 0.5); the two agree on "
        f"{summary['agree']}/{summary['n']} questions; `llmp eval` is {summary['speedup']:.2f}x the harness's "
        "speed (target >= 2x).\n\n"
        "`llmp export` of a LoRA run (r=16, all linear layers) on the bundled model, `--merge --gguf q8_0`, "
        "one process (the converter runs as its child):\n\n"
        + table(["export", "merge s", "gguf s", "total s", "peak RSS MiB", "GGUF MiB"], export_rows)
    )
    write_section("eval", body)
    print(body)


if __name__ == "__main__":
    main()
