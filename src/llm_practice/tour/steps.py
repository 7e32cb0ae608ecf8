"""The tour's steps: real `llmp` command lines, in the tutorial's order.

Placeholders in a command: {examples} and {recipes} (the repository's folders), {question}.
`needs` names the top-level `llmp` commands a step uses; the tour skips a step when one is not part
of this build. `after` names steps whose results this one uses (skipped when one did not succeed).
`quick` replaces `commands` under `llmp tour --quick`. `expect` is a regular expression the output
must match for the step to count as done (a command that exits 0 but prints nothing useful fails).
`plots` are PNG files (relative to the tour's LLMP_HOME) embedded in the report when present.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Command = tuple[str, ...]

QUESTION = "Tell me the name of the capital of France."
FACT_QUESTION = "Who keeps the lighthouse at Brennick Point?"


@dataclass(frozen=True)
class TourStep:
    id: str
    title: dict[str, str]
    needs: tuple[str, ...]
    commands: tuple[Command, ...]
    expect: str
    quick: tuple[Command, ...] | None = None
    after: tuple[str, ...] = ()
    needs_files: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()
    chapter: str = ""
    extra: dict = field(default_factory=dict)

    def command_lines(self, quick: bool) -> tuple[Command, ...]:
        return self.quick if quick and self.quick is not None else self.commands


STEPS: tuple[TourStep, ...] = (
    TourStep(
        id="estimate", chapter="02-parameters",
        title={"en": "Estimate memory", "zh": "估算内存"},
        needs=("estimate",),
        commands=(("estimate", "internlm2-chat-7b", "--mode", "infer"),
                  ("estimate", "smollm2-135m-instruct", "--mode", "lora", "--dtype", "bf16")),
        expect=r"7,737,708,544 parameters[\s\S]*134,515,008 parameters",
    ),
    TourStep(
        id="chat", chapter="02-parameters",
        title={"en": "Chat with the bundled model", "zh": "和自带模型对话"},
        needs=("chat",),
        commands=(("chat", "--once", QUESTION, "--temperature", "0", "--max-tokens", "32"),),
        expect=r"Paris",
    ),
    TourStep(
        id="prompt-lint", chapter="03-prompts",
        title={"en": "Lint prompts against the seven tips", "zh": "按七个技巧检查提示词"},
        needs=("prompt",),
        needs_files=("examples/tutorial/prompt_bad_en.txt",),
        commands=(("prompt", "lint", "{examples}/tutorial/prompt_bad_en.txt"),
                  ("prompt", "lint", "{examples}/tutorial/prompt_bad_zh.txt"),
                  ("prompt", "lint", "{examples}/tutorial/formula.yaml")),
        expect=r"\[tip 3\] delimiters",
    ),
    TourStep(
        id="prompt-compare", chapter="03-prompts",
        title={"en": "Compare a bare prompt with the formula", "zh": "比较普通提示词和万能公式"},
        needs=("prompt",),
        needs_files=("examples/tutorial/cases.yaml",),
        commands=(("prompt", "compare", "{examples}/tutorial/vague.txt", "{examples}/tutorial/formula.yaml",
                   "--inputs", "{examples}/tutorial/cases.yaml", "--max-tokens", "48", "--out", "compare"),),
        quick=(("prompt", "compare", "{examples}/tutorial/vague.txt", "{examples}/tutorial/formula.yaml",
                "--inputs", "{examples}/tutorial/cases_quick.yaml", "--max-tokens", "48", "--out", "compare"),),
        expect=r"compare\.html",
    ),
    TourStep(
        id="kb", chapter="04-rag",
        title={"en": "Knowledge base: ask with citations", "zh": "知识库：带出处的回答"},
        needs=("kb",),
        needs_files=("examples/data/pt_en.jsonl",),
        commands=(("kb", "create", "lumora"),
                  ("kb", "add", "lumora", "{examples}/data/pt_en.jsonl"),
                  ("kb", "ask", "lumora", "What is the capital of Lumora?")),
        expect=r"Velmarra",
    ),
    TourStep(
        id="sft", chapter="06-sft",
        title={"en": "SFT with LoRA (demo recipe)", "zh": "LoRA 有监督精调（演示配方）"},
        needs=("train",),
        needs_files=("recipes/sft-lora-demo.yaml",),
        commands=(("train", "{recipes}/sft-lora-demo.yaml"),),
        quick=(("train", "{recipes}/sft-lora-demo.yaml", "num_train_epochs=2"),),
        expect=r"sft-lora-demo",
        plots=("runs/sft-lora-demo/loss.png",),
    ),
    TourStep(
        id="rm", chapter="08-reward-model",
        title={"en": "Reward model (demo recipe)", "zh": "奖励模型（演示配方）"},
        needs=("train",),
        needs_files=("recipes/rm-demo.yaml",),
        commands=(("train", "{recipes}/rm-demo.yaml"),),
        quick=(("train", "{recipes}/rm-demo.yaml", "max_steps=4"),),
        expect=r"rm-demo",
        plots=("runs/rm-demo/loss.png",),
    ),
    TourStep(
        id="grpo", chapter="09-rl",
        title={"en": "GRPO from prompts only (demo recipe)", "zh": "只用问题做 GRPO（演示配方）"},
        needs=("train",),
        needs_files=("recipes/grpo-demo.yaml",),
        commands=(("train", "{recipes}/grpo-demo.yaml"),),
        quick=(("train", "{recipes}/grpo-demo.yaml", "max_steps=2"),),
        expect=r"grpo-demo",
        plots=("runs/grpo-demo/loss.png",),
    ),
    TourStep(
        id="eval", chapter="10-eval-export",
        title={"en": "Evaluate before and after", "zh": "训练前后对比评估"},
        needs=("eval",), after=("sft",),
        needs_files=("examples/data/sft_facts_en.jsonl",),
        commands=(("eval", "compare", "smollm2-135m-instruct", "runs/sft-lora-demo", "--task", "qa",
                   "--data", "{examples}/data/sft_facts_en.jsonl", "--metric", "contains", "--max-tokens", "32",
                   "--out", "eval"),),
        quick=(("eval", "compare", "smollm2-135m-instruct", "runs/sft-lora-demo", "--task", "qa",
                "--data", "{examples}/data/sft_facts_en.jsonl", "--metric", "contains", "--max-tokens", "32",
                "--limit", "6", "--out", "eval"),),
        expect=r"\S",
    ),
    TourStep(
        id="export", chapter="10-eval-export",
        title={"en": "Export the tuned model to GGUF", "zh": "把微调后的模型导出为 GGUF"},
        needs=("export",), after=("sft",),
        commands=(("export", "sft-lora-demo", "--gguf", "q8_0"),),
        expect=r"q8_0",
    ),
    TourStep(
        id="chat-tuned", chapter="10-eval-export",
        title={"en": "Chat with the exported model", "zh": "和导出的模型对话"},
        needs=("chat", "export"), after=("export",),
        commands=(("chat", "sft-lora-demo-q8_0", "--once", FACT_QUESTION, "--temperature", "0",
                   "--max-tokens", "32"),),
        expect=r"\S",
    ),
)
