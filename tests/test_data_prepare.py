"""`llmp data prepare-pt`: normalisation, filters, language, PII, dedup, mixing, report."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from llm_practice.cli.main import cli
from llm_practice.data import clean
from llm_practice.data.minhash import LSHIndex, MinHasher
from llm_practice.data.prepare import PrepareConfig, prepare_pretraining

EXAMPLES = Path(__file__).parents[1] / "examples" / "data"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _corpus(n: int, seed: int) -> list[str]:
    """Distinct documents on the same topics, in English and Chinese."""
    rng = random.Random(seed)
    en = ("tea harbour mountain festival river museum railway tower island otter moth bread "
          "barley kelp crown pearl charter physicist library garden bridge lantern market").split()
    zh = list("青岚漓溪云脊灯河星渡岚茶雪蓝花桂米糍码头博物馆地铁学院山泉古城石桥夜市渔船")
    docs = []
    for i in range(n):
        if i % 2:
            docs.append(" ".join(rng.choice(en) for _ in range(60)) + f" (note {i})")
        else:
            docs.append("".join(rng.choice(zh) for _ in range(240)) + f"。第{i}篇。")
    return docs


def _edit(text: str, rng: random.Random) -> str:
    """A near-duplicate: change two short spans."""
    for _ in range(2):
        at = rng.randrange(len(text) - 4)
        text = text[:at] + "xy" + text[at + 2:]
    return text


def test_dedup_finds_planted_near_duplicates_and_keeps_distinct_texts(tmp_path):
    rng = random.Random(5)
    originals = _corpus(60, seed=1)
    planted = [_edit(originals[i], rng) for i in [*range(0, 30, 6), *range(1, 30, 6)]]  # 5 zh, 5 en
    exact = [originals[3], originals[4]]
    docs = originals + planted + exact
    src = tmp_path / "raw.jsonl"
    src.write_text("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    out, removed = tmp_path / "clean.jsonl", tmp_path / "removed.jsonl"
    report = prepare_pretraining([src], out, PrepareConfig(workers=2, min_chars=10), removed)
    assert report.removed == {"near_duplicate": 10, "exact_duplicate": 2}
    kept = [json.loads(x)["text"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert kept == [clean.normalize(d) for d in originals]
    reasons = [json.loads(x)["reason"] for x in removed.read_text(encoding="utf-8").splitlines()]
    assert sorted(reasons) == ["exact_duplicate"] * 2 + ["near_duplicate"] * 10
    saved = json.loads((tmp_path / "clean.report.json").read_text())
    assert saved["documents_in"] == 72 and saved["documents_out"] == 60 and saved["workers"] == 2


def test_minhash_estimates_similarity_and_index_keeps_first():
    hasher = MinHasher()
    a = "Lumora's capital is Velmarra, a harbour city on the island's east coast, founded in 1847."
    b = a.replace("1847", "1848")
    c = "青岚市的市花是雪蓝花，每年四月盛开，漓溪两岸开满蓝色的花。"
    sa, sb, sc = hasher.signature(a), hasher.signature(b), hasher.signature(c)
    assert (sa == sb).mean() > 0.8 and (sa == sc).mean() < 0.1
    index = LSHIndex(0.8)
    assert index.find_or_add(sa) is None and index.find_or_add(sc) is None
    assert index.find_or_add(sb) == 0


def test_pii_masking():
    text, found = clean.mask_pii(
        "邮箱 zhang.san@example.com，手机 13812345678 或 +86 139-1234-5678，身份证 11010519491231002X，"
        "订单号 110105194912310021。Call +44 20 7946 0958 or (415) 555-0100; 座机 010-12345678。")
    assert text == ("邮箱 <EMAIL>，手机 <PHONE> 或 <PHONE>，身份证 <ID>，订单号 110105194912310021。"
                    "Call <PHONE> or <PHONE>; 座机 <PHONE>。")
    assert found == {"email": 1, "phone": 5, "id": 1}


def test_normalisation_folds_width_and_keeps_chinese_punctuation():
    assert clean.normalize("ＡＢＣ　１２３，你好！\x07  a   b\r\n\n\n\nend") == "ABC 123，你好！ a b\n\nend"
    assert clean.normalize("你好，世界！", zh_punct="half") == "你好,世界!"


def test_language_identification_on_examples():
    for lang in ("en", "zh"):
        docs = [json.loads(x)["text"] for x in (EXAMPLES / f"pt_{lang}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert {clean.language(d) for d in docs} == {lang}
    assert clean.language("これは日本語の文章です。") == "other"
    assert clean.language("12345 !!! 678") == "other"


def test_filters_and_report_on_the_raw_example(tmp_path):
    out = tmp_path / "corpus.jsonl"
    result = invoke("data", "prepare-pt", str(EXAMPLES / "raw" / "domain_raw.txt"), str(out),
                    "--workers", "1", "--removed", str(tmp_path / "removed.jsonl"), "--doc-unit", "line")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "corpus.report.json").read_text())
    assert report["removed"] == {"exact_duplicate": 5, "near_duplicate": 5, "repetition": 1, "too_short": 2}
    assert report["pii_masked"] == {"email": 2, "phone": 2, "id": 1}
    text = out.read_text(encoding="utf-8")
    assert "13912345678" not in text and "<PHONE>" in text and "<ID>" in text
    assert "FULL WIDTH text about the Coral Line: it runs 74 km" in text
    assert "removed       5  near_duplicate" in result.output


def test_mixing_with_a_general_corpus(tmp_path):
    domain = tmp_path / "domain.txt"
    domain.write_text("\n".join(_corpus(40, seed=2)) + "\n", encoding="utf-8")
    general = tmp_path / "general.jsonl"
    general.write_text("".join(json.dumps({"text": f"General science fact number {i}: water boils, stars shine, "
                                                   f"and cells divide in topic {i * 7}."}) + "\n"
                               for i in range(100)), encoding="utf-8")
    out = tmp_path / "mixed.jsonl"
    result = invoke("data", "prepare-pt", str(domain), str(out), "--mix", str(general), "--mix-ratio", "0.2",
                    "--workers", "1", "--doc-unit", "line")
    assert result.exit_code == 0, result.output
    docs = [json.loads(x)["text"] for x in out.read_text(encoding="utf-8").splitlines()]
    general_docs = [i for i, d in enumerate(docs) if d.startswith("General science")]
    assert len(docs) == 50 and len(general_docs) == 10
    assert general_docs[0] < 10 and general_docs[-1] > 35  # spread through the corpus, not appended


def test_bad_options_name_the_flag(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("hello world, this is a document long enough to keep.\n")
    result = invoke("data", "prepare-pt", str(src), str(tmp_path / "o.jsonl"), "--mix-ratio", "1.5",
                    "--mix", str(src))
    assert result.exit_code == 2 and "--mix-ratio" in result.output
    result = invoke("data", "prepare-pt", str(src), str(tmp_path / "o.parquet"))
    assert result.exit_code == 2 and "OUT" in result.output
    conv = tmp_path / "c.jsonl"
    conv.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    result = invoke("data", "prepare-pt", str(conv), str(tmp_path / "o.jsonl"))
    assert result.exit_code == 4 and "c.jsonl:1" in result.output and "pt trains on plain text" in result.output
    assert not (tmp_path / "o.jsonl").exists()
