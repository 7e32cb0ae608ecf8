"""The prompt linter on each kind of mistake it used to make (issue #18), in both languages.

Each test pairs good prompts that used to be flagged with a near twin that must still be flagged,
so that a rule cannot pass by simply switching itself off.
"""

from __future__ import annotations

import pytest

from llm_practice.prompts.lint import RULES_VERSION, lint_text


def status(report, check: str) -> str:
    return next(row["status"] for row in report.tips if row["check"] == check)


def reason(report, check: str) -> str:
    return next(row["reason"] for row in report.tips if row["check"] == check)


def checks(report) -> list[str]:
    return [f.check for f in report.findings]


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- tips that do not fit the task are n/a, with the reason ------------------------------------

NOT_APPLICABLE = [
    # one label out of a set: no length (and no format beyond the label)
    ("length", "You are a support triage assistant. Decide which team should handle the ticket in <ticket> "
               "tags. Reply with exactly one of: billing, shipping, technical.\nExample:\nInput: My parcel never "
               "arrived.\nOutput: shipping\n\n<ticket>\n{ticket}\n</ticket>"),
    ("length", "你是一名客服分流助手。判断 <ticket> 标签中的工单应该交给哪个团队处理，类别：账单、物流、技术。"
               "只输出类别名称。\n示例：\n输入：包裹一直没到。\n输出：物流\n\n<ticket>\n{ticket}\n</ticket>"),
    # JSON extraction into a fixed skeleton: no length, and the skeleton is the example
    ("length", "You are a careful assistant. Extract the order number and the delivery date from the email in "
               "<email> tags and reply in this JSON format:\n{\"order_id\": \"...\", \"date\": \"YYYY-MM-DD\"}\n"
               "<email>\n{email}\n</email>"),
    ("examples", "你是一名细心的助理。从 <email> 标签中的邮件里提取订单号和送达日期，按以下 JSON 格式输出：\n"
                 "{\"order_id\": \"…\", \"date\": \"YYYY-MM-DD\"}\n<email>\n{email}\n</email>"),
    # a translation takes its length from the source
    ("length", "You are a professional translator. Translate the text in <text> tags into German, keeping the "
               "line breaks. Output only the translation.\n<text>\n{text}\n</text>"),
    ("length", "你是一名专业译者。把 <text> 标签中的文本翻译成日语，保留原有的换行，直接输出译文。\n<text>\n{text}\n</text>"),
    # table columns given: they are the template, no example needed
    ("examples", "You are a senior engineer. Compare Python and Go for writing a command-line tool. Reply with "
                 "a Markdown table with the columns: aspect | Python | Go, at most 6 rows."),
    ("examples", "你是一名资深工程师。比较用 Python 和 Go 编写命令行工具的差别，用表格输出（列：方面、Python、Go），不超过6行。"),
]


@pytest.mark.parametrize("check,text", NOT_APPLICABLE, ids=[f"{c}-{i}" for i, (c, _) in enumerate(NOT_APPLICABLE)])
def test_tips_that_do_not_fit_the_task_are_not_applicable_with_a_reason(check, text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, check) == "n/a"
    why = reason(report, check)
    assert why and has_cjk(why) == (report.lang == "zh")
    assert report.to_json()["rules"] == RULES_VERSION


@pytest.mark.parametrize("text,missing", [
    ("You are a science writer. Explain how vaccines train the immune system to a teenager, as plain prose.",
     "length"),
    ("你是一名科普作者。向中学生解释疫苗如何训练免疫系统，以纯文本段落输出。", "length"),
    ("You are a data engineer. Turn the sales figures in <data> tags into a JSON object with one key per "
     "month. Reply with only the JSON.\n<data>\n{rows}\n</data>", "examples"),
    ("你是一名数据工程师。把 <data> 标签中的销售数字整理成 JSON 对象，每个月一个键，只输出 JSON。\n<data>\n{rows}\n</data>",
     "examples"),
])
def test_the_same_tips_still_fire_where_they_fit(text, missing):
    assert missing in checks(lint_text(text))


# --- steps given as connectives are steps; constraints are not steps ----------------------------

