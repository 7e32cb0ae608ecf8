"""`llmp data`: validate, convert, inspect and prepare datasets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..workflow import STAGES

STAGE_CHOICE = click.Choice(STAGES)
DATASET_INFO = click.option(
    "--dataset-info", nargs=2, type=(click.Path(dir_okay=False), str), metavar="PATH NAME",
    help="Read the dataset NAME of a LLaMA-Factory dataset_info.json (its file, columns, tags).")


def _source(file: str | None, dataset_info, fmt: str, flag: str = "FILE"):
    """-> (path, format) from FILE or --dataset-info PATH NAME (exactly one of them)."""
    from ..errors import ConfigError

    if bool(file) == bool(dataset_info):
        raise ConfigError(flag, f"give {flag} or --dataset-info PATH NAME (one of them)")
    if not dataset_info:
        return file, fmt
    if fmt != "auto":
        raise ConfigError("--format", "does not go with --dataset-info",
                          "The entry's formatting and columns say how to read the file.")
    from ..data.dataset_info import load_dataset_info

    entry = load_dataset_info(*dataset_info)
    return str(entry.path), entry.format


@click.group()
def data() -> None:
    """Validate, convert, inspect and prepare training datasets.

    Formats: qianfan, qianfan-dpo, qianfan-kto, sharegpt, lf-v1, openai, alpaca, trl, prompt,
    text; files: .jsonl, .json, .csv, .txt, .xlsx, .parquet; or a LLaMA-Factory dataset_info.json
    entry (--dataset-info PATH NAME).

    Example: llmp data validate examples/data/sft_en.jsonl --stage sft
    """


@data.command("formats")
def formats_cmd() -> None:
    """List the dataset formats llmp reads and writes.

    Example: llmp data formats
    """
    from ..data.formats import REGISTRY

    for fmt in REGISTRY.values():
        click.echo(f"{fmt.name:12} {fmt.summary}")


@data.command("validate")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", default="auto", show_default=True,
              help="Format name, or auto to detect it from the records.")
@DATASET_INFO
@click.option("--stage", type=STAGE_CHOICE, help="Also check that the data fits this training stage.")
@click.option("--max-problems", default=50, show_default=True,
              help="Print at most this many problems (all are counted).")
def validate_cmd(file: str | None, fmt: str, dataset_info, stage: str | None,
                 max_problems: int) -> None:
    """Check every record; print each problem as FILE:LINE: FIELD: PROBLEM. HINT.

    Streams the file, so memory stays small however large it is. A field that matters for some
    stage (label, score, weight, chosen, ...) but that the format does not read is a problem, not
    silently dropped. Exits 4 when there are problems.

    Example: llmp data validate train.jsonl --stage rm

    Example: llmp data validate --dataset-info data/dataset_info.json kto_en_demo --stage kto
    """
    from ..data.validate import validate_dataset

    file, fmt = _source(file, dataset_info, fmt)
    report = validate_dataset(file, fmt, stage, max_problems=max(max_problems, 0))
    for problem in report.problems[:max_problems]:
        click.echo(problem.render(file))
    if report.problem_count > max_problems:
        click.echo(f"... and {report.problem_count - max_problems} more problems.")
    how = "detected" if report.detected else "given"
    fmt_name = report.format or "unknown"
    kinds = ", ".join(f"{k} {v}" for k, v in report.kinds.most_common()) or "none"
    stage_note = f", stage {stage}" if stage else ""
    click.echo(f"{file}: format {fmt_name} ({how}){stage_note}; {report.records} records, "
               f"{report.records - report.problem_count} valid ({kinds}), "
               f"{report.problem_count} with problems.")
    if report.records == 0:
        click.echo("No records found: the file is empty.", err=True)
        raise click.exceptions.Exit(4)
    if report.problem_count:
        raise click.exceptions.Exit(4)


@data.command("convert")
@click.argument("paths", metavar="[IN] OUT", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--to", "to", required=True, help="Target format (see `llmp data formats`).")
@click.option("--format", "fmt", default="auto", show_default=True, help="Source format.")
@DATASET_INFO
@click.option("--pairs", type=click.Choice(["all", "adjacent"]), default="all", show_default=True,
              help="How ranked lists of 3+ answers become chosen/rejected pairs.")
@click.option("--lossy", is_flag=True,
              help="Write what the target can hold when it cannot hold everything (the losses "
                   "are listed); without it such a conversion stops and writes nothing.")
def convert_cmd(paths: tuple[str, ...], to: str, fmt: str, dataset_info, pairs: str,
                lossy: bool) -> None:
    """Convert between formats; the file type follows OUT's extension.

    Lossless or nothing: if OUT's format cannot hold labels, scores, weights, tools or records the
    input has, it stops with the counts (exit 4) unless --lossy. KTO labels are never invented.

    Example: llmp data convert ranked.jsonl pairs.jsonl --to trl --pairs adjacent

    Example: llmp data convert --dataset-info data/dataset_info.json kto_en_demo kto.jsonl --to trl
    """
    from ..data.convert import convert_dataset
    from ..errors import ConfigError

    want = 1 if dataset_info else 2
    if len(paths) != want:
        raise ConfigError("IN OUT", f"expected {'OUT' if dataset_info else 'IN and OUT'}, got "
                          f"{len(paths)} path(s)")
    src, fmt = _source(paths[0] if want == 2 else None, dataset_info, fmt, "IN")
    dst = paths[-1]
    report = convert_dataset(src, dst, to, fmt, pairs, lossy)
    click.echo(f"Converted {report.read} records ({report.source_format}) into {report.written} "
               f"{to} records: {dst}")
    if report.labels_in or report.labels_out:
        click.echo(f"KTO labels: {_labels(report.labels_in)} in, {_labels(report.labels_out)} out")
    for what, n in report.notes.most_common():
        click.echo(f"Note: {n} records: {what}.")
    for what, n in report.losses.most_common():
        click.echo(f"Warning: {n} records: {what}.", err=True)
    for why, n in report.skipped.most_common():
        click.echo(f"Warning: {n} records skipped: {why}.", err=True)


def _labels(counts) -> str:
    return f"{counts.get(True, 0)} true / {counts.get(False, 0)} false"


@data.command("stats")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", default="auto", show_default=True, help="Source format.")
@DATASET_INFO
@click.option("--tokenizer", help="Count tokens with this model's tokenizer (a local model name "
              "or a Hugging Face folder); default counts characters.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a length histogram PNG here.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats_cmd(file: str | None, fmt: str, dataset_info, tokenizer: str | None, plot: str | None,
              as_json: bool) -> None:
    """Counts, turns, KTO labels and length percentiles of a dataset, with an optional histogram.

    Example: llmp data stats examples/data/sft_zh.jsonl --tokenizer smollm2-135m-instruct --plot len.png
    """
    from ..data.stats import dataset_stats, plot_histogram

    file, fmt = _source(file, dataset_info, fmt)
    stats = dataset_stats(file, fmt, tokenizer)
    if plot:
        plot_histogram(stats, plot)
    summary = stats.to_json()
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    length = summary["length"]
    click.echo(f"{file}: {stats.records} records")
    click.echo("kinds:      " + ", ".join(f"{k} {v}" for k, v in stats.kinds.most_common()))
    click.echo("user turns: " + ", ".join(f"{k}: {v}" for k, v in summary["user_turns"].items()))
    click.echo(f"system prompts: {stats.system_prompts}")
    if stats.labels:
        click.echo(f"KTO labels: {_labels(stats.labels)}")
    click.echo(f"length ({stats.unit}): min {length['min']}, p50 {length['p50']}, p90 "
               f"{length['p90']}, p99 {length['p99']}, max {length['max']}, mean {length['mean']}")
    if plot:
        click.echo(f"histogram: {plot}")


@data.command("split")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--val", default=0.1, show_default=True, help="Share of records for validation.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out-dir", type=click.Path(file_okay=False), help="Default: next to FILE.")
def split_cmd(file: str, val: float, seed: int, out_dir: str | None) -> None:
    """Split into FILE.train and FILE.val (same file type, records untouched).

    Example: llmp data split examples/data/sft_en.jsonl --val 0.1 --out-dir data/
    """
    from ..data.split import split_dataset

    train, valid, n_train, n_val = split_dataset(file, out_dir, val, seed)
    click.echo(f"train: {n_train} records -> {train}")
    click.echo(f"val:   {n_val} records -> {valid}")


@data.command("preview")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("-n", "count", default=5, show_default=True, help="How many records.")
@click.option("--format", "fmt", default="auto", show_default=True, help="Source format.")
@DATASET_INFO
@click.option("--pager/--no-pager", default=None, help="Page the output (default: on a terminal).")
def preview_cmd(file: str | None, count: int, fmt: str, dataset_info, pager: bool | None) -> None:
    """Show the first records as conversations, the way training will see them.

    Example: llmp data preview examples/data/rm_zh.jsonl -n 3
    """
    from itertools import islice

    from rich.console import Console
    from rich.panel import Panel

    from ..data.validate import iter_canonical

    file, fmt = _source(file, dataset_info, fmt)
    console = Console(width=100 if not sys.stdout.isatty() else None)
    panels = [Panel(_render(rec), title=f"line {line} · {rec.kind}", title_align="left")
              for line, rec in islice(iter_canonical(file, fmt), count)]
    use_pager = sys.stdout.isatty() if pager is None else pager
    if use_pager:
        with console.pager(styles=True):
            for p in panels:
                console.print(p)
    else:
        for p in panels:
            console.print(p)


def _render(rec) -> str:
    from rich.markup import escape

    if rec.text is not None:
        return escape(rec.text)
    lines = [f"[bold magenta]system[/]: {escape(rec.system)}"] if rec.system else []
    for t in rec.turns:
        weight = f" [dim](weight {t.weight:g})[/]" if t.weight != 1 else ""
        if t.reasoning is not None:
            lines.append(f"[dim]{t.role} reasoning: {escape(t.reasoning)}[/]")
        lines.append(f"[bold cyan]{t.role}[/]{weight}: {escape(t.content)}")
    if rec.answers:
        if rec.label is not None:
            lines.append(f"[bold green]answer ({'good' if rec.label else 'bad'})[/]: "
                         f"{escape(rec.answers[0])}")
        for i, a in enumerate(rec.answers if rec.label is None else []):
            score = f" score {rec.scores[i]:g}" if rec.scores else ""
            lines.append(f"[bold green]answer #{i + 1}{score}[/]: {escape(a)}")
    return "\n".join(lines)


@data.command("prepare-pt")
@click.argument("inputs", metavar="IN...", nargs=-1, required=True, type=click.Path())
@click.argument("out", metavar="OUT", type=click.Path())
@click.option("--doc-unit", type=click.Choice(["file", "paragraph", "line"]), default="file",
              show_default=True, help="What one document of a .txt/.md input is: the whole file, "
              "each paragraph (blank-line separated) or each line. JSONL/CSV/... records are "
              "documents as they are.")
@click.option("--min-chars", default=20, show_default=True, help="Drop shorter documents.")
@click.option("--max-chars", default=200_000, show_default=True,
              help="Split longer documents at paragraph/heading boundaries into pieces this long.")
@click.option("--boilerplate-share", default=0.3, show_default=True,
              help="Remove lines (16+ characters) found in at least this share of the documents "
                   "(and in 3 or more): headers, footers, navigation. The documents stay.")
@click.option("--no-boilerplate", is_flag=True, help="Keep lines that repeat across documents.")
@click.option("--max-symbol-ratio", default=0.3, show_default=True,
              help="Drop documents with more punctuation/symbols than this share.")
@click.option("--max-repetition", default=0.5, show_default=True,
              help="Drop documents whose repeated 10-gram share exceeds this.")
@click.option("--lang", "langs", default="zh,en", show_default=True,
              help="Languages to keep (zh, en, other), comma-separated; empty keeps all.")
@click.option("--near-dup-threshold", default=0.8, show_default=True,
              help="Estimated Jaccard similarity at which two documents count as duplicates.")
@click.option("--no-dedup", is_flag=True, help="Keep exact and near duplicates.")
@click.option("--no-pii", is_flag=True, help="Do not mask e-mails, phone and ID numbers.")
@click.option("--zh-punct", type=click.Choice(["keep", "half"]), default="keep", show_default=True,
              help="Keep full-width Chinese punctuation, or fold it to ASCII with NFKC.")
@click.option("--mix", multiple=True, type=click.Path(dir_okay=False),
              help="A general corpus to mix in (repeatable).")
@click.option("--mix-ratio", default=0.0, show_default=True,
              help="Share of the output taken from --mix documents, e.g. 0.2.")
@click.option("--workers", type=int, help="Processes (default: all cores), or Ray CPUs when "
              "--executor ray starts a local Ray instance.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where the cleaning runs: local processes, or Ray tasks (one per input file); "
                   "deduplication stays global in this process either way.")
@click.option("--address", help="A running Ray cluster for --executor ray (e.g. auto or "
              "HEAD:6379); without it a local Ray instance is started.")
@click.option("--work-dir", type=click.Path(file_okay=False),
              help="Keep each input file's cleaned results here; a run stopped part-way (even by "
                   "kill -9) and started again with the same inputs and options redoes only the "
                   "files it had not finished.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default="jsonl",
              show_default=True, help="Shard format when OUT is a folder (Parquet: one string "
              "column 'text', zstd).")
@click.option("--shard-size", type=int, help="Documents per shard; OUT is then a folder "
              "[default: 100000 when OUT is a folder].")
@click.option("--removed", type=click.Path(dir_okay=False),
              help="Also write every removed document with its reason (JSONL).")
@click.option("--seed", default=0, show_default=True)
def prepare_pt_cmd(inputs, out, doc_unit, min_chars, max_chars, boilerplate_share, no_boilerplate,
                   max_symbol_ratio, max_repetition, langs, near_dup_threshold, no_dedup, no_pii,
                   zh_punct, mix, mix_ratio, workers, executor, address, work_dir, fmt, shard_size,
                   removed, seed) -> None:
    """Clean, filter, deduplicate, mask PII and mix text for post-pretraining.

    IN may be files or folders of them, compressed or not (.gz, .bz2, .xz, .zst).
    A .txt/.md file is one document (--doc-unit), long ones are split to --max-chars; lines that
    repeat across many documents are removed from them. Writes OUT (.jsonl with {"text"} or .txt)
    and OUT's .report.json: documents and characters in and out, and why each was removed. OUT
    without an extension is a folder: shards part-00000.jsonl (or .parquet) written atomically and
    a manifest.json (shards with documents, bytes and sha256, the settings, the report), last.

    Example: llmp data prepare-pt raw/*.txt corpus.jsonl --mix general.jsonl --mix-ratio 0.2

    Example: llmp data prepare-pt one_doc_per_line.txt corpus.jsonl --doc-unit line

    Example: llmp data prepare-pt raw/ corpus/ --format parquet --executor ray --address auto --work-dir work/
    """
    from pydantic import ValidationError

    from ..data.prepare import PrepareConfig, prepare_pretraining, report_path
    from ..errors import ConfigError
    from ..validation import config_error

    options = dict(doc_unit=doc_unit, min_chars=min_chars, max_chars=max_chars,
                   boilerplate=not no_boilerplate, boilerplate_share=boilerplate_share,
                   max_symbol_ratio=max_symbol_ratio,
                   max_repetition=max_repetition, near_dup_threshold=near_dup_threshold,
                   languages=[x.strip() for x in langs.split(",") if x.strip()], dedup=not no_dedup,
                   pii=not no_pii, zh_punct=zh_punct, mix=list(mix), mix_ratio=mix_ratio,
                   workers=workers, seed=seed, work_dir=work_dir, executor=executor,
                   address=address, format=fmt, shard_size=shard_size)
    try:
        config = PrepareConfig(**options)
    except ValidationError as e:
        raise config_error(e) from None
    if address and executor != "ray":
        raise ConfigError("--address", "only goes with --executor ray")
    if mix_ratio > 0 and not mix:
        raise ConfigError("--mix-ratio", "needs a general corpus", "Add --mix FILE.")
    report = prepare_pretraining(list(inputs), out, config, removed)
    click.echo(f"Read {report.documents_in} documents ({report.doc_unit} per document) from "
               f"{len(report.inputs)} file(s) ({report.workers} {executor} workers); kept {report.kept_domain}"
               + (f" ({report.documents_split} long ones split)" if report.documents_split else "")
               + ".")
    if report.files_reused:
        click.echo(f"Resumed: {report.files_reused} file(s) cleaned by an earlier run reused from "
                   f"{work_dir}, {report.files_mapped} cleaned now.")
    share = report.chars_out / report.chars_in if report.chars_in else 0
    text_in = report.chars_in - report.chars_removed.get("whitespace", 0)
    click.echo(f"Characters: {report.chars_in:,} in, {report.chars_out:,} out ({share:.0%} kept; "
               f"{report.chars_out / max(text_in, 1):.0%} of the text after whitespace "
               "normalisation)")
    for reason, n in sorted(report.removed.items(), key=lambda kv: -kv[1]):
        click.echo(f"  removed {n:>7}  {reason} ({report.chars_removed.get(reason, 0):,} characters)")
    for reason, n in report.lines_removed.items():
        click.echo(f"  removed {n:>7}  {reason}s inside documents "
                   f"({report.chars_removed.get(reason, 0):,} characters)")
    for line in report.boilerplate_lines[:5]:
        click.echo(f"    boilerplate: {line[:90]}")
    if report.chars_removed.get("whitespace"):
        click.echo(f"  whitespace and normalisation: {report.chars_removed['whitespace']:,} characters")
    if report.pii_masked:
        click.echo("  masked " + ", ".join(f"{k} {v}" for k, v in report.pii_masked.items()))
    click.echo("  languages: " + ", ".join(f"{k} {v}" for k, v in report.languages.items()))
    if mix:
        click.echo(f"  mixed in {report.general_mixed} general documents "
                   f"(wanted {report.general_wanted} for ratio {mix_ratio})")
    if report.shards:
        reused = f", {report.shards_reused} finished by an earlier run kept" if report.shards_reused else ""
        click.echo(f"Wrote {report.documents_out} documents to {out} in {report.shards} {fmt} "
                   f"shard(s){reused}; manifest and report: {report_path(Path(out))}")
    else:
        click.echo(f"Wrote {report.documents_out} documents to {out}; report: {report_path(Path(out))}")
    if text_in > 0 and report.chars_out / text_in < 0.5:
        click.echo(f"Warning: only {report.chars_out / text_in:.0%} of the text was kept; the "
                   "report says why.", err=True)

