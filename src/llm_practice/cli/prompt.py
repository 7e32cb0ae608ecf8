"""`llmp prompt`: the formula, the template library, the linter and side-by-side comparison."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

LANG = click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
                    help="Template language (default: from LLMP_LANG / your locale).")
VAR_HELP = "A variable: --var name=value, or --var name=@file to read the value from a file. Repeatable."


def _lang(lang: str | None) -> str:
    from ..settings import get_settings

    return lang or get_settings().lang


def _vars(pairs: tuple[str, ...]) -> dict[str, str]:
    from ..errors import ConfigError

    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError("--var", f"'{pair}' is not name=value.", "Example: --var text='Hello world'")
        if value.startswith("@"):
            try:
                value = sys.stdin.read() if value == "@-" else Path(value[1:]).expanduser().read_text(encoding="utf-8")
            except OSError as e:
                raise ConfigError("--var", f"cannot read {value[1:]} ({e.strerror}).",
                                  "Check the path after '@'.") from e
        values[name.strip()] = value
    return values


@click.group()
def prompt() -> None:
    """Build, lint and compare prompts: the tutorial's formula and seven tips as tools.

    Example: llmp prompt render summarize --var text=@article.txt

    The shortest valid formula file (my.yaml) is one line; every other field is optional:

    \b
        task: Name the capital of France.

    A fuller one, with the shorthands (format: works as output:, lengths may be written out):

    \b
        role: a geography teacher
        task: Name the capital of the country in the input.
        input: "{country}"
        variables: [country]
        format: one word          # or json, table, list, numbered, text
        length: one word          # 100 words, 3-5 sentences, 一句话, 三段, 200字

    Then: llmp prompt render my.yaml --var country=France; llmp prompt lint my.yaml
    """


@prompt.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """List the bundled templates (each in English and Chinese).

    Example: llmp prompt list --json
    """
    from ..prompts.library import list_templates

    found = list_templates()
    if as_json:
        click.echo(json.dumps([t.to_json() for t in found], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "langs", "title", "variables")
    for t in found:
        table.add_row(t.name, ",".join(t.langs), t.title, " ".join(t.variables))
    Console().print(table)
    click.echo("Show one: llmp prompt show NAME [--lang zh]; fill it: llmp prompt render NAME --var k=v")


@prompt.command("show")
@click.argument("name")
@LANG
@click.option("--yaml", "as_yaml", is_flag=True, help="Print the template's YAML source (to copy and edit).")
def show_cmd(name: str, lang: str | None, as_yaml: bool) -> None:
    """Show a template (or prompt file) rendered with its {variables} left in place.

    Example: llmp prompt show translate --lang zh --yaml > my-translate.yaml
    """
    from ..prompts.formula import PromptSpec, render_prompt
    from ..prompts.library import find_prompt, template_path

    found = find_prompt(name, _lang(lang))
    if as_yaml:
        path = Path(name) if Path(name).is_file() else template_path(name, getattr(found, "lang", "en"))
        click.echo(path.read_text(encoding="utf-8") if path.is_file() else found.text, nl=False)
        return
    if isinstance(found, PromptSpec):
        click.echo(f"# {found.name} ({found.lang}): {found.title}")
        if found.description:
            click.echo(f"# {found.description}")
        variables = ", ".join(f"{k}" + (f" (default: {v})" if v is not None else " (required)")
                              for k, v in found.variables.items())
        click.echo(f"# variables: {variables or 'none'}\n")
        click.echo(render_prompt(found, keep_placeholders=True).text)
    else:
        click.echo(found.text)


@prompt.command("render")
@click.argument("name")
@click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE", help=VAR_HELP)
@LANG
@click.option("--messages", is_flag=True, help="Print chat messages (system + user) as JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print text, messages and variables as JSON.")
def render_cmd(name: str, pairs: tuple[str, ...], lang: str | None, messages: bool, as_json: bool) -> None:
    """Fill a template, YAML formula or text prompt with variables and print it.

    Example: llmp prompt render summarize --var text=@article.txt --var audience="new employees"
    """
    from ..prompts.library import find_prompt, render

    rendered = render(find_prompt(name, _lang(lang)), _vars(pairs))
    if as_json:
        click.echo(json.dumps(rendered.to_json(), ensure_ascii=False, indent=2))
    elif messages:
        click.echo(json.dumps(rendered.messages, ensure_ascii=False, indent=2))
    else:
        click.echo(rendered.text)


@prompt.command("lint")
@click.argument("files", nargs=-1, required=True)
@click.option("--strict", is_flag=True,
              help="Exit with status 1 when an error is found (for CI); advice never fails.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--var", "names", multiple=True, metavar="NAME",
              help="For text prompts: a variable you will fill (flags undefined and unused ones). Repeatable.")
@LANG
def lint_cmd(files: tuple[str, ...], strict: bool, as_json: bool, names: tuple[str, ...], lang: str | None) -> None:
    """Check prompts against the seven tips, injection risk, contradictions and variables.

    Errors are what a good prompt never has (no task, no role, undelimited inserted text, broken
    variables, contradictions); advice is a judgment call (length, format, examples, steps).

    FILES are YAML formulas, text prompts, template names, or - for stdin.

    \b
    Example: llmp prompt lint my-prompt.txt --strict
             echo "Tell me about dogs" | llmp prompt lint - --json
    """
    from ..prompts.library import TextPrompt, find_prompt
    from ..prompts.lint import lint_prompt
    from ..prompts.report import lint_text_report

    reports = []
    for item in files:
        found = find_prompt(item, _lang(lang))
        if lang and isinstance(found, TextPrompt):
            found.lang = lang
        source = "<stdin>" if item == "-" else item
        variables = [n.partition("=")[0] for n in names] if names else None
        reports.append(lint_prompt(found, source, variables))
    if as_json:
        data = [r.to_json() for r in reports]
        click.echo(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
    else:
        click.echo("\n\n".join(lint_text_report(r) for r in reports))
    if strict and any(not r.strict_ok for r in reports):
        raise click.exceptions.Exit(1)


@prompt.command("compare")
@click.argument("variants", nargs=-1, required=True)
@click.option("--inputs", "inputs_path", required=True, type=click.Path(dir_okay=False),
              help="Cases: YAML, JSON or JSONL with variables and optional checks per case.")
@click.option("--model", help="Local model name (default: the bundled one), or the model name at --base-url.")
@click.option("--base-url", help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1.")
@click.option("--api-key", envvar="OPENAI_API_KEY", help="API key for --base-url (default: $OPENAI_API_KEY).")
@click.option("--engine", help="Local engine: llama.cpp or transformers.")
@click.option("--judge-model", help="Model for `judge:` checks (default: the model being compared).")
@LANG
@click.option("--temperature", type=click.FloatRange(0, 2), default=0.0, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Fixed seed so reruns reproduce the table.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Requests in flight at once (local models run one at a time).")
@click.option("--no-cache", is_flag=True, help="Ignore and do not write cached answers.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="prompt-compare", show_default=True,
              help="Folder for compare.csv, compare.html and compare.json.")
@click.option("--json", "as_json", is_flag=True, help="Print the full results as JSON instead of a table.")
def compare_cmd(variants, inputs_path, model, base_url, api_key, engine, judge_model, lang, temperature,
                max_tokens, seed, concurrency, no_cache, out_dir, as_json) -> None:
    """Run prompt VARIANTS on every input, check the answers, and report them side by side.

    \b
    Example: llmp prompt compare short.txt detailed.yaml --inputs cases.yaml --max-tokens 64
             llmp prompt compare a.yaml b.yaml --inputs cases.jsonl --base-url http://127.0.0.1:8000/v1
    """
    from ..errors import ConfigError
    from ..prompts.backends import make_backend
    from ..prompts.compare import CompareConfig, compare_prompts, load_cases
    from ..prompts.library import find_prompt
    from ..atomic import atomic_write
    from ..prompts.report import write_csv, write_html

    named = {}
    for item in variants:
        key = Path(item).stem if Path(item).is_file() else item
        if key in named:
            raise ConfigError("VARIANTS", f"two variants are both called '{key}'.", "Rename one of the files.")
        named[key] = find_prompt(item, _lang(lang))
    cases = load_cases(inputs_path)
    config = CompareConfig(temperature=temperature, max_tokens=max_tokens, seed=seed,
                           concurrency=concurrency, use_cache=not no_cache)
    backend = make_backend(model, base_url, engine, api_key)
    judge = make_backend(judge_model, base_url, engine, api_key) if judge_model else None
    try:
        report = compare_prompts(named, cases, backend, config, judge=judge)
    finally:
        backend.close()
    out = Path(out_dir)
    csv_path, html_path = write_csv(report, out / "compare.csv"), write_html(report, out / "compare.html")
    atomic_write(out / "compare.json", json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print_table(report)
    click.echo(f"Wrote {csv_path}, {html_path} and {out / 'compare.json'}")


def _print_table(report) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..prompts.report import MARK

    table = Table(show_lines=True)
    for header in ("case", *report.variants):
        table.add_column(Text(header))
    for case in report.cases:
        cells = []
        for variant in report.variants:
            r = report.cell(case, variant)
            text = r.error or r.output.strip()
            text = text[:300] + ("…" if len(text) > 300 else "")
            checks = " ".join(f"{MARK[c.passed]}{c.kind}" for c in r.checks)
            cells.append(Text(f"{text}\n[{MARK[r.passed]}] {checks}".rstrip()))
        table.add_row(Text(case), *cells)
    summary = "  ".join(f"{s['variant']}: {s['passed']}/{s['checked']} cases, {s['checks_passed']}/"
                        f"{s['checks_total']} checks, {s['mean_latency_s']}s avg, {s['cached']} cached"
                        for s in report.summary())
    console = Console()
    console.print(table, markup=False)
    console.print(summary, markup=False)