CONNECTIVE_STEPS = [
    "你是一名资深编辑。先通读 <text> 标签中的文章，找出其中的错别字，再逐条列出修改建议，不超过10条，用编号列表输出。"
    "\n<text>\n{text}\n</text>",
    "你是一名产品分析师。首先概括 <review> 标签中的用户评论，然后找出最常见的三个问题，最后为每个问题提出一条改进建议。"
    "用编号列表输出，不超过5条。\n<review>\n{review}\n</review>",
    "你是一名市场研究员。步骤：阅读 <notes> 标签中的访谈记录 → 提取用户提到的关键词 → 按出现次数排序。"
    "用编号列表输出前10个关键词。\n<notes>\n{notes}\n</notes>",
    "You are a site reliability engineer. First read the log in <log> tags, then identify the first error, and "
    "finally explain its likely cause in at most 3 sentences, as plain prose.\n<log>\n{log}\n</log>",
    "You are a support engineer. Steps: read the log in <log> tags; find the first error; explain its cause. "
    "Answer in at most 4 sentences, as plain prose.\n<log>\n{log}\n</log>",
    "You are a product analyst. Summarize the reviews in <r> tags, then identify the three most common "
    "complaints, and finally suggest one fix for each, as a numbered list of at most 5 items.\n<r>\n{reviews}\n</r>",
]


@pytest.mark.parametrize("text", CONNECTIVE_STEPS)
def test_steps_written_as_connectives_count_as_steps(text):
    report = lint_text(text)
    assert status(report, "steps") == "pass"  # it is a multi-step task, and its steps are given
    assert report.ok, [(f.check, f.span.text) for f in report.findings]


@pytest.mark.parametrize("text", [
    "你是一名专业译者。把 <text> 标签中的文本翻译成英文，然后概括成不超过两句话，以纯文本段落输出。\n<text>\n{text}\n</text>",
    "You are a product analyst. Summarize the reviews in <r> tags, identify the three most common complaints "
    "and suggest one fix for each, as a numbered list of at most 5 items.\n<r>\n{reviews}\n</r>",
])
def test_chained_actions_without_steps_are_still_caught(text):
    assert checks(lint_text(text)) == ["steps"]


@pytest.mark.parametrize("text", [
    "你是一名专业译者。把 <text> 标签中的文本翻译成英文，不要添加任何解释，保留专有名词原文，直接输出译文。\n<text>\n{text}\n</text>",
    "你是一名数据标注员。判断 <review> 标签中评论的情感，只能回答以下之一：正面、负面、中性，不要输出任何解释。\n示例：\n"
    "输入：物流很快，包装也好。\n输出：正面\n\n<review>\n{review}\n</review>",
    "You are a copy editor. Proofread the text in <text> tags. Do not rewrite sentences that are already "
    "correct, and do not explain your changes. Return only the corrected text.\n<text>\n{text}\n</text>",
    "You are a patient tutor. Answer the question in <q> tags in at most 4 sentences, as plain prose. If you "
    "cannot explain it simply, say so and suggest what to read.\n<q>\n{question}\n</q>",
])
def test_negated_and_conditional_instructions_are_constraints_not_steps(text):
    report = lint_text(text)
    assert status(report, "steps") == "n/a" and reason(report, "steps")
    assert report.ok, [(f.check, f.span.text) for f in report.findings]


# --- output formats in Chinese phrasing --------------------------------------------------------

@pytest.mark.parametrize("text", [
    "你是一名科普作者。用通俗的语言向中学生解释什么是光合作用，不超过150字，用一段话输出。",
    "你是一名文案编辑。把 <text> 标签中的句子改写得更口语化，长度与原文相近，直接输出改写结果。\n<text>\n{text}\n</text>",
    "你是一名数据标注员。把 <q> 标签中的用户问题归入以下类别之一：退款、物流、账号，只输出类别名称。\n示例：\n"
    "输入：我的快递到哪了？\n输出：物流\n\n<q>\n{question}\n</q>",
    "你是一名助理。从 <cv> 标签中的简历里提取姓名和电话，按以下 JSON 格式输出：\n{\"name\": \"…\", \"phone\": \"…\"}"
    "\n<cv>\n{cv}\n</cv>",
    "你是一名理财顾问。比较定期存款和货币基金，用表格输出（列：项目、定期存款、货币基金），不超过5行。",
])
def test_chinese_format_phrasings_count_as_a_format(text):
    report = lint_text(text)
    assert status(report, "format") in ("pass", "n/a")
    assert report.ok, [(f.check, f.span.text) for f in report.findings]


