"""The prompt linter: the tutorial's seven tips, plus injection risk, contradictions and variables.

    report = lint_text("Summarize this article: ...")       # a plain prompt, zh or en
    report = lint_spec(load_prompt("summarize.yaml"))       # a formula (linted as rendered)
    report.ok, report.tips, report.findings                 # typed results, `to_json()` for APIs

Each finding names its check and tip, the offending span (start/end offsets into the linted
text, plus line and the text itself), why it matters and a concrete rewrite hint, in the
prompt's own language. Absence findings ("no role") point at the task line, where the fix goes.
The checks are heuristics on words and layout, so `docs/benchmarks.md` reports how often they
fire on a set of good prompts (false positives) as well as on bad ones.

Two levels, so that precision holds on prompts the rules were never tuned on:
- "error": what a well-written prompt can never contain: no task at all, no role anywhere (found
  generously: any role wording counts), inserted text or a text placeholder with no delimiters,
  variables that do not match, contradictory instructions joined in one phrase. `--strict` fails
  only on these (`report.strict_ok`).
- "advice": judgment calls (is a length needed here? does this format need an example? are these
  verbs steps or one action?). Reported with span, why and fix, never a `--strict` failure.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from . import cues
from .formula import PromptSpec, check_variables, render_prompt
from .messages import MESSAGES, NOT_APPLICABLE
from .contradictions import check_contradictions
from .task import clauses, not_a_verb, read_task

P = cues.compile_all()
# The rules' version: the benchmark reports false positives per version, and any change to a rule
# or a word list means a new version and a fresh held-out set (docs/benchmarks.md).
RULES_VERSION = "2026-11-30.6"

# check -> (tip number or None, English name, Chinese name)
CHECKS: dict[str, tuple[int | None, str, str]] = {
    "vague": (1, "be specific, not vague", "提示词不要太笼统"),
    "role": (2, "give the model a role", "让大模型扮演一个角色"),
    "delimiters": (3, "delimit inserted text", "恰当地使用分隔符"),
    "steps": (4, "spell out the steps", "指定完成任务所需的步骤"),
    "examples": (5, "give examples", "提供例子"),
    "length": (6, "specify the output length", "指定输出长度"),
    "format": (7, "limit the output format", "限定输出格式"),
    "contradiction": (None, "no contradictory instructions", "指令不要互相矛盾"),
    "variables": (None, "variables defined and used", "变量都有定义且被使用"),
    "output-spec": (None, "spell out structured output", "结构化输出要写清标签或字段"),
}
# The default level of each check's findings; a rule may pass another (see the module docstring).
SEVERITY = {"delimiters": "error", "variables": "error", "contradiction": "error", "role": "error"}
# For a YAML formula: the field where each fix goes (a web form highlights it).
FIELD_FOR_CHECK = {"vague": "task", "role": "role", "delimiters": "input", "steps": "steps",
                   "examples": "examples", "length": "length", "format": "output", "output-spec": "output"}


@dataclass
class Span:
    start: int
    end: int
    line: int
    text: str


@dataclass
class Finding:
    check: str
    tip: int | None
    severity: str  # "error" (fails --strict) | "advice" (a judgment call)
    span: Span
    why: str
    hint: str
    field: str | None = None


@dataclass
class LintReport:
    source: str
    lang: str
    text: str  # what the spans point into (the rendered formula for YAML prompts)
    findings: list[Finding] = field(default_factory=list)
    applicable: dict[str, bool] = field(default_factory=dict)  # check -> does it apply here
    reasons: dict[str, str] = field(default_factory=dict)  # check -> why it does not apply (n/a)

    @property
    def ok(self) -> bool:
        """No findings at all, advice included."""
        return not self.findings

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def strict_ok(self) -> bool:
        """Passes `--strict`: no finding a well-written prompt could not have (advice does not count)."""
        return not self.errors

    @property
    def tips(self) -> list[dict]:
        """For each check: pass / fail / n/a (does not apply to this prompt)."""
        failed = {f.check for f in self.errors}
        advised = {f.check for f in self.findings}
        rows = []
        for check, (tip, en, zh) in CHECKS.items():
            status = ("fail" if check in failed else "advice" if check in advised
                      else "pass" if self.applicable.get(check, True) else "n/a")
            rows.append({"check": check, "tip": tip, "name": zh if self.lang == "zh" else en, "status": status,
                         "reason": self.reasons.get(check, "") if status == "n/a" else ""})
        return rows

    def to_json(self) -> dict:
        return {"source": self.source, "lang": self.lang, "rules": RULES_VERSION, "ok": self.ok,
                "strict_ok": self.strict_ok,
                "tips": self.tips, "findings": [asdict(f) for f in self.findings], "text": self.text}


class _Doc:
    """The prompt text with its delimited regions and example sections located."""

    def __init__(self, text: str, lang: str):
        self.text = text
        self.lang = lang
        self.delimited = _delimited_regions(text)
        self.examples = _example_regions(text)
        self.instructions = _blank(text, [*self.delimited, *self.examples])
        self.inserted = _inserted_regions(self)  # undelimited text announced by "the following ...:"
        self.instructions = _blank(self.instructions, [r for r, ok in self.inserted if not ok])
        # the instructions with short quotes kept: '只输出“是”或“否”', 'reply "yes" or "no"'
        self.prose = _blank(text, [*_delimited_regions(text, quotes=False), *self.examples,
                                   *(r for r, ok in self.inserted if not ok)])
        self.task = read_task(self.instructions, self.prose, text, lang)

    def span(self, start: int, end: int) -> Span:
        return Span(start, end, self.text.count("\n", 0, start) + 1, self.text[start:end])

    def task_span(self) -> Span:
        match = re.search(r"\S(?:[^\n]*\S)?", self.instructions)
        return self.span(*match.span()) if match else self.span(0, 0)

    def find(self, name: str, negatable: bool = True) -> list[re.Match]:
        """Matches in the instructions; `negatable` drops those after "do not" / "不要"."""
        return [m for m in P[name][self.lang].finditer(self.instructions)
                if not (negatable and self.negated(m.start()))]

    def negated(self, at: int) -> bool:
        return bool(cues.NEGATION[self.lang].search(self.instructions[max(0, at - 24):at]))

    def inside(self, start: int, end: int, regions: list[tuple[int, int]]) -> bool:
        return any(s <= start and end <= e for s, e in regions)


def _delimited_regions(text: str, quotes: bool = True) -> list[tuple[int, int]]:
    patterns = [r"```.*?```", r'""".*?"""', r"'''.*?'''", r"<([A-Za-z_][\w-]*)>(?:(?!<\1>).)*?</\1>",
                r"(?m)^-{3,}\s*$.*?^-{3,}\s*$", r"(?m)^={3,}\s*$.*?^={3,}\s*$", r"(?m)^\*{3,}\s*$.*?^\*{3,}\s*$",
                r"(?m)^~~~.*?^~~~", r"<<<.*?>>>", r"\[\[\[.*?\]\]\]"]
    if quotes:  # short quotes delimit a quoted phrase; they are not instructions
        patterns += [r"\"[^\"\n]*\"", r"“[^”]*”", r"「[^」]*」", r"【[^】]*】"]
    # a fence named in the prose ("the ```python block below", "```sql 代码块中") opens nothing
    named = _blank(text, [m.span() for m in re.finditer(_FENCE_NAMED, text)])
    regions = [m.span() for p in patterns for m in re.finditer(p, named, re.S) if not _instruction_tag(m, text)]
    for m in re.finditer(r"(?m)^###[^\n]*\n", text):  # ### sections run to the next ### line
        if re.search(cues.INSTRUCTION_HEADING, m.group(0)):
            continue  # "### Task", "### 输出格式": the prompt's own instructions, not data
        nxt = re.compile(r"(?m)^###").search(text, m.end())
        regions.append((m.start(), nxt.end() if nxt else len(text)))
    return regions


def _instruction_tag(m: re.Match, text: str) -> bool:
    """<instructions>...</instructions> holds the prompt's own instructions, unless it holds only a
    {placeholder} or the prose points at it as data ("the steps in <steps> tags", "<steps> 标签中的步骤")."""
    if not (m.re.groups and m.group(1) and re.fullmatch(cues.INSTRUCTION_TAGS, m.group(1))):
        return False
    body = m.group(0)[len(m.group(1)) + 2:-(len(m.group(1)) + 3)]
    pointed = re.search(rf"<{re.escape(m.group(1))}>\s*(tags?|标签)", text)
    return not (re.fullmatch(r"\s*(\{[A-Za-z_]\w*\}\s*)+", body) or pointed)


_FENCE_NAMED = r"(?i)```\w*(?=[ \t]*(code )?(block|fence|snippet)\b|[ \t]*(代码)?块)"


def _blank(text: str, regions: list[tuple[int, int]]) -> str:
    """Same offsets, the regions replaced by spaces (so matches never reach into inserted text)."""
    chars = list(text)
    for start, end in regions:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _inserted_regions(doc: "_Doc") -> list[tuple[tuple[int, int], bool]]:
    """((start, end), delimited?) for each piece of text the prompt announces as inserted."""
    found = []
    for lead in P["INSERT_LEAD"][doc.lang].finditer(doc.instructions):
        inserted = re.search(r"\S.*", doc.text[lead.end():], re.S)
        if not inserted:
            continue
        start, end = lead.end() + inserted.start(), len(doc.text.rstrip())
        visible = [i for i in range(start, end) if not doc.text[i].isspace()]
        covered = sum(1 for i in visible if any(s <= i < e for s, e in doc.delimited))
        starts_delimited = any(s <= start < e for s, e in doc.delimited)  # "the sentence: <s>...</s> Keep ..."
        ok = len(visible) < 12 or starts_delimited or covered / len(visible) >= 0.8 or "{" in doc.text[start:end]
        found.append(((start, end), ok))
    return found


def _example_regions(text: str) -> list[tuple[int, int]]:
    regions = []
    for head in re.finditer(cues.EXAMPLE_HEAD, text):
        end = head.end()
        for para in re.finditer(r"(?s)(.*?)(\n\s*\n|\Z)", text[head.end():]):
            body = para.group(1)
            if para.start() and not re.match(cues.EXAMPLE_LINE, body.lstrip("\n")):
                break
            end = head.end() + para.end()
            if not para.group(0):
                break
        regions.append((head.start(), end))
    return regions


def lint_text(text: str, lang: str | None = None, *, variables: list[str] | None = None,
              source: str = "<prompt>") -> LintReport:
    """Lint a plain prompt. `variables`: the names the caller will fill (to catch undefined/unused)."""
    from .library import detect_lang

    # the prompt's language is its instructions' (an English prompt may hold Chinese text to translate)
    instructions = _blank(text, _delimited_regions(text))
    doc = _Doc(text, lang or detect_lang(instructions if re.search(r"[^\W\d_]", instructions) else text))
    report = LintReport(source, doc.lang, text)
    for check in RULES.values():
        check(doc, report)
    _check_placeholders(doc, report, variables)
    report.findings.sort(key=_rank)
    return report


# Findings come most important first: errors, then the tips in the tutorial's order.
_ORDER = {check: i for i, check in enumerate(["contradiction", "delimiters", "variables", "vague", "role", "steps",
                                               "examples", "output-spec", "length", "format"])}


def _rank(finding: Finding) -> tuple[int, int, int]:
    return (finding.severity != "error", _ORDER.get(finding.check, 99), finding.span.start)


def _not_applicable(doc: "_Doc", report: LintReport, check: str, reason: str) -> None:
    report.applicable[check] = False
    report.reasons[check] = NOT_APPLICABLE[reason][doc.lang]


def lint_spec(spec: PromptSpec, source: str | None = None) -> LintReport:
    """Lint a formula as it renders (variables kept as `{name}`), plus its variable declarations."""
    text = render_prompt(spec, keep_placeholders=True).text
    report = lint_text(text, spec.lang, variables=None, source=source or spec.name)
    doc = _Doc(text, spec.lang)
    undefined, unused = check_variables(spec)
    for name, where in undefined.items():
        _add_var(doc, report, name, f"{{{name}}} is used in '{where}' but not declared under variables:",
                 f"Add it: 'variables: {{{name}: null}}' (null = required), or remove it from '{where}'.",
                 f"{{{name}}} 在“{where}”中使用，但没有在 variables: 中声明。",
                 f"在 variables: 中加上 {name}（null 表示必填），或从“{where}”中删掉它。", where)
    for name in unused:
        _add_var(doc, report, name, f"'{name}' is declared under variables: but no field uses {{{name}}}.",
                 f"Use {{{name}}} in the task or input, or remove it from variables:.",
                 f"variables: 中声明了 {name}，但没有任何字段使用 {{{name}}}。",
                 f"在任务或输入中使用 {{{name}}}，或从 variables: 中删掉它。", "variables")
    for finding in report.findings:
        finding.field = finding.field or FIELD_FOR_CHECK.get(finding.check)
    return report


def _add(doc: _Doc, report: LintReport, check: str, span: Span, field_: str | None = None,
         severity: str | None = None, **fill) -> None:
    why, hint = MESSAGES[check][doc.lang]
    fill.setdefault("span", span.text.strip()[:80])
    report.findings.append(Finding(check, CHECKS[check][0], severity or SEVERITY.get(check, "advice"), span,
                                   why.format(**fill), hint.format(**fill), field_))


def _add_var(doc, report, name, en_why, en_fix, zh_why, zh_fix, where) -> None:
    match = re.search(re.escape(f"{{{name}}}"), doc.text)
    span = doc.span(*match.span()) if match else doc.task_span()
    problem, fix = (zh_why, zh_fix) if doc.lang == "zh" else (en_why, en_fix)
    _add(doc, report, "variables", span, where, problem=problem, fix=fix)


def _check_vague(doc: _Doc, report: LintReport) -> None:
    short = 6 if doc.lang == "en" else 10
    if _size(doc.instructions, doc.lang) < short:
        # No task at all ("Explain inflation."): an error, unless the whole text is long (then the
        # instructions may sit where the linter cannot tell them from data: advice).
        sure = _size(doc.text, doc.lang) < 3 * short
        _add(doc, report, "vague", doc.task_span(), severity="error" if sure else "advice")
        return
    for m in [m for m in doc.find("VAGUE") if not (_after_a_list(doc, m) or _conditional(doc, m))][:3]:
        _add(doc, report, "vague", doc.span(*m.span()))


def _size(text: str, lang: str) -> int:
    """Words, counting a Chinese character as a word in English prompts and an English word as two
    characters in Chinese ones (mixed prompts are common)."""
    latin, cjk = len(re.findall(r"[A-Za-z]+", text)), len(re.findall(r"[\u4e00-\u9fff]", text))
    return latin + cjk if lang == "en" else cjk + 2 * latin


def _conditional(doc: _Doc, m: re.Match) -> bool:
    """'如果资料中没有相关内容' / 'if nothing is relevant': the words describe a case, not the task."""
    spans = clauses(doc.instructions, doc.lang)
    start = next((s for s, e in spans if s <= m.start() <= e), m.start())
    return bool(P["CONDITIONAL"][doc.lang].search(doc.instructions[start:m.start()]))


def _after_a_list(doc: _Doc, m: re.Match) -> bool:
    """'dates, names, etc.' / '时间、地点等等': the items are named, so the "etc." is not vague."""
    if not re.fullmatch(r"(?i)etc\.?|and so on|等等|之类的?", m.group(0)):
        return False
    return len(re.findall(r",\s|、|，", doc.instructions[max(0, m.start() - 40):m.start()])) >= 2


def _check_role(doc: _Doc, report: LintReport) -> None:
    # Present is generous: any role wording anywhere in the text counts ("As our support bot, ...",
    # "以资深编辑的口吻"); only a prompt with none at all gets the (strict) finding.
    if doc.find("ROLE", False) or any(p.search(doc.text) for p in P["ROLE_ANY"].values()):  # a mixed prompt too
        return
    lowered = doc.instructions.lower()
    table = cues.ROLE_FOR_VERB[doc.lang]
    role = next((r for key, r in table.items() if key in lowered),
                "an expert in the subject who explains clearly" if doc.lang == "en" else "一名该领域的资深专家")
    _add(doc, report, "role", doc.task_span(), role=role)


def _check_delimiters(doc: _Doc, report: LintReport) -> None:
    # An error for text that is surely inserted: a placeholder named like a text ({article}, {user_text})
    # inside a sentence (not on a line of its own or after a label, "Review: {review}"), or a passage of
    # 50 characters (25 in Chinese) or more after "the following ...:" in a prompt with no delimiters at all.
    # A placeholder in an output template ("reply in this format: {title} - {year}") is a slot: advice.
    # Any other placeholder outside delimiters ({product_note}) may be a short parameter: advice.
    found = False
    for m in re.finditer(r"(?<![{$])\{([A-Za-z_]\w*)\}(?!\})", doc.text):
        if m.group(1).lower() in cues.PARAMETERS:
            continue  # a short parameter ("{language}"), not inserted text
        if not doc.inside(*m.span(), doc.delimited) and not doc.inside(*m.span(), doc.examples):
            line = doc.text[:m.start()].split("\n")[-1]
            after = doc.text[m.end():].split("\n")[0]
            own_line = not line.strip() and not after.strip()  # "Text:\n{text}": set off by its own line
            labelled = own_line or re.fullmatch(r"\s*[-*#>]*\s*(\w+[ '-]?){1,3}\s*[:：]\s*|\s*[-*#>]*\s*[\u4e00-\u9fff]{1,8}\s*[:：]\s*", line)
            slot = any(b.start() < m.start() for b in re.finditer(cues.FORMAT_BLOCK[doc.lang], doc.text, re.I | re.M))
            wrapped = (doc.text[max(0, m.start() - 1):m.start()] in "'‘`《『[(（<"
                       and doc.text[m.end():m.end() + 1] in "'’`》』])）>" and m.start() and m.end() < len(doc.text))
            sure = _text_name(m.group(1)) and not (labelled or slot or wrapped)  # "Review: {review}": a field
            _add(doc, report, "delimiters", doc.span(*m.span()), severity="error" if sure else "advice")
            found = True
    for (start, end), delimited in doc.inserted:
        found = True
        if not delimited:
            visible = sum(1 for c in doc.text[start:end] if not c.isspace())
            # no delimiter anywhere in the prompt: surely undelimited; otherwise what follows the colon may be
            # more instructions before the delimited text ("... these issues: races, leaks. ```go ...```")
            sure = visible >= (50 if doc.lang == "en" else 25) and not doc.delimited
            _add(doc, report, "delimiters", doc.span(start, end), severity="error" if sure else "advice")
    if not (found or doc.delimited):
        _not_applicable(doc, report, "delimiters", "no-input")


def _text_name(name: str) -> bool:
    """{article}, {user_text}, {review_body}: the name says a passage of text goes there."""
    return any(part in cues.TEXT_NAMES for part in re.split(r"_+", name.lower()))


def _check_steps(doc: _Doc, report: LintReport) -> None:
    # Several actions, or two different actions chained in order ("translate, then summarise"), need
    # steps; parallel parts of one answer ("explain X and give an example"), one action whose answer
    # ends with a closing part ("..., 最后用一行给出总体评价") and constraints do not.
    verbs, sequenced = doc.task.actions, doc.task.sequenced
    if not (len(verbs) >= 3 or (len(verbs) >= 2 and sequenced)):
        _not_applicable(doc, report, "steps", "single-action")
        return
    if doc.task.steps_given:
        return
    if doc.lang == "en":
        steps = " ".join(f"{i}. {v.capitalize()} ..." for i, v in enumerate(verbs[:4], 1))
    else:
        steps = " ".join(f"第{'一二三四'[i]}步：{v}……" for i, v in enumerate(verbs[:4]))
    sep = ", " if doc.lang == "en" else "、"
    _add(doc, report, "steps", doc.task_span(), verbs=sep.join(verbs[:4]), steps=steps)


def _check_examples(doc: _Doc, report: LintReport) -> None:
    needs = [m for m in doc.find("FORMAT_MATTERS") if _about_output(doc, m)]
    if not needs:
        _not_applicable(doc, report, "examples", "label" if doc.task.kind == "label" else "free-text")
    elif doc.task.kind == "label" and P["OUTPUT_SPEC"][doc.lang].search(doc.prose):
        _not_applicable(doc, report, "examples", "label")  # the labels are spelled out: they are the template
    elif doc.task.template:
        _not_applicable(doc, report, "examples", "template")
    elif not doc.examples and not P["EXAMPLES"][doc.lang].search(doc.text):
        _add(doc, report, "examples", doc.span(*needs[0].span()))


def _about_output(doc: _Doc, m: re.Match) -> bool:
    """A format word about the answer ("reply with JSON"), not about the input ("the CSV rows in <data>")."""
    if re.fullmatch(cues.STRUCTURED_TASK[doc.lang], m.group(0), re.I):
        # only this sentence counts: the role sentence before it ("你是……。") is not a constraint on it
        before = re.split(r"[。！？；;\n]|[.!?](?=\s)", doc.instructions[max(0, m.start() - 24):m.start()])[-1]
        return not (P["CONSTRAINT"][doc.lang].search(before) or not_a_verb(before, doc.lang))  # "write a label"
    before = doc.instructions[max(0, m.start() - 30):m.start()]
    after = doc.instructions[m.end():m.end() + 12]
    return bool(re.search(cues.OUTPUT_BEFORE[doc.lang], before, re.I)
                or re.search(cues.OUTPUT_AFTER[doc.lang], after, re.I))


def _check_length(doc: _Doc, report: LintReport) -> None:
    if doc.task.kind != "open":
        _not_applicable(doc, report, "length", doc.task.kind)
    elif doc.delimited and doc.find("ALL_ITEMS"):
        _not_applicable(doc, report, "length", "all-items")
    elif not doc.find("LENGTH", False):
        _add(doc, report, "length", doc.task_span())


def _check_format(doc: _Doc, report: LintReport) -> None:
    if doc.task.kind == "label":
        _not_applicable(doc, report, "format", "label")
    elif not (doc.find("FORMAT") or P["LITERAL_LAYOUT"][doc.lang].search(doc.prose) or _one_sentence(doc)):
        _add(doc, report, "format", doc.task_span())


def _one_sentence(doc: _Doc) -> bool:
    """The whole answer is one sentence ("in a single sentence", "用一句话"), not one part of it."""
    spans = clauses(doc.instructions, doc.lang)
    for m in re.finditer(cues.SINGLE_SENTENCE[doc.lang], doc.instructions, re.I):
        start = next((s for s, e in spans if s <= m.start() <= e), m.start())
        if not re.search(cues.PART_MARK[doc.lang], doc.instructions[start:m.start()], re.I):
            return True
    return False


def _check_output_spec(doc: _Doc, report: LintReport) -> None:
    task = [m for m in doc.find("STRUCTURED_TASK") if not not_a_verb(doc.instructions[:m.start()], doc.lang)]
    if not task:
        _not_applicable(doc, report, "output-spec", "not-structured")
    elif not any(re.fullmatch(cues.LABEL_VERBS[doc.lang], m.group(0), re.I) for m in task) and not any(
            _about_output(doc, m) for m in doc.find("FORMAT_MATTERS")):
        _not_applicable(doc, report, "output-spec", "not-data")  # "extract the action items as a list"
    elif not (doc.task.template or P["OUTPUT_SPEC"][doc.lang].search(doc.prose)):
        _add(doc, report, "output-spec", doc.span(*task[0].span()))


def _check_contradictions(doc: _Doc, report: LintReport) -> None:
    check_contradictions(doc, report, _add)


def _check_placeholders(doc: _Doc, report: LintReport, variables: list[str] | None) -> None:
    bad = [(m, "jinja") for m in re.finditer(r"\{\{\s*\w+\s*\}\}", doc.text)]
    bad += [(m, "shell") for m in re.finditer(r"\$\{\w+\}", doc.text)]
    bad += [(m, "spaces") for m in re.finditer(r"(?<!\{)\{\s+\w+\s*\}|(?<!\{)\{\w+\s+\}", doc.text)]
    # inside a code fence or tags they are the inserted text's own syntax (a Jinja or shell snippet)
    bad = [(m, kind) for m, kind in bad if not _in_code(doc, m)]
    fixes = {
        "jinja": ("'{span}' is written with double braces, which render as literal braces here.",
                  "Write it with single braces: {name}.", "“{span}”用了双花括号，渲染时会原样输出。",
                  "改成单花括号：{name}。"),
        "shell": ("'{span}' looks like a shell variable and will not be filled in.", "Write it as {name}.",
                  "“{span}”像 shell 变量，不会被替换。", "改成 {name}。"),
        "spaces": ("'{span}' has spaces inside the braces and will not be filled in.", "Write it as {name}.",
                   "“{span}”花括号里有空格，不会被替换。", "改成 {name}。"),
    }
    for m, kind in bad:
        name = "{" + re.search(r"\w+", m.group(0)).group(0) + "}"
        en_why, en_fix, zh_why, zh_fix = fixes[kind]
        why, fix = (zh_why, zh_fix) if doc.lang == "zh" else (en_why, en_fix)
        _add(doc, report, "variables", doc.span(*m.span()), problem=why.format(span=m.group(0)),
             fix=fix.format(name=name))
    if variables is None:
        return
    used = {m.group(1): m for m in re.finditer(r"(?<!\{)\{([A-Za-z_]\w*)\}(?!\})", doc.text)}
    for name, m in used.items():
        if name not in variables:
            _add(doc, report, "variables", doc.span(*m.span()),
                 problem=(f"{{{name}}} is used but no value is given for it." if doc.lang == "en"
                          else f"使用了 {{{name}}}，但没有给它提供值。"),
                 fix=(f"Pass --var {name}=... or remove it." if doc.lang == "en" else f"传入 --var {name}=…，或删掉它。"))
    for name in variables:
        if name not in used:
            _add(doc, report, "variables", doc.task_span(),
                 problem=(f"A value is given for '{name}', but the prompt has no {{{name}}}." if doc.lang == "en"
                          else f"给了 {name} 的值，但提示词里没有 {{{name}}}。"),
                 fix=(f"Add {{{name}}} where the value belongs, or drop --var {name}." if doc.lang == "en"
                      else f"在合适的位置加上 {{{name}}}，或去掉 --var {name}。"))


def _in_code(doc: _Doc, m: re.Match) -> bool:
    return any(s < m.start() and m.end() <= e and doc.text[s] in "`<'\"#" for s, e in doc.delimited)


RULES = {
    "vague": _check_vague, "role": _check_role, "delimiters": _check_delimiters, "steps": _check_steps,
    "examples": _check_examples, "length": _check_length, "format": _check_format,
    "contradiction": _check_contradictions, "output-spec": _check_output_spec,
}


def lint_prompt(prompt, source: str | None = None, variables: list[str] | None = None) -> LintReport:
    """Lint a `PromptSpec` or a `TextPrompt` (from `library.find_prompt`)."""
    if isinstance(prompt, PromptSpec):
        return lint_spec(prompt, source)
    return lint_text(prompt.text, prompt.lang, variables=variables, source=source or prompt.name)
