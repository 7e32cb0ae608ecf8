"""Loaders on real files of every type, bad files with clear reasons, and the Chinese-aware splitter."""

from __future__ import annotations

import pytest

from llm_practice.errors import DocumentLoadError
from llm_practice.rag.loaders import Block, blocks_from_markdown, load_file
from llm_practice.rag.splitter import drop_boilerplate, split_blocks

from .rag_samples import encrypted_pdf, scanned_pdf, text_pdf, write_samples


def test_every_type_loads_with_structure(tmp_path):
    files = write_samples(tmp_path)
    text = {name: "\n".join(b.text for b in load_file(path)) for name, path in files.items()}
    assert "国标码" in text["gbk.txt"]  # GBK decoded, not mojibake
    assert "unique stripe pattern" in text["page.html"]
    assert "Home | About" not in text["page.html"] and "var x" not in text["page.html"]  # nav, script dropped
    assert "country: Japan" in text["table.csv"] and "price: 30" in text["prices.xlsx"]
    assert "Mount Etna" in text["records.json"] and "七天内" in text["faq.jsonl"]
    html = load_file(files["page.html"])
    assert html[0].headings == ("Zebras", "Stripes")
    docx = load_file(files["handbook.docx"])
    assert docx[0].headings == ("Employee handbook", "Holidays") and "25 days" in docx[0].text
    pdf = load_file(files["manual.pdf"])
    assert [b.page for b in pdf] == [1, 2] and "replace the fuse" in pdf[1].text


def test_a_man_page_names_itself_in_every_chunk_and_plain_notes_do_not(tmp_path):
    """A plain-text page laid out as section names over indented bodies (a rendered man page) gets
    its one-line first section as the heading of its chunks; other text files get none."""
    page = tmp_path / "useradd.8.txt"
    body = "当不带 -D 选项时，useradd 使用命令行上的值和系统默认值创建新用户账号。" * 20
    page.write_text("USERADD(8)            系统管理命令            USERADD(8)\n\n名称\n"
                    "       useradd - 创建一个新用户或更新默认新用户信息\n\n"
                    "大纲\n       useradd [选项] 登录\n\n描述\n       " + body + "\n", encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping\n    milk\n    eggs\nCall the plumber on Monday.\n", encoding="utf-8")
    chunks = split_blocks(load_file(page), chunk_tokens=120)
    assert len(chunks) > 2
    assert all(c.heading == "useradd - 创建一个新用户或更新默认新用户信息" for c in chunks)
    assert chunks[-1].embed_text().startswith("useradd - 创建一个新用户")  # embedded and indexed with it
    assert load_file(notes)[0].headings == ()  # a two-line first section names nothing


def test_markdown_heading_paths_ignore_code_fences():
    blocks = blocks_from_markdown("# A\n\nintro\n\n## B\n\n```\n# not a heading\n```\ntext\n\n# C\n\nend")
    assert [(b.headings, b.text.splitlines()[0]) for b in blocks] == [
        (("A",), "intro"), (("A", "B"), "```"), (("C",), "end")]


@pytest.mark.parametrize("name, content, reason", [
    ("empty.txt", b"", "empty (0 bytes)"),
    ("image.png", b"\x89PNG\r\n", "unsupported file type '.png'"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "not a readable PDF"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
    ("bad.jsonl", b'{"a": 1}\n{oops\n', "line 2: invalid JSON"),
])
def test_bad_files_name_the_file_and_the_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentLoadError, match=name) as info:
        load_file(path)
    assert reason in str(info.value)


def test_scanned_encrypted_and_oversized_pdfs(tmp_path):
    with pytest.raises(DocumentLoadError, match="no text layer") as info:
        load_file(scanned_pdf(tmp_path / "scan.pdf"))
    assert "OCR" in info.value.hint
    plain = text_pdf(tmp_path / "plain.pdf", [["hello"]])
    with pytest.raises(DocumentLoadError, match="encrypted"):
        load_file(encrypted_pdf(tmp_path / "locked.pdf", plain))
    with pytest.raises(DocumentLoadError, match="MiB; the limit is"):
        load_file(plain, max_bytes=10)


def test_chinese_sentences_token_sizes_overlap_and_offsets():
    text = "".join(f"第{i}句话讲的是一件不同的事情。" for i in range(40))
    block = Block(text, ("手册", "第一章"))
    chunks = split_blocks([block], chunk_tokens=50, overlap_tokens=15)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith("。")  # cut at sentence ends, never mid-sentence
        assert len(chunk.text) <= 50 + 16
        assert text[chunk.start:chunk.end].strip() == chunk.text
        assert chunk.embed_text().startswith("手册 > 第一章\n")
    assert chunks[1].start < chunks[0].end  # overlap: the next chunk repeats the last sentence


def test_repeated_headers_and_footers_are_kept_once():
    pages = [[Block(f"ACME Corp confidential\nPage {n} of 5\nBody text number {n} is unique.", page=n)]
             for n in range(1, 6)]
    document = [b for page in pages for b in page]
    dropped = drop_boilerplate([document])
    assert dropped == 8  # two lines x four repeats
    assert "ACME Corp" in document[0].text and "ACME Corp" not in document[3].text
    assert all("is unique" in b.text for b in document)
