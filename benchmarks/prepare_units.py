"""What `prepare-pt` keeps of a folder of real domain text, per document unit (file, paragraph, line).

Input: a folder of .txt files, e.g. Debian's Chinese manual pages rendered to text:

    apt-get download manpages-zh && dpkg-deb -x manpages-zh_*.deb x
    for f in x/usr/share/man/zh_CN/man*/*.gz; do
        zcat $f | groff -K utf8 -mandoc -Tutf8 -P-c -P-b -P-u | col -bx > pages/$(basename $f .gz).txt
    done
    python benchmarks/prepare_units.py pages/
    python benchmarks/prepare_units.py --tiny     # three generated files: checks the script works

`make bench` runs it without a folder: it then says what input it needs and is reported as
skipped (it compares `--doc-unit` settings, not llmp against a peer).

Writes the `prepare_units` section of docs/benchmarks.md: documents and characters in and out, the
share of the text kept (after whitespace normalisation, which also strips groff's indentation), the
largest removal reasons, and the wall time (noisy: shared CPUs).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from machine import MissingInputError, add_tiny_flag, begin, table, write_section  # noqa: E402

TINY_TEXT = ("NAME\n    ls - list directory contents\n\nDESCRIPTION\n    List information about the "
             "FILEs (the current directory by default).\n\n名称\n    ls - 列出目录内容\n\n描述\n    "
             "列出指定文件的信息（默认为当前目录）。按字母顺序排列。\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, nargs="?", help="a folder of .txt files")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    add_tiny_flag(parser)
    args = parser.parse_args()
    if args.folder is None and not args.tiny:
        raise MissingInputError("prepare_units.py", "a folder of .txt files, e.g. Debian's Chinese "
                                "manual pages (the recipe is at the top of benchmarks/prepare_units.py)")
    begin({}, tiny=args.tiny)
    from llm_practice.data.prepare import PrepareConfig, prepare_pretraining

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.folder is None:  # --tiny
            args.folder = Path(tmp) / "tiny-pages"
            args.folder.mkdir()
            for i in range(3):
                (args.folder / f"page{i}.txt").write_text(TINY_TEXT * (i + 1), encoding="utf-8")
        files = sorted(args.folder.glob("*.txt"))
        for unit in ("line", "paragraph", "file"):
            start = time.perf_counter()
            report = prepare_pretraining(files, Path(tmp) / f"{unit}.jsonl",
                                         PrepareConfig(doc_unit=unit, workers=args.workers))
            seconds = time.perf_counter() - start
            text_in = report.chars_in - report.chars_removed.get("whitespace", 0)
            reasons = sorted(((v, k) for k, v in report.chars_removed.items() if k != "whitespace"),
                             reverse=True)[:3]
            rows.append([unit, f"{report.documents_in:,}", f"{report.kept_domain:,}",
                         f"{report.chars_in:,}", f"{report.chars_out:,}",
                         f"{report.chars_out / text_in:.0%}",
                         ", ".join(f"{k} {v:,}" for v, k in reasons), f"{seconds:.1f}"])
            print(rows[-1])
    body = (f"{len(files)} text files from `{args.folder.name}` (see the script's docstring), "
            f"`llmp data prepare-pt` defaults, {args.workers} workers. \"text kept\" is characters "
            "out over characters in after whitespace normalisation. Times are from a shared 2-core "
            "machine and noisy.\n\n" + table(
                ["--doc-unit", "documents in", "documents out", "chars in", "chars out",
                 "text kept", "largest removals (characters)", "seconds"], rows))
    write_section("prepare_units", body)


if __name__ == "__main__":
    main()
