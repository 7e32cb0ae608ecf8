"""`llmp eval`: perplexity against a direct transformers computation, the fixture benchmark's answer
key, benchmark file layouts, QA scoring, resume after kill -9, and bad input."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import BIN, run_llmp

ROOT = Path(__file__).resolve().parents[1]
MCQ = ROOT / "examples" / "mcq"
TEXT = ("The quick brown fox jumps over the lazy dog. Paris is the capital of France, and Berlin "
        "is the capital of Germany.\nWater boils at one hundred degrees Celsius at sea level.\n"
        "机器学习是人工智能的一个分支，它让计算机从数据中学习规律。\n")



@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """The test machine is shared by many jobs: one torch/llama.cpp thread is steadier than two."""
    monkeypatch.setenv("LLMP_THREADS", "1")
    from llm_practice.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture(scope="module")
def bundled_folder(tmp_path_factory):
    """The bundled GGUF dequantised once (in the session-wide cache) and loaded directly."""
    from llm_practice.evaluate.target import resolve_model

    return resolve_model("smollm2-135m-instruct").hf_folder()


def direct_perplexity(folder: Path, text: str, window: int, stride: int) -> float:
    """The recipe of the transformers perplexity guide, with exact per-window token counts."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    lm = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    ids = tok(text, add_special_tokens=False, return_tensors="pt").input_ids
    nll, count, prev_end = 0.0, 0, 0
    for begin in range(0, ids.size(1), stride):
        end = min(begin + window, ids.size(1))
        trg_len = end - prev_end
        input_ids = ids[:, begin:end]
        labels = input_ids.clone()
        labels[:, :-trg_len] = -100
        with torch.no_grad():
            loss = lm(input_ids, labels=labels).loss
        valid = int((labels[:, 1:] != -100).sum())  # the model shifts labels left by one
        nll += float(loss) * valid
        count += valid
        prev_end = end
        if end == ids.size(1):
            break
    return math.exp(nll / count)


@pytest.mark.integration
@pytest.mark.parametrize("window,stride", [(32, 16), (24, 24)])
def test_perplexity_equals_direct_transformers(tmp_path, bundled_folder, window, stride):
    from llm_practice.evaluate import evaluate

    data = tmp_path / "held.txt"
    data.write_text(TEXT, encoding="utf-8")
    result = evaluate("smollm2-135m-instruct", "ppl", data, {"window": window, "stride": stride})
    # the documents are joined with a blank line, as the module documents
    text = "\n\n".join(line for line in TEXT.splitlines() if line.strip())
    expected = direct_perplexity(bundled_folder, text, window, stride)
    assert result["metrics"]["ppl"] == pytest.approx(expected, rel=1e-4)
    assert result["settings"]["window"] == window and result["settings"]["stride"] == stride
    again = evaluate("smollm2-135m-instruct", "ppl", data, {"window": window, "stride": stride})
    assert again["cached"] and again["metrics"] == result["metrics"]


# the answer key of examples/mcq/val, written with the questions
KEY = {"world_geography": "CADBCBDBAC", "basic_science": "DABCCACBAD",
       "chinese_geography": "BACDBACBDC", "chinese_common_sense": "CBACDDBACC"}


def test_fixture_benchmark_reads_with_its_answer_key():
    from llm_practice.evaluate.mcq import LETTERS, McqConfig, build_prompt, load_benchmark

    split, questions, dev = load_benchmark(MCQ, McqConfig(shots=3))
    assert split == "val"
    assert {s: "".join(LETTERS[q.answer] for q in qs) for s, qs in questions.items()} == KEY
    prompt = build_prompt(questions["chinese_geography"][0], dev["chinese_geography"], "zh")
    assert prompt.startswith("以下是中国关于chinese geography考试的单项选择题")
    assert prompt.count("答案：") == 4 and prompt.endswith("D. 西安\n答案：")
    assert "中国最长的河流是哪一条？" in prompt  # a dev example with its answer
    assert "答案：B\n\n" in prompt


