"""Sample documents of every type the loaders read, written by the real libraries (pypdf, python-docx,
openpyxl) or byte for byte (a GBK text, a hand-made PDF with a text layer)."""

from __future__ import annotations

import json
from pathlib import Path


def text_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A minimal valid PDF whose pages carry a real text layer (Helvetica), one line per string."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines) + " ET"
        objects.append(f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


def scanned_pdf(path: Path) -> Path:
    """Pages without any text layer (what a scanner produces, minus the image)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_blank_page(612, 792)
    with open(path, "wb") as f:
        writer.write(f)
    return path


def encrypted_pdf(path: Path, source: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(source)))
    writer.encrypt("secret-password")
    with open(path, "wb") as f:
        writer.write(f)
    return path


def docx_file(path: Path) -> Path:
    from docx import Document

    document = Document()
    document.add_heading("Employee handbook", level=1)
    document.add_heading("Holidays", level=2)
    document.add_paragraph("Every employee gets 25 days of paid holiday per year.")
    document.add_heading("Expenses", level=2)
    document.add_paragraph("Submit receipts within 30 days through the finance portal.")
    document.save(str(path))
    return path


def xlsx_file(path: Path) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "prices"
    sheet.append(["product", "price", "unit"])
    sheet.append(["green tea", 12.5, "box"])
    sheet.append(["oolong", 30, "tin"])
    workbook.save(str(path))
    return path


def write_samples(folder: Path) -> dict[str, Path]:
    """One file of each type; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "guide.md": "# 安装指南\n\n## 下载\n\n从官网下载安装包。安装包大小约为 200MB。\n\n"
                    "## 配置\n\n编辑 config.yaml 文件，把 port 设置为 8080。重启服务后生效！\n",
        "notes.txt": "The maintenance window is every Sunday from 02:00 to 04:00 UTC.\n",
        "page.html": "<html><head><title>Zebra facts</title></head><body><nav>Home | About | Contact</nav>"
                     "<h1>Zebras</h1><h2>Stripes</h2><p>Every zebra has a unique stripe pattern, like a fingerprint.</p>"
                     "<footer>Copyright 2024 Zoo</footer><script>var x = 1;</script></body></html>",
        "table.csv": "city,country,population\nLyon,France,522000\nOsaka,Japan,2750000\n",
        "records.json": json.dumps([{"title": "Volcano", "body": "Mount Etna is an active volcano in Sicily."}]),
        "faq.jsonl": json.dumps({"q": "退货期限是多久？", "a": "收到商品后七天内可以无理由退货。"}, ensure_ascii=False) + "\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = folder / name
        paths[name].write_text(text, encoding="utf-8")
    paths["gbk.txt"] = folder / "gbk.txt"
    paths["gbk.txt"].write_bytes("大熊猫主要以竹子为食，每天要吃十几公斤竹子。这是用国标码保存的中文文本。".encode("gbk"))
    paths["manual.pdf"] = text_pdf(folder / "manual.pdf", [["Quick start", "Press the red button to power on."],
                                                           ["Troubleshooting", "If the lamp blinks, replace the fuse."]])
    paths["handbook.docx"] = docx_file(folder / "handbook.docx")
    paths["prices.xlsx"] = xlsx_file(folder / "prices.xlsx")
    return paths
