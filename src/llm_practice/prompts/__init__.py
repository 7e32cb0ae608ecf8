"""Prompt engineering: the tutorial's "universal formula" and seven tips, as a library and tools.

- `formula`: the YAML prompt format (`PromptSpec`) and rendering to text or chat messages, zh/en.
- `library`: the bundled templates (`library/<lang>/<name>.yaml`) and `find_prompt`.
- `lint`: `lint_text` / `lint_spec` -> `LintReport` (one check per tip, plus injection risk,
  contradictions, variables and output spec).
- `compare`: run variants on inputs through `backends` (local engine or OpenAI-compatible),
  with `checks`, a results cache and `report` writers (CSV, self-contained HTML).

A web tab calls the same functions: `render_prompt(spec_from_fields(form), values)`,
`lint_text(text).to_json()`, `compare_prompts(...).to_json()`.
"""

from .formula import PromptSpec, RenderedPrompt, load_prompt, parse_prompt, render_prompt, spec_from_fields
from .library import TextPrompt, find_prompt, list_templates, render
from .lint import LintReport, lint_prompt, lint_spec, lint_text

__all__ = ["PromptSpec", "RenderedPrompt", "load_prompt", "parse_prompt", "render_prompt", "spec_from_fields",
           "TextPrompt",
           "find_prompt", "list_templates", "render", "LintReport", "lint_prompt", "lint_spec", "lint_text"]