@pytest.mark.integration
def test_mcq_scores_options_by_loglikelihood(bundled_folder):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llm_practice.evaluate import evaluate
    from llm_practice.evaluate.mcq import McqConfig, build_prompt, load_benchmark

    result = evaluate("smollm2", "mcq", MCQ, {"limit": 2, "subjects": ["world_geography", "chinese_geography"]})
    assert result["metrics"]["n"] == 4
    preds = {i["id"]: i["correct"] for i in result["items"]}
    # the prediction is the option letter the model finds most likely after the prompt
    tok = AutoTokenizer.from_pretrained(bundled_folder)
    lm = AutoModelForCausalLM.from_pretrained(bundled_folder, dtype=torch.float32).eval()
    _, questions, _ = load_benchmark(MCQ, McqConfig(limit=2, subjects=["world_geography", "chinese_geography"]))
    correct = 0
    for subject, qs in questions.items():
        lang = "zh" if subject.startswith("chinese") else "en"
        for q in qs:
            ids = tok(build_prompt(q, [], lang), add_special_tokens=False, return_tensors="pt").input_ids
            with torch.no_grad():
                logits = lm(ids).logits[0, -1]
            letters = [tok((" " if lang == "en" else "") + c, add_special_tokens=False).input_ids[-1] for c in "ABCD"]
            pred = int(torch.stack([logits[i] for i in letters]).argmax())
            assert preds[q.id] == (pred == q.answer), q.id
            correct += pred == q.answer
        subject_acc = sum(preds[q.id] for q in qs) / len(qs)
        assert result["subjects"][subject]["acc"] == subject_acc
    assert result["metrics"]["acc"] == correct / 4


def test_shared_prefixes_group_by_subject_not_by_common_header():
    from llm_practice.evaluate.scorer import _Seq, share_prefixes

    header = list(range(100, 112))  # 12 tokens every prompt opens with
    shots_a, shots_b = list(range(200, 260)), list(range(300, 360))  # each subject's few-shot examples
    seqs = [_Seq(header + shots + [k, 7, 8], [(k, len(header) + len(shots) + 3, [5])])
            for k, shots in enumerate([shots_a, shots_a, shots_a, shots_b, shots_b])]
    lone = _Seq([1, 2, 3], [(9, 3, [4])])
    groups = sorted(share_prefixes([*seqs, lone]), key=lambda g: -len(g[1]))
    assert [(shared, len(members)) for shared, members in groups] == [(72, 3), (72, 2), (0, 1)]
    # a prefix never covers a position a member reads from (here: the whole context)
    short = [_Seq(header + [1], [(0, 10, [1, 2, 3])]), _Seq(header + [2], [(1, 10, [4])])]
    assert share_prefixes(short) == [(9, sorted(short, key=lambda s: s.tokens))]


@pytest.mark.integration
def test_prefix_sharing_scores_as_whole_sequences(tmp_path, bundled_folder):
    """The few-shot prefix run once from its keys and values gives the same log-likelihoods as each
    prompt run whole (a 2-layer model built from a config with the bundled tokenizer)."""
    from llm_practice.evaluate.mcq import McqConfig, build_prompt, load_benchmark
    from llm_practice.evaluate.scorer import Scorer
    from llm_practice.evaluate.target import resolve_model
    from llm_practice.models.tiny import tiny_llama

    tiny_llama(tmp_path / "tiny", bundled_folder, max_positions=1024)
    _, questions, dev = load_benchmark(MCQ, McqConfig(shots=2, limit=3, subjects=["basic_science", "chinese_geography"]))
    requests = []
    for subject, qs in questions.items():
        lang = "zh" if subject.startswith("chinese") else "en"
        for q in qs:
            prompt = build_prompt(q, dev[subject], lang)
            requests += [(prompt, (" " if lang == "en" else "") + letter) for letter in "ABCD"]
            requests.append((prompt, " " + q.options[0]))  # several tokens: scored from the prefix too
    scorer = Scorer(resolve_model(str(tmp_path / "tiny")), threads=1, batch_tokens=256)
    shared = scorer.loglikelihood(requests)
    assert scorer._prefixes, "no prefix was shared"
    scorer._share = False
    whole = scorer.loglikelihood(requests)
    assert [g for _, g in shared] == [g for _, g in whole]
    assert [s for s, _ in shared] == pytest.approx([s for s, _ in whole], abs=1e-4)


