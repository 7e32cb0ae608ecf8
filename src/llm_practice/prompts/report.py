"""Report writers: the lint report as text, and compare results as CSV and self-contained HTML.

The HTML report has no external assets (inline CSS, no scripts from the network), so it can be
mailed, attached to CI or opened offline. Files are written to a temporary name and renamed.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from ..atomic import atomic_write
from .compare import CompareReport
from .lint import RULES_VERSION, LintReport

MARK = {True: "✓", False: "✗", None: "–"}




def lint_text_report(report: LintReport) -> str:
    """The human-readable lint report: one line per tip, then each finding with span, why and hint."""
    zh = report.lang == "zh"
    status_words = {"pass": "通过" if zh else "pass", "fail": "未通过" if zh else "FAIL",
                    "advice": "提醒" if zh else "advice", "n/a": "不适用" if zh else "n/a"}
    severity_words = {"error": "错误" if zh else "error", "advice": "提醒" if zh else "advice"}
    lines = [f"{report.source} ({report.lang})"]
    for row in report.tips:
        tip = f"tip {row['tip']}" if row["tip"] else "check"
        reason = (f"（{row['reason']}）" if zh else f" ({row['reason']})") if row.get("reason") else ""
        lines.append(f"  [{status_words[row['status']]:>4}] {tip:<6} {row['check']:<13} {row['name']}{reason}")
    for f in report.findings:
        text = f.span.text.strip().replace("\n", " ")
        text = text[:70] + ("…" if len(text) > 70 else "")
        tip = f"tip {f.tip}" if f.tip else f.check
        lines += ["", f"{report.source}:{f.span.line}: {severity_words[f.severity]}: [{tip}] {f.check} "
                      f"(chars {f.span.start}-{f.span.end}): \"{text}\"",
                  f"  {'原因' if zh else 'why'}: {f.why}",
                  f"  {'建议' if zh else 'fix'}: " + f.hint.replace("\n", "\n       ")]
    n_errors, n_advice = len(report.errors), len(report.findings) - len(report.errors)
    verdict = ("没有发现问题。" if zh else "No problems found.") if report.ok else (
        f"{n_errors} 个错误（--strict 不通过），{n_advice} 条提醒。" if zh
        else f"{n_errors} error(s) (fail --strict), {n_advice} advice.")
    lines += ["", verdict, f"({'规则版本' if zh else 'rules'} {RULES_VERSION})"]
    return "\n".join(lines)


def compare_csv(report: CompareReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case", "variant", "passed", "output", "checks", "latency_s", "prompt_tokens",
                     "completion_tokens", "finish_reason", "cached", "error"])
    for r in report.results:
        checks = "; ".join(f"{MARK[c.passed]} {c.label}{' (' + c.detail + ')' if c.detail else ''}"
                           for c in r.checks)
        writer.writerow([r.case, r.variant, "" if r.passed is None else r.passed, r.output, checks,
                         r.latency_s, r.prompt_tokens, r.completion_tokens, r.finish_reason or "",
                         r.cached, r.error or ""])
    return out.getvalue()


def write_csv(report: CompareReport, path: str | Path) -> Path:
    return atomic_write(path, compare_csv(report))


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem} table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #ccc;padding:.5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3} pre{white-space:pre-wrap;word-wrap:break-word;margin:0;font-size:.85rem}
.pass{background:#eefbea}.fail{background:#fdecea}.none{background:#fff}
.check{font-size:.8rem;margin-top:.4rem}.ok{color:#1a7f37}.bad{color:#c62828}
.meta{color:#666;font-size:.8rem;margin-top:.3rem} details{margin:.5rem 0}
"""


def compare_html(report: CompareReport, title: str = "Prompt comparison") -> str:
    e = html.escape
    summary = "".join(
        f"<tr><td>{e(s['variant'])}</td><td>{s['passed']}/{s['checked']}</td>"
        f"<td>{s['checks_passed']}/{s['checks_total']}</td><td>{s['mean_latency_s']}</td>"
        f"<td>{s['completion_tokens']}</td><td>{s['cached']}</td><td>{s['errors']}</td></tr>"
        for s in report.summary())
    prompts = "".join(f"<details><summary>Prompt <b>{e(v)}</b></summary><pre>{e(report.prompts[v])}</pre>"
                      "</details>" for v in report.variants)
    head = "".join(f"<th>{e(v)}</th>" for v in report.variants)
    rows = []
    for case in report.cases:
        cells = []
        for variant in report.variants:
            r = report.cell(case, variant)
            css = {True: "pass", False: "fail", None: "none"}[r.passed]
            checks = "".join(
                f"<div class='check {'ok' if c.passed else 'bad'}'>{MARK[c.passed]} {e(c.label)}"
                f"{' — ' + e(c.detail) if c.detail else ''}</div>" for c in r.checks)
            body = f"<pre class='bad'>{e(r.error)}</pre>" if r.error else f"<pre>{e(r.output)}</pre>"
            meta = (f"{r.latency_s}s · {r.completion_tokens} tokens · {r.finish_reason or ''}"
                    f"{' · cached' if r.cached else ''}")
            cells.append(f"<td class='{css}' data-case='{e(case)}' data-variant='{e(variant)}'>{body}"
                         f"{checks}<div class='meta'>{e(meta)}</div></td>")
        rows.append(f"<tr><th>{e(case)}</th>{''.join(cells)}</tr>")
    config = ", ".join(f"{k}={v}" for k, v in report.config.items())
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{e(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{e(title)}</h1>"
        f"<p class='meta'>backend: {e(report.backend)} · {e(config)}</p>"
        "<h2>Summary</h2><table id='summary'><tr><th>variant</th><th>cases passed</th><th>checks passed</th>"
        f"<th>mean latency (s)</th><th>completion tokens</th><th>cached</th><th>errors</th></tr>{summary}</table>"
        f"<h2>Prompts</h2>{prompts}"
        f"<h2>Side by side</h2><table id='results'><tr><th>case</th>{head}</tr>{''.join(rows)}</table>"
        "</body></html>\n"
    )


def write_html(report: CompareReport, path: str | Path, title: str = "Prompt comparison") -> Path:
    return atomic_write(path, compare_html(report, title))
