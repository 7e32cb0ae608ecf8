"""Check a recipe completely before any weights load, then run its stage and finish the run folder.

    >>> plan = plan_run(load_recipe("recipes/sft-lora-demo.yaml"))   # recipe, data, model, folder, memory
    >>> result = train(plan)                                          # loads weights, trains, saves final/

`plan_run` is what `--dry-run` prints. `RunContext` is what a stage's `run_<stage>` receives: the
records, the model reference, TRL's arguments with our run-folder settings, and `finish(trainer)`,
which trains (resuming from the newest checkpoint), saves `final/` and writes the run card.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import MemoryBudgetError, TrainingStoppedError
from .data import read_stage_records, resolve_data_path
from .model import BaseModelRef, check_qlora, load_model, model_shape, resolve_model
from .recipe import Recipe, resolved_yaml, run_function, trl_fields
from .run import RunFolder, is_main_process, make_callbacks

# Our defaults for TRL settings; a recipe's own values win.
TRL_DEFAULTS: dict[str, Any] = {
    "per_device_train_batch_size": 4, "num_train_epochs": 1, "logging_steps": 1, "save_steps": 50,
    "save_total_limit": 2, "gradient_accumulation_steps": 1, "dataloader_num_workers": 0,
    "lr_scheduler_type": "constant_with_warmup", "warmup_steps": 0, "save_only_model": False,
}
STAGE_LR = {"pt": 5e-5, "sft": 2e-4, "rm": 1e-4, "dpo": 5e-6, "kto": 5e-6, "grpo": 1e-5, "rloo": 1e-5, "ppo": 1e-5}
REFERENCE_COPY = {"dpo", "kto", "ppo", "grpo", "rloo"}  # keep a frozen reference policy (full tuning)


@dataclass
class Plan:
    recipe: Recipe
    run: RunFolder
    data_path: Path
    records: list
    extras: list
    kinds: dict
    model: BaseModelRef
    estimate: Any  # catalog.memory.Breakdown
    budget: float
    budget_where: str
    resume: bool = False
    overwrite: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        r = self.recipe
        return {
            "name": r.name, "stage": r.stage, "output": str(self.run.path), "model": self.model.name,
            "model_folder": str(self.model.folder) if self.model.folder else None,
            "finetuning": r.finetuning, "data": str(self.data_path), "records": len(self.records),
            "kinds": dict(self.kinds), "trainer": trl_settings(r),
            "memory_gb": round(self.estimate.total / 1e9, 2), "free_gb": round(self.budget / 1e9, 1),
            "notes": self.notes,
        }


def trl_settings(recipe: Recipe) -> dict:
    return {**TRL_DEFAULTS, "learning_rate": STAGE_LR[recipe.stage], **recipe.trainer}


def default_output(recipe: Recipe) -> Path:
    from ..settings import get_settings

    return get_settings().runs_dir / (recipe.name or recipe.stage)


def plan_run(recipe: Recipe, *, output: str | Path | None = None, resume: bool = False,
             overwrite: bool = False, check_folder: bool = True) -> Plan:
    """Everything that can be wrong, found before any weights load."""
    from ..catalog.machine import detect_machine
    from ..catalog.memory import estimate_memory, lookup, make_options

    run = RunFolder(Path(output) if output else default_output(recipe))
    if check_folder:
        run.check(resume=resume, overwrite=overwrite)
    data_path = resolve_data_path(recipe.data, recipe.source)
    records, extras, kinds = read_stage_records(data_path, recipe.stage, recipe.format, recipe.max_records)
    ref = resolve_model(recipe.model)
    if hasattr(recipe, "rewards"):
        from .rewards import check_rewards

        check_rewards(recipe)
    notes = []
    if ref.catalog:
        notes.append(f"{ref.catalog} is a catalog model that is not downloaded: `llmp download {ref.catalog}` "
                     "before training (the dry run sizes it from the catalog).")
    if ref.adapter is not None:
        notes.append(f"starts from {ref.adapter} merged into its base {ref.folder}")
    if not ref.catalog:
        check_qlora(recipe.finetuning)
    elif recipe.finetuning == "qlora":
        notes.append("qlora needs a CUDA GPU and bitsandbytes on the machine that trains")
    machine = detect_machine()
    settings = trl_settings(recipe)
    precision = _precision(recipe, machine)
    options = make_options(context=recipe.max_length, batch=int(settings["per_device_train_batch_size"]),
                           mode=recipe.finetuning, lora_rank=recipe.lora_rank, device=machine.device,
                           grad_checkpointing=bool(settings.get("gradient_checkpointing")), dtype=precision)
    shape = model_shape(ref)
    row = lookup(estimate_memory(shape, options), recipe.finetuning, precision)
    if recipe.finetuning in ("full", "freeze") and recipe.stage in REFERENCE_COPY:
        from dataclasses import replace

        extra = shape.total * (2.0 if precision != "fp32" else 4.0)
        row = replace(row, weights=row.weights + extra)
        notes.append(f"{recipe.stage} with {recipe.finetuning} tuning keeps a frozen reference copy "
                     f"(+{extra / 1e9:.2f} GB in the estimate)")
    where = "this GPU" if machine.gpus else "this machine"
    plan = Plan(recipe, run, data_path, records, extras, kinds, ref, row, machine.budget, where,
                resume, overwrite, notes)
    if row.total > machine.budget and recipe.memory_check != "off":
        advice = ("Try finetuning: lora (or qlora on a GPU), a smaller max_length or per_device_train_batch_size, "
                  "gradient_checkpointing=true, or memory_check: warn to try anyway.")
        if recipe.memory_check == "refuse" and not ref.catalog:
            raise MemoryBudgetError(row.total, machine.budget, where, advice)
        notes.append(f"memory: needs about {row.total / 1e9:.1f} GB, {where} has {machine.budget / 1e9:.1f} GB free. "
                     + advice)
    return plan


def _precision(recipe: Recipe, machine) -> str:
    if recipe.finetuning == "qlora":
        return "int4"
    if recipe.dtype == "float32" or (recipe.dtype == "auto" and not machine.gpus):
        return "fp32"
    return "bf16"


@dataclass
class RunContext:
    plan: Plan
    progress: Callable[[dict], None] | None = None
    callback: Any = None

    @property
    def recipe(self) -> Recipe:
        return self.plan.recipe

    def load_model(self, head: str = "causal"):
        import torch
        from datasets.utils.logging import disable_progress_bar
        from transformers import set_seed

        disable_progress_bar()
        use_threads()
        if not torch.cuda.is_available():
            from .lm_head import compact_cpu_lm_head

            compact_cpu_lm_head()  # score only trained positions: SFT's masked prompts cost nothing
        # New weights (a reward model's score head, LoRA matrices) are drawn before TRL seeds its
        # trainer: seed first, so a recipe starts from the same weights whatever ran before it.
        set_seed(self.recipe.seed)
        return load_model(self.plan.model, self.recipe, head=head)

    def trl_args(self, config_cls, **stage_defaults):
        """The stage's TRL config: our defaults < the stage's < the recipe's; run-folder keys are ours."""
        import torch

        recipe = self.recipe
        fields = trl_fields(recipe.stage)
        values = {**{k: v for k, v in stage_defaults.items() if k in fields}, **trl_settings(recipe)}
        if "max_length" in fields:
            values["max_length"] = recipe.max_length
        values.update(output_dir=str(self.plan.run.checkpoints), seed=recipe.seed, disable_tqdm=True,
                      report_to=_report_to(), logging_dir=str(self.plan.run.path / "tensorboard"))
        # transformers 5 reads the TensorBoard folder from the environment (older ones: logging_dir)
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(self.plan.run.path / "tensorboard")
        if not torch.cuda.is_available():
            values["use_cpu"] = True
            # TRL defaults to bf16 autocast, on CPU too (about 1.4x the speed on CPUs with native bf16,
            # docs/benchmarks.md `## train`). We keep fp32 unless the recipe says `bf16: true`: the
            # demo recipes are tuned in fp32, and under bf16 autocast the SFT demo answered one
            # held-out probe with a loop (tests/test_train_learns.py).
            if "bf16" not in recipe.trainer:
                values["bf16"] = False
        if "ddp_backend" in fields and int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available():
            values.setdefault("ddp_backend", "gloo")
        return config_cls(**{k: v for k, v in values.items() if k in fields})

    def callbacks(self) -> list:
        self.callback = make_callbacks(self.plan.run, self.progress)
        return [self.callback]

    def finish(self, trainer, tokenizer, **train_kwargs) -> dict:
        """Train (from the newest checkpoint when resuming), then save final/ and the run card."""
        from .card import write_card

        plan, run = self.plan, self.plan.run
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # our callback logs; the terminal gets a progress bar
        checkpoint = run.latest_checkpoint() if plan.resume else None
        if is_main_process():
            run.update_info(threads=use_threads())
        result = (trainer.train(resume_from_checkpoint=str(checkpoint), **train_kwargs) if checkpoint
                  else trainer.train(**train_kwargs))
        state = trainer.state
        metrics = {k: v for k, v in (getattr(result, "metrics", None) or {}).items() if isinstance(v, (int, float))}
        losses = [h["loss"] for h in state.log_history if "loss" in h]
        if not losses:  # PPO logs its losses as loss/policy_avg, loss/value_avg
            losses = [h["loss/policy_avg"] for h in state.log_history if "loss/policy_avg" in h]
        if losses:
            metrics["final_loss"] = losses[-1]
        if self.callback is not None and self.callback.stop_requested:
            if is_main_process():
                run.update_info(status="stopped", steps=state.global_step, metrics=metrics)
            raise TrainingStoppedError(run.path, state.global_step)
        if is_main_process():
            run.final.mkdir(parents=True, exist_ok=True)
            trainer.save_model(str(run.final))
            tokenizer.save_pretrained(str(run.final))
            info = run.update_info(status="finished", steps=state.global_step, max_steps=state.max_steps,
                                   metrics=metrics)
            write_card(run, plan, info)
        return metrics


