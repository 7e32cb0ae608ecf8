"""`prepare-pt` on a folder of multi-paragraph files: what a document is, boilerplate lines,
long documents split, and characters in vs out per reason."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from llm_practice.cli.main import cli
from llm_practice.data import clean
from llm_practice.data.documents import is_heading, split_document
from llm_practice.data.prepare import PrepareConfig, prepare_pretraining

HEADER = "Orchard Tools Manual - internal edition, revision 7"
FOOTER = "Copyright 2026 Orchard Tools Ltd. All rights reserved."
WORDS = ("prune graft orchard ladder blossom pear apple cider harvest frost canopy root soil "
         "sapling branch bud pollen hive mulch compost shear saw rake basket cellar press "
         "bark resin scion rootstock spur thinning canker scab blight spray dormant").split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 14))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _page(i: int) -> str:
    """A manual page: shared header/footer, short repeated headings, option lines, prose."""
    rng = random.Random(i)
    return "\n".join([
        HEADER, "", f"NAME", f"tool{i} - {_sentence(rng)}", "", "OPTIONS",
        "-v  verbose", "-q  quiet", "", "DESCRIPTION", _paragraph(rng, 4), "", _paragraph(rng, 3),
        "", FOOTER, ""])


@pytest.fixture
def pages(tmp_path) -> list[Path]:
    folder = tmp_path / "pages"
    folder.mkdir()
    paths = []
    for i in range(6):
        path = folder / f"tool{i}.txt"
        path.write_text(_page(i), encoding="utf-8")
        paths.append(path)
    return paths


def _run(pages, tmp_path, **options):
    out = tmp_path / f"{options.get('doc_unit', 'file')}.jsonl"
    config = PrepareConfig(workers=1, pii=False, **options)
    report = prepare_pretraining(pages, out, config)
    docs = [json.loads(x)["text"] for x in out.read_text(encoding="utf-8").splitlines()]
    return report, docs


def test_files_are_documents_kept_whole_without_their_boilerplate(pages, tmp_path):
    report, docs = _run(pages, tmp_path)
    assert report.documents_in == 6 and report.kept_domain == 6 and report.removed == {}
    assert report.boilerplate_lines == [HEADER, FOOTER]
    assert report.lines_removed["boilerplate_line"] == 12
    assert report.chars_removed["boilerplate_line"] == 6 * (len(HEADER) + 1 + len(FOOTER) + 1)
    for doc, path in zip(docs, pages):
        assert HEADER not in doc and FOOTER not in doc
        body = clean.normalize(path.read_text(encoding="utf-8").replace(HEADER, "").replace(FOOTER, ""))
        assert doc == body  # every other line kept, headings and option lines included
        assert "NAME" in doc and "-v verbose" in doc and "DESCRIPTION" in doc
    texts = [p.read_text(encoding="utf-8") for p in pages]
    assert report.chars_in == sum(map(len, texts))
    assert report.chars_out == sum(map(len, docs))
    assert report.chars_in == report.chars_out + sum(report.chars_removed.values())
    saved = json.loads((tmp_path / "file.report.json").read_text())
    assert saved["chars_removed"]["boilerplate_line"] == report.chars_removed["boilerplate_line"]


def test_the_three_units_give_the_documented_results(pages, tmp_path):
    file_report, file_docs = _run(pages, tmp_path, doc_unit="file")
    para_report, para_docs = _run(pages, tmp_path, doc_unit="paragraph")
    line_report, line_docs = _run(pages, tmp_path, doc_unit="line")
    texts = [p.read_text(encoding="utf-8") for p in pages]
    # paragraph: each blank-line separated block is a document (6 a page); the shared header,
    # footer and options paragraphs are exact duplicates after the first page
    assert para_report.documents_in == sum(len([b for b in t.split("\n\n") if b.strip()]) for t in texts)
    assert all("\n\n" not in d for d in para_docs)
    assert para_report.removed["exact_duplicate"] == 15  # header, footer, options of pages 2-6
    assert para_report.kept_domain == 36 - 15
    # line: every line is a document; headings and option lines fall to the length filter
    assert line_report.documents_in == sum(len([x for x in t.split("\n") if x.strip()]) for t in texts)
    assert all("\n" not in d for d in line_docs)
    assert line_report.removed["too_short"] == 6 * 5  # NAME, OPTIONS, -v, -q, DESCRIPTION
    assert line_report.boilerplate_lines == []  # lines as documents: duplicates are dedup's job
    # file keeps the most text: whole pages without the boilerplate
    assert file_report.chars_out > para_report.chars_out > line_report.chars_out
    for report in (file_report, para_report, line_report):
        assert report.chars_in == report.chars_out + sum(report.chars_removed.values())


def test_jsonl_text_records_are_documents_whatever_the_unit(pages, tmp_path):
    src = tmp_path / "pages.jsonl"
    src.write_text("".join(json.dumps({"text": p.read_text(encoding="utf-8")}) + "\n" for p in pages))
    report, docs = _run([src], tmp_path, doc_unit="line")
    assert report.documents_in == 6 and len(docs) == 6
    assert report.lines_removed["boilerplate_line"] == 12


def test_long_documents_are_split_at_paragraphs_not_dropped(pages, tmp_path):
    big = tmp_path / "big.md"
    rng = random.Random(42)
    sections = []
    for s in range(6):
        sections.append(f"## Section {s}\n\n" + "\n\n".join(_paragraph(rng, 3) for _ in range(3)))
    big.write_text("# Orchard care\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    report, docs = _run([big], tmp_path, max_chars=1000)
    assert report.removed == {} and report.documents_split == 1 and len(docs) >= 5
    assert all(len(d) <= 1000 for d in docs)
    source_paragraphs = [p for p in clean.normalize(big.read_text()).split("\n\n")]
    assert [p for d in docs for p in d.split("\n\n")] == source_paragraphs  # nothing cut mid-paragraph
    assert sum(d.startswith("## Section") for d in docs) >= 3  # pieces start at headings when they can


def test_split_document_falls_back_to_lines_then_sentences():
    text = "A first sentence here. A second one follows. " * 40
    pieces = split_document(text.strip(), 200)
    assert all(len(p) <= 200 for p in pieces)
    assert all(p.endswith(".") for p in pieces)
    assert is_heading("## Usage") and is_heading("DESCRIPTION") and is_heading("2.1 Setup")
    assert not is_heading("A plain sentence about pears.")


def test_cli_reports_characters_per_reason(pages, tmp_path):
    out = tmp_path / "corpus.jsonl"
    result = CliRunner().invoke(cli, ["data", "prepare-pt", *map(str, pages), str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Read 6 documents (file per document)" in result.output
    saved = json.loads((tmp_path / "corpus.report.json").read_text())
    assert f"Characters: {saved['chars_in']:,} in, {saved['chars_out']:,} out (" in result.output
    assert "of the text after whitespace normalisation" in result.output
    assert "removed      12  boilerplate_lines inside documents" in result.output
    assert f"boilerplate: {HEADER}" in result.output
    lines = CliRunner().invoke(cli, ["data", "prepare-pt", *map(str, pages), str(out), "--workers", "1",
                                     "--doc-unit", "line", "--no-dedup"])
    assert lines.exit_code == 0 and "too_short" in lines.output


def test_folders_and_compressed_inputs_give_the_same_corpus(pages, tmp_path):
    import gzip

    import zstandard

    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / ".hidden").mkdir()
    for i, page in enumerate(pages):
        data = page.read_bytes()
        if i % 3 == 0:
            (tree / f"{page.name}.gz").write_bytes(gzip.compress(data))
        elif i % 3 == 1:
            (tree / "sub" / f"{page.name}.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
        else:
            (tree / page.name).write_bytes(data)
    (tree / ".hidden" / "junk.txt").write_text("never read, it is hidden " * 20)
    plain_report, plain_docs = _run(pages, tmp_path)
    out = tmp_path / "tree.jsonl.gz"
    report = prepare_pretraining([tree], out, PrepareConfig(workers=1, pii=False))
    docs = [json.loads(x)["text"] for x in gzip.decompress(out.read_bytes()).decode().splitlines()]
    assert len(report.inputs) == 6 and sorted(docs) == sorted(plain_docs)
    assert report.chars_in == plain_report.chars_in
    assert (tmp_path / "tree.report.json").exists()


def test_compressed_jsonl_validates_and_converts(tmp_path):
    import gzip

    src = tmp_path / "kto.jsonl.gz"
    rows = [{"prompt": "Sky?", "completion": "Blue.", "label": True},
            {"prompt": "Sky?", "completion": "Green.", "label": False}]
    src.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    result = CliRunner().invoke(cli, ["data", "validate", str(src), "--stage", "kto"])
    assert result.exit_code == 0 and "format trl (detected)" in result.output
    out = tmp_path / "kto.sharegpt.jsonl.xz"
    assert CliRunner().invoke(cli, ["data", "convert", str(src), str(out), "--to", "sharegpt"]).exit_code == 0
    import lzma

    written = [json.loads(x) for x in lzma.decompress(out.read_bytes()).decode().splitlines()]
    assert [w["kto_tag"] for w in written] == [True, False]


def _big_pages(folder: Path, n: int, paragraphs: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        rng = random.Random(1000 + i)
        body = "\n\n".join(_paragraph(rng, 4) for _ in range(paragraphs))
        path = folder / f"doc{i:02d}.txt"
        path.write_text(f"{HEADER}\n\n{body}\n\n{FOOTER}\n", encoding="utf-8")
        paths.append(path)
    paths[5].write_text(paths[2].read_text(encoding="utf-8"), encoding="utf-8")  # an exact duplicate
    return paths


def test_a_resumed_run_redoes_only_unfinished_files(tmp_path):
    pages = _big_pages(tmp_path / "in", 8, 20)
    fresh = tmp_path / "fresh.jsonl"
    prepare_pretraining(pages, fresh, PrepareConfig(workers=1))
    work, out = tmp_path / "work", tmp_path / "out.jsonl"
    first = prepare_pretraining(pages, out, PrepareConfig(workers=1, work_dir=work))
    assert (first.files_mapped, first.files_reused) == (8, 0)
    stored = sorted(work.glob("map-*.pkl"))
    assert len(stored) == 8 and out.read_text() == fresh.read_text()
    for lost in stored[:3]:  # as if the run had been stopped before these files were finished
        lost.unlink()
    (work / ".map-partial.pkl.123.tmp").write_bytes(b"half a pickle")  # a killed writer's leftover
    kept = {p: p.stat().st_mtime_ns for p in stored[3:]}
    second = prepare_pretraining(pages, out, PrepareConfig(workers=2, work_dir=work))
    assert (second.files_mapped, second.files_reused) == (3, 5)
    assert {p: p.stat().st_mtime_ns for p in stored[3:]} == kept  # not redone
    assert out.read_text() == fresh.read_text()  # each kept document exactly once
    assert second.removed == first.removed == {"exact_duplicate": 1}
    changed = prepare_pretraining(pages, out, PrepareConfig(workers=1, work_dir=work, min_chars=50))
    assert changed.files_reused == 0  # other options: other results, nothing reused


def test_kill_9_mid_run_then_resume(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    pages = _big_pages(tmp_path / "in", 24, 150)
    fresh = tmp_path / "fresh.jsonl"
    prepare_pretraining(pages, fresh, PrepareConfig(workers=1))
    work, out = tmp_path / "work", tmp_path / "out.jsonl"
    args = ["data", "prepare-pt", str(tmp_path / "in"), str(out), "--workers", "1", "--work-dir", str(work)]
    code = "import sys; from llm_practice.cli.main import main; main(sys.argv[1:])"
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env={**os.environ})
    deadline = time.monotonic() + 120
    while len(list(work.glob("map-*.pkl"))) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be killed: make the input bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(work.glob("map-*.pkl")))
    assert 3 <= finished < 24 and not out.exists()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"Resumed: {finished} file(s) cleaned by an earlier run" in result.output
    assert out.read_text() == fresh.read_text()