def test_cmmlu_and_mmlu_layouts(tmp_path):
    from llm_practice.evaluate.mcq import McqConfig, load_benchmark

    cmmlu = tmp_path / "cmmlu"
    (cmmlu / "test").mkdir(parents=True)
    (cmmlu / "test" / "astronomy.csv").write_text(
        ",Question,A,B,C,D,Answer\n0,太阳是什么？,行星,恒星,卫星,彗星,B\n", encoding="utf-8")
    split, questions, _ = load_benchmark(cmmlu, McqConfig())
    assert split == "test" and questions["astronomy"][0].answer == 1
    assert questions["astronomy"][0].options == ("行星", "恒星", "卫星", "彗星")
    mmlu = tmp_path / "mmlu"
    (mmlu / "test").mkdir(parents=True)
    (mmlu / "test" / "anatomy_test.csv").write_text(
        '"Which organ pumps blood?",Lung,Heart,Liver,Skin,B\nWhat is 2+2?,3,4,5,6,B\n', encoding="utf-8")
    _, questions, _ = load_benchmark(mmlu, McqConfig())
    assert [q.answer for q in questions["anatomy"]] == [1, 1]
    assert questions["anatomy"][1].line == 2


@pytest.mark.parametrize("content,where,what", [
    ("id,question,A,B,D,answer\n0,q,a,b,d,A\n", ":1: field 'C'", "missing option column(s) C"),
    ("id,question,A,B,C,D\n0,q,a,b,c,d\n", ":1: field 'answer'", "missing column 'answer'"),
    ("id,question,A,B,C,D,answer\n0,q,a,b,c,d,A\n1,q2,a,b,c,d,E\n", ":3: field 'answer'",
     "'E' is not one of the options A, B, C, D"),
])
def test_bad_mcq_files_name_file_line_and_field(tmp_path, content, where, what):
    bench = tmp_path / "bench"
    (bench / "val").mkdir(parents=True)
    path = bench / "val" / "law_val.csv"
    path.write_text(content, encoding="utf-8")
    proc = run_llmp("eval", "smollm2", "--task", "mcq", "--data", str(bench))
    assert proc.returncode == 4, proc.stderr
    assert f"{path}{where}" in proc.stderr and what in proc.stderr
    assert "Traceback" not in proc.stderr


def test_empty_text_file_and_bad_flags(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    proc = run_llmp("eval", "smollm2", "--task", "ppl", "--data", str(empty))
    assert proc.returncode == 4 and f"{empty}: holds no text" in proc.stderr
    proc = run_llmp("eval", "smollm2", "--task", "ppl", "--data", str(empty), "--stride", "64", "--window", "32")
    assert proc.returncode == 2 and "--stride: 64 is larger than --window 32" in proc.stderr
    proc = run_llmp("eval", "smollm2", "--task", "mcq", "--data", str(MCQ), "--metric", "exact")
    assert proc.returncode == 2 and "--metric: does not apply to --task mcq" in proc.stderr
    proc = run_llmp("eval", "smollm2", "--task", "bleu", "--data", str(MCQ))
    assert proc.returncode == 2 and "unknown task 'bleu'" in proc.stderr
    proc = run_llmp("eval", "smollm2", "--task", "mcq", "--data", str(MCQ), "--base-url", "http://127.0.0.1:9/v1")
    assert proc.returncode == 2 and "--base-url: --task mcq scores log-likelihoods" in proc.stderr
    assert "only --task qa" in proc.stderr and "Traceback" not in proc.stderr


def test_unfinished_run_is_refused_with_its_name(llmp_home):
    run = llmp_home / "runs" / "sft-demo"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"name": "sft-demo", "status": "running", "kind": "adapter"}))
    proc = run_llmp("eval", "sft-demo", "--task", "mcq", "--data", str(MCQ))
    assert proc.returncode == 4
    assert "Run 'sft-demo': status is 'running', not 'finished'" in proc.stderr


def test_qa_metrics():
    from llm_practice.evaluate.qa import contains, exact_match

    assert exact_match("Paris.", "paris") and not exact_match("It is Paris.", "Paris")
    assert contains("The capital is Paris.", "paris") and not contains("Parisian food", "Paris")
    assert contains("中国的首都是北京。", "北京") and not contains("上海", "北京")


@pytest.mark.integration
def test_qa_with_the_bundled_model_and_a_judge(tmp_path):
    from llm_practice.evaluate import evaluate
    from llm_practice.prompts.backends import make_backend

    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"instruction": "What is the capital of France?", "output": "Paris"}) + "\n",
                    encoding="utf-8")
    result = evaluate("smollm2", "qa", data, {"metric": "contains", "max_tokens": 24})
    assert result["metrics"]["n"] == 1
    assert result["items"][0]["correct"] == ("paris" in result["items"][0]["answer"].lower())
    judged = evaluate("smollm2", "qa", data, {"metric": "judge", "max_tokens": 24},
                      judge=make_backend("smollm2", None))
    item = judged["items"][0]
    assert item["answer"] == result["items"][0]["answer"]  # greedy answers are reproducible
    assert item["judge"] and item["correct"] == bool(item["score"] and item["score"] >= 4)