def test_a_chinese_prompt_without_any_format_is_still_caught():
    assert checks(lint_text("你是一名科普作者。用通俗的语言向中学生解释什么是光合作用，不超过150字。")) == ["format"]


# --- input described as data is not an output format -------------------------------------------

@pytest.mark.parametrize("text", [
    "You are a data analyst. The CSV rows inside <data> tags list monthly sales per store. Summarise the sales "
    "trend for the regional manager in at most 3 sentences, as plain prose.\n<data>\n{rows}\n</data>",
    "You are a backend developer. The JSON in <payload> tags is an error response from our API. Explain in at "
    "most 3 sentences what went wrong, as plain text.\n<payload>\n{payload}\n</payload>",
    "你是一名数据分析师。<data> 标签中是 CSV 格式的各门店月度销售数据。用不超过3句话为区域经理总结销售趋势，以纯文本段落输出。"
    "\n<data>\n{rows}\n</data>",
    "你是一名后端工程师。<payload> 标签中的 JSON 是接口返回的错误信息。用不超过3句话说明出了什么问题，以纯文本输出。"
    "\n<payload>\n{payload}\n</payload>",
])
def test_input_described_as_data_needs_no_output_example(text):
    report = lint_text(text)
    assert status(report, "examples") == "n/a"
    assert report.ok, [(f.check, f.span.text) for f in report.findings]


# --- breadth against a tight length is a contradiction, named first -----------------------------

@pytest.mark.parametrize("text,limit", [
    ("你是一名行业分析师。请非常详细、面面俱到地分析新能源汽车行业的现状，不超过20个字，以纯文本输出。", "不超过20个字"),
    ("你是一名历史老师。全面介绍唐朝的政治、经济和文化，不超过三十字，用一段话输出。", "不超过三十字"),
    ("You are an industry analyst. Give a comprehensive, in-depth analysis of the electric car market in "
     "under 20 words, as plain text.", "under 20 words"),
    ("You are a historian. Explain the causes of the First World War in detail, in one sentence, as plain "
     "text.", "in one sentence"),
])
def test_breadth_against_a_tight_length_is_a_contradiction_named_first(text, limit):
    report = lint_text(text)
    first = report.findings[0]
    assert first.check == "contradiction" and first.severity == "error"
    assert first.span.text == limit and limit in first.why
    assert checks(report) == ["contradiction"]  # the format is there, so it is not reported


@pytest.mark.parametrize("text", [
    "你是一名行业分析师。请详细分析新能源汽车行业的现状，不超过800字，分三段输出。",
    "You are an industry analyst. Give an in-depth analysis of the electric car market in at most 400 words, "
    "as three paragraphs.",
])
def test_breadth_with_room_for_it_is_fine(text):
    assert lint_text(text).ok


# --- rules 2026-11-30.2: kinds found by the first held-out set (own sentences, not that set's) ----

@pytest.mark.parametrize("text,check", [
    # a paragraph count is a format: 分三个自然段 / 写成一段 / 一段
    ("你是一名散文作者。以“秋天的校园”为题写一篇短文，不超过300字，分三个自然段。", "format"),
    ("你是一名导游。向第一次来西安的游客介绍兵马俑，不超过120字，写成一段。", "format"),
    # 错别字 holds 别, which is not a negation: the proofreading action still counts (and sets the length)
    ("你是一名校对员。找出 <text> 标签中文章的错别字并改正，直接输出改正后的全文。\n<text>\n{text}\n</text>", "length"),
    # 修改建议 is a noun: checking and listing is two actions, not three
    ("你是一名代码审查员。检查 <code> 标签中的 SQL 是否有注入风险，用编号列表列出问题和修改建议，最多5条。\n<code>\n{code}\n</code>",
     "steps"),
    # "label it as one of: ..." is a one-label task
    ("You are a triage nurse. Label the symptom description in <s> tags as one of: urgent, routine, self-care.\n"
     "Example:\nInput: Mild sore throat for two days.\nOutput: self-care\n\n<s>\n{symptoms}\n</s>", "length"),
    ("You are a paralegal. Summarise the clause in <c> tags for a tenant in at most 2 sentences of plain English.\n"
     "<c>\n{clause}\n</c>", "format"),
])
def test_rules_v2_kinds(text, check):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, check) in ("pass", "n/a")
