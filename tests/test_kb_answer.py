"""`kb ask` end to end with the real bundled model and embedder; the cross-encoder reranker plumbing
with a tiny model built from a config."""

from __future__ import annotations

import json

import pytest

from llm_practice.rag.kb import create_kb

from .conftest import run_llmp
from .rag_samples import write_samples


@pytest.mark.integration
def test_kb_ask_answers_with_sources_and_says_when_it_does_not_know(tmp_path):
    samples = write_samples(tmp_path / "docs")
    facts = tmp_path / "docs" / "capital.md"
    facts.write_text("# Geography\n\nParis is the capital of France. It lies on the river Seine.\n", encoding="utf-8")
    # the 135M model is easily distracted: leave out table.csv, whose row "Lyon, France" it would repeat
    create_kb("docs").add([str(p) for name, p in samples.items() if name != "table.csv"] + [str(facts)])
    asked = run_llmp("kb", "ask", "docs", "What is the capital of France?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "Paris" in answer["answer"]
    assert answer["sources"][0]["source"] == f"{facts}#Geography" and answer["sources"][0]["n"] == 1
    streamed = run_llmp("kb", "ask", "docs", "What is the capital of France?")
    assert streamed.returncode == 0 and "Paris" in streamed.stdout
    assert "Sources:" in streamed.stdout and f"[1] {facts}#Geography" in streamed.stdout
    unknown = run_llmp("kb", "ask", "docs", "Who won the 1954 football world cup final?")
    assert unknown.returncode == 0
    assert unknown.stdout.startswith("I don't know") and "Sources:" not in unknown.stdout
    assert samples  # the other sample files are in the knowledge base too


def _tiny_cross_encoder(folder):
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz"]
    (folder / "vocab.txt").parent.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(words), encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(str(folder))
    config = BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, num_labels=1)
    import torch

    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(str(folder))
    return folder


def test_reranker_reorders_results_by_its_own_scores(tmp_path):
    from llm_practice.rag.rerank import CrossEncoderReranker

    samples = write_samples(tmp_path / "docs")
    kb = create_kb("docs")
    kb.add([str(samples["guide.md"]), str(samples["notes.txt"]), str(samples["gbk.txt"]), str(samples["table.csv"])])
    reranker = CrossEncoderReranker(_tiny_cross_encoder(tmp_path / "tiny-reranker"))
    plain = kb.search("maintenance window", k=3)
    reranked = kb.search("maintenance window", k=3, reranker=reranker)
    candidates = kb.search("maintenance window", k=9)
    expected = sorted(zip(reranker.score("maintenance window", [c.text for c in candidates]),
                          [c.text for c in candidates]), key=lambda p: -p[0])[:3]
    assert [r.text for r in reranked] == [t for _, t in expected]
    assert all(0 <= r.score <= 1 and "fused" in r.metadata for r in reranked)
    assert {r.text for r in plain} <= {c.text for c in candidates}
    cli = run_llmp("kb", "search", "docs", "maintenance window", "-k", "3", "--reranker",
                   str(tmp_path / "tiny-reranker"), "--json")
    assert cli.returncode == 0, cli.stderr
    assert [r["text"] for r in json.loads(cli.stdout)["results"]] == [t for _, t in expected]
    missing = run_llmp("kb", "search", "docs", "maintenance", "--reranker", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no config.json" in missing.stderr
