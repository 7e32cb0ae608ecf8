"""Draw the tutorial's pictures from real command output (run from the repository root).

    python docs/tutorial/make_figures.py memory      # `llmp estimate internlm2-chat-7b --json`
    python docs/tutorial/make_figures.py loss RUN    # a training run's metrics.jsonl
    python docs/tutorial/make_figures.py retrieval SEARCH.json   # `llmp kb search KB QUERY --json > SEARCH.json`

Each picture is drawn twice, with English and Chinese labels, into docs/tutorial/img/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

IMG = Path(__file__).parent / "img"
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

LABELS = {
    "en": {"infer": "chat (inference)", "lora": "LoRA", "qlora": "QLoRA", "freeze": "freeze",
           "full": "full fine-tuning", "gb": "GB of memory", "memory": "internlm2-chat-7b: memory by precision and method",
           "weights": "weights", "kv_cache": "KV cache", "activations": "activations", "gradients": "gradients",
           "optimizer": "optimizer states", "runtime": "runtime", "step": "step", "loss": "training loss",
           "dense": "vector similarity (e5)", "bm25": "keyword score (BM25)", "fused": "fused rank score",
           "query": "query"},
    "zh": {"infer": "对话(推理)", "lora": "LoRA", "qlora": "QLoRA", "freeze": "冻结微调",
           "full": "全量微调", "gb": "内存/显存 (GB)", "memory": "internlm2-chat-7b：不同精度和方法所需内存",
           "weights": "权重", "kv_cache": "KV 缓存", "activations": "激活值", "gradients": "梯度",
           "optimizer": "优化器状态", "runtime": "运行时", "step": "步数", "loss": "训练损失",
           "dense": "向量相似度 (e5)", "bm25": "关键词得分 (BM25)", "fused": "融合排名得分",
           "query": "问题"},
}
PARTS = ["weights", "kv_cache", "activations", "gradients", "optimizer", "runtime"]


def _plt(lang: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    if lang == "zh" and Path(FONT).exists():
        font_manager.fontManager.addfont(FONT)
        plt.rcParams["font.family"] = font_manager.FontProperties(fname=FONT).get_name()
    return plt


def memory() -> None:
    out = subprocess.run(["llmp", "estimate", "internlm2-chat-7b", "--json"], capture_output=True, text=True,
                         check=True).stdout
    rows = [e for e in json.loads(out)["estimates"]
            if (e["precision"], e["mode"]) in {("fp32", "infer"), ("bf16", "infer"), ("int8", "infer"),
                                               ("Q4_K_M", "infer"), ("bf16", "lora"), ("int4", "qlora"),
                                               ("bf16", "freeze"), ("bf16", "full")}]
    for lang, text in LABELS.items():
        plt = _plt(lang)
        fig, ax = plt.subplots(figsize=(9, 4.6))
        names = [f"{text[e['mode']]}\n{e['precision']}" for e in rows]
        left = [0.0] * len(rows)
        for part in PARTS:
            values = [e[part] / 1e9 for e in rows]
            ax.barh(names, values, left=left, label=text[part])
            left = [a + b for a, b in zip(left, values)]
        for y, total in enumerate(left):
            ax.text(total + 1, y, f"{total:.1f}", va="center", fontsize=9)
        ax.invert_yaxis()
        ax.set_xlabel(text["gb"])
        ax.set_title(text["memory"])
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        fig.savefig(IMG / f"memory-{lang}.png", dpi=110)
        plt.close(fig)


def loss(run: str) -> None:
    records = [json.loads(line) for line in Path(run, "metrics.jsonl").read_text().splitlines() if line.strip()]
    points = [(r["step"], r["loss"]) for r in records if "loss" in r and "step" in r]
    name = Path(run).name
    for lang, text in LABELS.items():
        plt = _plt(lang)
        fig, ax = plt.subplots(figsize=(6, 3.4))
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o")
        ax.set_xlabel(text["step"])
        ax.set_ylabel(text["loss"])
        ax.set_title(name)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(IMG / f"loss-{name}-{lang}.png", dpi=110)
        plt.close(fig)


def retrieval(path: str) -> None:
    found = json.loads(Path(path).read_text(encoding="utf-8"))
    hits = found["results"]
    names = [f"{i + 1}. " + h["text"].removeprefix("text: ")[:48] + "…" for i, h in enumerate(hits)]
    top_bm25 = max(h.get("bm25") or 0 for h in hits) or 1.0
    for lang, text in LABELS.items():
        plt = _plt(lang)
        fig, ax = plt.subplots(figsize=(9, 0.55 * len(hits) + 1.6))
        ys = range(len(hits))
        ax.barh([y - 0.27 for y in ys], [h["score"] for h in hits], height=0.26, label=text["fused"])
        ax.barh(list(ys), [h.get("dense") or 0 for h in hits], height=0.26, label=text["dense"])
        ax.barh([y + 0.27 for y in ys], [(h.get("bm25") or 0) / top_bm25 for h in hits], height=0.26,
                label=text["bm25"] + " / max")
        ax.set_yticks(list(ys), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.05)
        ax.set_title(f"{text['query']}: {found['query']}  (kb {found['kb']}, k={found['k']})", fontsize=10)
        ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.12), ncol=3, fontsize=8)
        fig.tight_layout()
        fig.savefig(IMG / f"retrieval-{lang}.png", dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    {"memory": lambda: memory(), "loss": lambda: loss(sys.argv[2]),
     "retrieval": lambda: retrieval(sys.argv[2])}[sys.argv[1]]()
