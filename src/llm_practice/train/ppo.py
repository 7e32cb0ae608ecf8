"""PPO (the tutorial's RLHF): sample answers to prompts, score them with the reward model, update
the policy against a value model with a KL penalty towards the starting policy.

    llmp train recipes/rm-demo.yaml && llmp train recipes/ppo-demo.yaml

TRL removed its PPO trainer in 1.13, so this stage runs `trl.experimental.ppo` from TRL 1.12,
overlaid on the same environment (see `ppo_env.py`; `llmp train` switches to it by itself).
PPO needs a reward *model* (`reward_model: runs/RM`): TRL's PPO cannot call reward functions.
The value model starts from the reward model, as in TRL's own example. `max_steps` counts PPO
updates (`total_episodes = max_steps x batch size`). TRL's PPO trainer cannot resume.
"""

from __future__ import annotations

from .data import build_dataset, ensure_chat_template
from .grpo import RlRecipe
from .session import RunContext, context_for

PPO_DEFAULTS = {"response_length": 32, "num_ppo_epochs": 1, "num_mini_batches": 1,
                "per_device_train_batch_size": 4, "local_rollout_forward_batch_size": 4,
                "num_sample_generations": 0, "stop_token": "eos", "missing_eos_penalty": 1.0}


class PpoRecipe(RlRecipe):
    pass


def check_ppo(recipe: PpoRecipe, resume: bool) -> None:
    from ..errors import ConfigError

    if not recipe.reward_model:
        raise ConfigError("reward_model", "ppo needs a reward model",
                          "Train one with an rm recipe (llmp train recipes/rm-demo.yaml), then set "
                          "reward_model: runs/rm-demo. For reward functions use stage: grpo or rloo.")
    if recipe.rewards:
        raise ConfigError("rewards", "TRL's PPO trainer scores with the reward model only",
                          "Remove rewards:, or use stage: grpo / rloo, which combine both.")
    if resume:
        raise ConfigError("--resume", "TRL's PPO trainer cannot resume from a checkpoint",
                          "Start the run again with --overwrite (or use grpo/rloo, which resume).")


def run_ppo(recipe: PpoRecipe, ctx: RunContext | None = None) -> dict:
    from .ppo_env import import_trl_config
    from .model import torch_dtype
    from .rewards import load_reward_model

    PPOConfig = import_trl_config("trl.experimental.ppo:PPOConfig")
    PPOTrainer = import_trl_config("trl.experimental.ppo:PPOTrainer")
    ctx = context_for(recipe, ctx)
    check_ppo(recipe, ctx.plan.resume)
    model, tokenizer, peft_config = ctx.load_model()
    ensure_chat_template(tokenizer)
    tokenizer.padding_side = "left"  # PPO generates from the batch of prompts
    dtype = torch_dtype(recipe.dtype)
    reward_model, _ = load_reward_model(recipe.reward_model, dtype)
    value_model, _ = load_reward_model(recipe.reward_model, dtype)
    ref_model = None
    if peft_config is None:
        from transformers import AutoModelForCausalLM

        ref_model = AutoModelForCausalLM.from_pretrained(ctx.plan.model.base_path, dtype=dtype)
        if ctx.plan.model.adapter is not None:
            from peft import PeftModel

            ref_model = PeftModel.from_pretrained(ref_model, ctx.plan.model.adapter).merge_and_unload()
    rows = build_dataset("ppo", ctx.plan.records, ctx.plan.extras)
    dataset = rows.map(lambda row: {"input_ids": tokenizer.apply_chat_template(
        row["prompt"], add_generation_prompt=True, tokenize=True, return_dict=False)},
        remove_columns=rows.column_names)
    settings = dict(recipe.trainer)
    batch = int(settings.get("per_device_train_batch_size", PPO_DEFAULTS["per_device_train_batch_size"]))
    defaults = dict(PPO_DEFAULTS)
    if "total_episodes" not in settings and settings.get("max_steps", -1) > 0:
        defaults["total_episodes"] = int(settings["max_steps"]) * batch
    args = ctx.trl_args(PPOConfig, **defaults)
    if "total_episodes" in defaults:
        args.total_episodes = defaults["total_episodes"]
    trainer = PPOTrainer(args=args, processing_class=tokenizer, model=model, ref_model=ref_model,
                         reward_model=reward_model, value_model=value_model, train_dataset=dataset,
                         peft_config=peft_config, callbacks=ctx.callbacks())
    return ctx.finish(trainer, tokenizer)
