"""The tour's report: `report.json` and one self-contained `report.html` (styles, a timing chart
as inline SVG and every plot as a base64 PNG inside the file, nothing fetched)."""

from __future__ import annotations

import base64
import html
import platform
from datetime import datetime, timezone
from pathlib import Path

from ..atomic import atomic_write, atomic_write_json
from .runner import StepResult, TourConfig

WORDS = {
    "en": {"title": "llmp tour report", "status": "status", "seconds": "seconds", "total": "total",
           "ok": "ok", "failed": "failed", "skipped": "skipped", "command": "command", "output": "output",
           "reason": "reason", "quick": "quick tour", "full": "full tour", "chapter": "tutorial chapter",
           "timing": "time per step (seconds)"},
    "zh": {"title": "llmp tour 报告", "status": "状态", "seconds": "秒", "total": "合计",
           "ok": "完成", "failed": "失败", "skipped": "跳过", "command": "命令", "output": "输出",
           "reason": "原因", "quick": "快速版", "full": "完整版", "chapter": "教程章节",
           "timing": "每一步用时（秒）"},
}
COLOURS = {"ok": "#2e7d32", "failed": "#c62828", "skipped": "#757575"}
CSS = """body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:12px;max-height:420px}
.badge{color:#fff;border-radius:4px;padding:.1em .5em;font-size:.85em}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left}
section{border-top:1px solid #ddd;margin-top:1.5em}img{max-width:100%}"""


def summary(results: list[StepResult]) -> dict[str, int]:
    counts = {"ok": 0, "failed": 0, "skipped": 0}
    for r in results:
        counts[r.status] += 1
    return counts


def _timing_svg(results: list[StepResult]) -> str:
    ran = [r for r in results if r.status != "skipped"]
    if not ran:
        return ""
    longest = max(r.seconds for r in ran) or 1.0
    rows = []
    for i, r in enumerate(ran):
        width = 520 * r.seconds / longest
        y = i * 22
        rows.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(r.id)}</text>'
                    f'<rect x="140" y="{y + 3}" width="{width:.1f}" height="15" fill="{COLOURS[r.status]}"/>'
                    f'<text x="{146 + width:.1f}" y="{y + 14}" font-size="12">{r.seconds:.1f}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{22 * len(ran) + 4}" '
            f'role="img">{"".join(rows)}</svg>')


def _png(path: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).parent.name)}" src="data:image/png;base64,{data}">'


def render_html(results: list[StepResult], config: TourConfig, total: float) -> str:
    w = WORDS[config.lang]
    counts = summary(results)
    head = (f"<h1>{w['title']}</h1><p>{w['quick'] if config.quick else w['full']} · "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {html.escape(platform.node())} · "
            f"{w['total']} {total:.1f} {w['seconds']} · "
            + " · ".join(f"{w[k]} {v}" for k, v in counts.items()) + "</p>")
    table = "".join(
        f'<tr><td><a href="#{r.id}">{html.escape(r.title)}</a></td>'
        f'<td><span class="badge" style="background:{COLOURS[r.status]}">{w[r.status]}</span></td>'
        f"<td>{r.seconds:.1f}</td><td>{html.escape(r.reason)}</td></tr>" for r in results)
    parts = [head, f"<table><tr><th></th><th>{w['status']}</th><th>{w['seconds']}</th><th>{w['reason']}</th></tr>"
             f"{table}</table>", f"<h3>{w['timing']}</h3>{_timing_svg(results)}"]
    for r in results:
        body = [f'<section id="{r.id}"><h2>{html.escape(r.title)} '
                f'<span class="badge" style="background:{COLOURS[r.status]}">{w[r.status]}</span></h2>',
                f"<p>{w['chapter']}: docs/tutorial/{config.lang}/{html.escape(r.chapter)}.md · {r.seconds:.1f} {w['seconds']}"
                + (f" · {w['reason']}: {html.escape(r.reason)}" if r.reason else "") + "</p>",
                f"<h4>{w['command']}</h4><pre>{html.escape(chr(10).join(r.commands))}</pre>"]
        if r.output:
            body.append(f"<h4>{w['output']}</h4><pre>{html.escape(r.output)}</pre>")
        body.extend(_png(p) for p in r.plots)
        parts.append("".join(body) + "</section>")
    return (f'<!doctype html><html lang="{config.lang}"><head><meta charset="utf-8"><title>{w["title"]}</title>'
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")


def write_report(results: list[StepResult], config: TourConfig, total: float) -> tuple[Path, Path]:
    data = {"lang": config.lang, "quick": config.quick, "seconds": round(total, 2), "summary": summary(results),
            "steps": [r.to_dict() for r in results]}
    json_path, html_path = config.out / "report.json", config.out / "report.html"
    atomic_write_json(json_path, data, indent=1)
    atomic_write(html_path, render_html(results, config, total))
    return json_path, html_path