@pytest.mark.integration
def test_qa_on_a_served_model_judged_by_a_served_model(tmp_path, shared_cache):
    """The model under test and the judge are what a real `llmp serve` answers over HTTP."""
    import httpx

    from .servers import LiveServer

    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"instruction": "What is the capital of France?", "output": "Paris"}) + "\n",
                    encoding="utf-8")
    with LiveServer(home=tmp_path / "served", cache=shared_cache) as live:
        url = live.url + "/v1"
        proc = run_llmp("eval", "smollm2-135m-instruct", "--task", "qa", "--data", str(data), "--base-url", url,
                        "--metric", "judge", "--judge-base-url", url, "--max-tokens", "24", "--json")
        metrics = httpx.get(live.url + "/metrics", timeout=10).text
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["model"] == f"smollm2-135m-instruct @ {url}"
    (item,) = result["items"]
    assert item["answer"] and item["judge"], item
    assert item["correct"] == bool(item["score"] and item["score"] >= 4)
    assert result["settings"]["judge"] == f"openai:{url}:smollm2-135m-instruct"
    # two completions served: the answer, then the verdict
    assert 'llmp_requests_total{endpoint="/v1/chat/completions",status="200"} 2.0' in metrics, metrics[-1500:]


@pytest.mark.integration
def test_killed_evaluation_resumes(tmp_path, llmp_home, shared_cache):
    data = tmp_path / "held.txt"
    data.write_text(TEXT * 6, encoding="utf-8")
    args = ["eval", "smollm2", "--task", "ppl", "--data", str(data), "--window", "16", "--stride", "8",
            "--batch-tokens", "64", "--json"]
    env = {**os.environ, "LLMP_THREADS": "1"}
    proc = subprocess.Popen([str(BIN / "llmp"), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    from llm_practice.evaluate.journal import Journal
    from llm_practice.evaluate.ppl import PplConfig
    from llm_practice.evaluate.target import resolve_model

    settings = PplConfig(window=16, stride=8).model_dump() | {"batch_tokens": 64}
    items = Journal("ppl", resolve_model("smollm2").fingerprint, data, settings).items_path
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if items.is_file() and len(items.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the evaluation finished or failed before it could be killed"
    assert items.is_file(), "the evaluation did not journal items in time"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(items.read_text().splitlines())
    resumed = run_llmp(*args, env={"LLMP_THREADS": "1"})
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["resumed_items"] >= done_before - 1 > 0
    from llm_practice.evaluate import evaluate

    fresh = evaluate("smollm2", "ppl", data, {"window": 16, "stride": 8}, batch_tokens=64, use_cache=False)
    assert fresh["resumed_items"] == 0
    assert result["metrics"]["ppl"] == pytest.approx(fresh["metrics"]["ppl"], rel=1e-5)


@pytest.mark.integration
def test_compare_shows_where_the_tuned_run_wins(tmp_path, llmp_home, bundled_folder):
    from .runs import make_lora_run

    question = "What is the secret code word?"
    make_lora_run(llmp_home, bundled_folder, "fact", fact=(question, "The secret code word is BLUEBERRY."),
                  steps=12)
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"instruction": question, "output": "BLUEBERRY"}) + "\n", encoding="utf-8")
    out = tmp_path / "report"
    proc = run_llmp("eval", "compare", "smollm2", "fact", "--task", "qa", "--data", str(qa),
                    "--task", "mcq", "--data", str(MCQ), "--subject", "world_geography", "--limit", "2",
                    "--max-tokens", "16", "--out", str(out), env={"LLMP_THREADS": "1", "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "smollm2 -> fact" in proc.stdout and "world_geography" in proc.stdout
    report = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    qa_row, mcq_row = report["tasks"]
    assert (qa_row["base"], qa_row["tuned"], qa_row["verdict"]) == (0.0, 1.0, "better")
    assert [w["question"] for w in qa_row["wins"]] == [question] and qa_row["losses"] == []
    assert "BLUEBERRY" in qa_row["wins"][0]["tuned_answer"]
    assert set(mcq_row["subjects"]) == {"world_geography"} and mcq_row["subjects"]["world_geography"]["n"] == 2
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<script" not in page and "http" not in page.split("<svg")[0]
    assert "wins (1)" in page and "secret code word" in page
