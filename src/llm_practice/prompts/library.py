"""The bundled template library, and one way to open any prompt: template name, YAML file or text.

Templates live in `library/<lang>/<name>.yaml` (package data), one file per language, so a
Chinese and an English version of `summarize` are two files that share a name.

    spec = find_prompt("summarize", lang="zh")      # a template
    spec = find_prompt("my-prompt.yaml")            # your own formula
    text = find_prompt("plain.txt")                 # a plain-text prompt with {variables}
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import PromptFileError, PromptNotFoundError, PromptVariableError
from .formula import PromptSpec, RenderedPrompt, is_formula_file, load_prompt, substitute, variables_in

LIBRARY = Path(__file__).parent / "library"


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    langs: tuple[str, ...]
    title: str
    tags: tuple[str, ...]
    variables: tuple[str, ...]

    def to_json(self) -> dict:
        return {"name": self.name, "langs": list(self.langs), "title": self.title,
                "tags": list(self.tags), "variables": list(self.variables)}


@dataclass
class TextPrompt:
    """A plain-text prompt: the whole text is the user message; every `{name}` is required."""

    name: str
    text: str
    lang: str = "en"

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(variables_in(self.text)))

    def render(self, values: dict[str, str] | None = None, *, strict: bool = True) -> RenderedPrompt:
        values = values or {}
        missing = [v for v in self.variables if v not in values]
        unused = [v for v in values if v not in self.variables] if strict else []
        if missing or unused:
            raise PromptVariableError(self.name, missing, unused, self.variables)
        return RenderedPrompt(self.name, self.lang, "", substitute(self.text, values).strip(),
                              dict(values))


AnyPrompt = PromptSpec | TextPrompt


def render(prompt: AnyPrompt, values: dict[str, str] | None = None, *, strict: bool = True) -> RenderedPrompt:
    if isinstance(prompt, TextPrompt):
        return prompt.render(values, strict=strict)
    from .formula import render_prompt

    return render_prompt(prompt, values, strict=strict)


def template_path(name: str, lang: str) -> Path:
    return LIBRARY / lang / f"{name}.yaml"


def list_templates() -> list[TemplateInfo]:
    by_name: dict[str, list[PromptSpec]] = {}
    for path in sorted(LIBRARY.glob("*/*.yaml")):
        by_name.setdefault(path.stem, []).append(load_prompt(path))
    infos = []
    for name, specs in sorted(by_name.items()):
        en = next((s for s in specs if s.lang == "en"), specs[0])
        infos.append(TemplateInfo(name, tuple(sorted(s.lang for s in specs)), en.title,
                                  tuple(en.tags), tuple(en.variables)))
    return infos


def template_names() -> list[str]:
    return sorted({p.stem for p in LIBRARY.glob("*/*.yaml")})


def find_prompt(name_or_path: str, lang: str = "en") -> AnyPrompt:
    """A template by name (in `lang`, falling back to the other language), or a file, or '-' (stdin)."""
    if name_or_path == "-":
        return read_prompt_text(sys.stdin.read(), "stdin")
    path = Path(name_or_path).expanduser()
    if path.is_file():
        if is_formula_file(path):
            return load_prompt(path)
        try:
            return read_prompt_text(path.read_text(encoding="utf-8"), path.stem)
        except (OSError, UnicodeDecodeError) as e:
            raise PromptFileError(path, f"cannot read it ({e}).", "Prompt files must be UTF-8 text.") from e
    for candidate in (lang, *(other for other in ("en", "zh") if other != lang)):
        if template_path(name_or_path, candidate).is_file():
            return load_prompt(template_path(name_or_path, candidate))
    if path.suffix:
        raise PromptFileError(path, "no such file.", "Check the path (or use a template name from "
                              "`llmp prompt list`).")
    raise PromptNotFoundError(name_or_path, template_names())


def read_prompt_text(text: str, name: str) -> AnyPrompt:
    """Text that looks like a YAML formula (has a top-level `task:`) is parsed as one."""
    from .formula import parse_prompt

    stripped = text.lstrip()
    if stripped.startswith("task:") or "\ntask:" in text:
        spec = parse_prompt(text, name)
        return spec
    return TextPrompt(name, text, detect_lang(text))


def detect_lang(text: str) -> str:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    letters = sum(1 for ch in text if ch.isalpha())
    return "zh" if letters and cjk / letters > 0.2 else "en"