def use_threads() -> int:
    """torch's CPU threads: LLMP_THREADS when set (as chat, serve and eval honour it), else torch's own."""
    import torch

    from ..settings import get_settings

    threads = get_settings().threads
    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def _report_to() -> list[str]:
    from importlib.util import find_spec

    return ["tensorboard"] if find_spec("tensorboard") is not None else []


def start_run(plan: Plan) -> None:
    """Create (or reopen for --resume) the run folder and mark it running."""
    recipe = plan.recipe
    kind = "adapter" if recipe.finetuning in ("lora", "qlora") else "model"
    if not is_main_process():
        return
    plan.run.start(resume=plan.resume, overwrite=plan.overwrite, recipe_yaml=resolved_yaml(recipe), info={
        "name": recipe.name, "stage": recipe.stage, "base_model": plan.model.name,
        "base_path": str(plan.model.base_path.resolve()), "finetuning": recipe.finetuning, "kind": kind,
        "steps": 0, "metrics": {}})


def train(plan: Plan, progress: Callable[[dict], None] | None = None, *, started: bool = False) -> dict:
    """Run the plan's stage; the run folder ends `finished`, `stopped` (Ctrl-C) or `failed`."""
    if not started:
        start_run(plan)
    ctx = RunContext(plan, progress)
    try:
        return run_function(plan.recipe.stage)(plan.recipe, ctx)
    except TrainingStoppedError:
        raise
    except BaseException as e:
        if is_main_process():
            status = "stopped" if isinstance(e, KeyboardInterrupt) else "failed"
            plan.run.update_info(status=status, error=f"{type(e).__name__}: {e}"[:500])
        raise


def context_for(recipe: Recipe, ctx: RunContext | None) -> RunContext:
    """`run_<stage>(recipe)` called directly from Python plans and starts its own run."""
    if ctx is not None:
        return ctx
    plan = plan_run(recipe)
    start_run(plan)
    return RunContext(plan)


def run_pair_stage(recipe, ctx: RunContext | None, stage: str, config_name: str, trainer_name: str,
                   head: str = "causal") -> dict:
    """The shared body of the preference stages (rm, dpo, kto): load the model (LoRA or full),
    make sure it has a chat template, build the stage's pairs, train with TRL's trainer."""
    import trl

    from .data import build_dataset, ensure_chat_template

    ctx = context_for(recipe, ctx)
    model, tokenizer, peft_config = ctx.load_model(head=head)
    ensure_chat_template(tokenizer)
    dataset = build_dataset(stage, ctx.plan.records, ctx.plan.extras, pairs=recipe.pairs)
    args = ctx.trl_args(getattr(trl, config_name))
    trainer = getattr(trl, trainer_name)(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                                         peft_config=peft_config, callbacks=ctx.callbacks())
    return ctx.finish(trainer, tokenizer)
