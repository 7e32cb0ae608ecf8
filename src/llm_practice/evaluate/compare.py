"""`llmp eval compare BASE TUNED --task ...`: where a tuned model wins and loses against its base.

Both models run the same tasks (each result cached, so re-running a report is instant); the
report holds per task the headline metric of each and the change, per subject for benchmarks,
and the questions the tuned model newly gets right ("wins") or newly gets wrong ("losses": the
forgetting after SFT shows up here). `write_report` writes `compare.json` and one
self-contained `compare.html` with SVG plots embedded (no files or scripts fetched).
"""

from __future__ import annotations

import html
import io
from pathlib import Path

# task -> (headline metric, higher is better)
HEADLINE = {"ppl": ("ppl", False), "mcq": ("acc", True), "qa": ("acc", True)}


def compare_results(base: dict, tuned: dict) -> dict:
    task = base["task"]
    metric, higher = HEADLINE[task]
    b, t = base["metrics"][metric], tuned["metrics"][metric]
    delta = t - b
    better = delta > 0 if higher else delta < 0
    row = {"task": task, "data": base["data"], "metric": metric, "higher_is_better": higher,
           "base": b, "tuned": t, "delta": delta,
           "verdict": "same" if abs(delta) < 1e-12 else ("better" if better else "worse")}
    if "subjects" in base:
        row["subjects"] = {s: {"base": base["subjects"][s]["acc"], "tuned": tuned["subjects"][s]["acc"],
                               "n": base["subjects"][s]["n"]} for s in base["subjects"]}
    if "items" in base:
        tuned_items = {i["id"]: i for i in tuned["items"]}
        wins, losses = [], []
        for item in base["items"]:
            other = tuned_items.get(item["id"])
            if other is None or item["correct"] == other["correct"]:
                continue
            entry = {k: item[k] for k in ("id", "subject", "question") if k in item}
            if "answer" in item:
                entry |= {"base_answer": item["answer"], "tuned_answer": other["answer"],
                          "reference": item["reference"]}
            (wins if other["correct"] else losses).append(entry)
        row["wins"], row["losses"] = wins, losses
    return row


def compare_models(base: str, tuned: str, tasks: list[tuple[str, str, dict]], progress=None,
                   **kwargs) -> dict:
    """`tasks`: (task, data, options). `progress(label, done, total)` follows each evaluation."""
    from . import evaluate

    rows = []
    for task, data, options in tasks:
        results = []
        for label, model in (("base", base), ("tuned", tuned)):
            bar = (lambda d, n, label=label, task=task: progress(f"{task} {label}", d, n)) if progress else None
            results.append(evaluate(model, task, data, options, progress=bar, **kwargs))
        rows.append(compare_results(*results))
    return {"base": base, "tuned": tuned, "tasks": rows}


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _plots(report: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "DejaVu Sans"]
    svgs = []
    for row in report["tasks"]:
        if "subjects" in row:
            names = list(row["subjects"])
            deltas = [100 * (v["tuned"] - v["base"]) for v in row["subjects"].values()]
            fig, axes = plt.subplots(1, 2, figsize=(11, 0.45 * len(names) + 1.6))
            y = range(len(names))
            axes[0].barh([i + 0.2 for i in y], [100 * row["subjects"][n]["base"] for n in names], 0.4,
                         label=report["base"], color="#8c8c8c")
            axes[0].barh([i - 0.2 for i in y], [100 * row["subjects"][n]["tuned"] for n in names], 0.4,
                         label=report["tuned"], color="#3b7dd8")
            axes[0].set_yticks(list(y), names)
            axes[0].set_xlabel("accuracy %")
            axes[0].legend(loc="lower right", fontsize=8)
            axes[1].barh(list(y), deltas, color=["#2e9b4f" if d >= 0 else "#d2452f" for d in deltas])
            axes[1].axvline(0, color="black", linewidth=0.8)
            axes[1].set_yticks(list(y), [""] * len(names))
            axes[1].set_xlabel("tuned - base (points): green wins, red losses")
            fig.suptitle(f"{row['task']} on {Path(row['data']).name}")
        else:
            fig, ax = plt.subplots(figsize=(5, 1.8))
            ax.barh([report["base"], report["tuned"]], [row["base"], row["tuned"]],
                    color=["#8c8c8c", "#3b7dd8"])
            ax.set_xlabel(f"{row['metric']} ({'higher' if row['higher_is_better'] else 'lower'} is better)")
            fig.suptitle(f"{row['task']} on {Path(row['data']).name}")
        svgs.append(_svg(fig))
        plt.close(fig)
    return svgs


def _fmt(row: dict, value: float) -> str:
    return f"{value:.3f}" if row["metric"] == "ppl" else f"{100 * value:.1f}%"


def render_html(report: dict) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(report['base'])} vs "
             f"{e(report['tuned'])}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             ".better{color:#2e9b4f}.worse{color:#d2452f}</style></head><body>",
             f"<h1>{e(report['base'])} &rarr; {e(report['tuned'])}</h1>",
             "<table><tr><th>task</th><th>data</th><th>metric</th><th>base</th><th>tuned</th>"
             "<th>change</th><th>wins</th><th>losses</th></tr>"]
    for row in report["tasks"]:
        delta = f"{row['delta']:+.3f}" if row["metric"] == "ppl" else f"{100 * row['delta']:+.1f} pts"
        parts.append(f"<tr><td>{row['task']}</td><td>{e(row['data'])}</td><td>{row['metric']}</td>"
                     f"<td>{_fmt(row, row['base'])}</td><td>{_fmt(row, row['tuned'])}</td>"
                     f"<td class='{row['verdict']}'>{delta} ({row['verdict']})</td>"
                     f"<td>{len(row.get('wins', []))}</td><td>{len(row.get('losses', []))}</td></tr>")
    parts.append("</table>")
    for row, svg in zip(report["tasks"], _plots(report)):
        parts.append(f"<h2>{row['task']}: {e(Path(row['data']).name)}</h2>{svg}")
        for kind in ("losses", "wins"):
            items = row.get(kind) or []
            if not items:
                continue
            parts.append(f"<h3>{kind} ({len(items)})</h3><table><tr><th>item</th><th>detail</th></tr>")
            for item in items[:200]:
                detail = e(item.get("question", ""))
                if "tuned_answer" in item:
                    detail += (f"<br><b>reference</b>: {e(item['reference'])}<br><b>base</b>: "
                               f"{e(item['base_answer'])}<br><b>tuned</b>: {e(item['tuned_answer'])}")
                parts.append(f"<tr><td>{e(item['id'])}</td><td>{detail}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(report: dict, out: str | Path) -> dict[str, Path]:
    from ..atomic import atomic_write, atomic_write_json

    out = Path(out)
    paths = {"json": out / "compare.json", "html": out / "compare.html"}
    atomic_write_json(paths["json"], report, indent=2)
    atomic_write(paths["html"], render_html(report))
    return paths
