"""The names the whole workflow shares, defined once: the hubs models come from and the
training stages. CLI choices, pydantic fields, the web UI and the docs all read them here.
"""

from __future__ import annotations

from typing import Literal

# Hubs a model can be downloaded from, and how the web UI names them.
SOURCES = ("hf", "modelscope", "openxlab")
Source = Literal["hf", "modelscope", "openxlab"]
SOURCE_LABELS = {"hf": "Hugging Face", "modelscope": "ModelScope", "openxlab": "OpenXLab"}

# Training stages, in workflow order: pretraining, supervised fine-tuning, reward model,
# preference optimisation (DPO, KTO), reinforcement learning (GRPO, PPO).
STAGES = ("pt", "sft", "rm", "dpo", "kto", "grpo", "ppo")
Stage = Literal["pt", "sft", "rm", "dpo", "kto", "grpo", "ppo"]
