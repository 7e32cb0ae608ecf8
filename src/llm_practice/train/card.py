"""The run card: `runs/NAME/README.md`, what a person needs to know about a finished run."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from .run import RunFolder, atomic_write


def write_card(run: RunFolder, plan, info: dict) -> None:
    recipe = plan.recipe
    metrics = info.get("metrics", {})
    created = info.get("created", "")
    try:
        took = datetime.now(timezone.utc) - datetime.fromisoformat(created)
        duration = f"{took.total_seconds() / 60:.1f} min (wall clock since the run was created)"
    except ValueError:
        duration = "unknown"
    rows = "\n".join(f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |"
                     for k, v in sorted(metrics.items()))
    chat = (f"llmp chat {run.path}" if recipe.stage not in ("rm",)
            else f"llmp train show {recipe.name}  # a reward model scores answers; use it as reward_model: runs/{recipe.name}")
    text = f"""# Run {recipe.name}

- stage: **{recipe.stage}**, fine-tuning: **{recipe.finetuning}** ({info.get('kind')})
- base model: {info.get('base_model')} (`{info.get('base_path')}`)
- data: `{plan.data_path}`, {len(plan.records)} records ({', '.join(f'{k}: {v}' for k, v in plan.kinds.items())})
- steps: {info.get('steps')}; time: {duration}
- created: {created}

## Final metrics

| metric | value |
|---|---|
{rows}

![loss](loss.png)

## Use it

```bash
{chat}
llmp train show {recipe.name}
```

## Settings (resolved recipe: recipe.yaml)

```json
{json.dumps(recipe.model_dump(exclude={'source'}), indent=2, ensure_ascii=False)}
```
"""
    atomic_write(run.path / "README.md", text)
