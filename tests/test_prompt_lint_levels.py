"""Errors and advice (issue #18): `--strict` fails only on what a well-written prompt never has.

Errors: no task at all, no role anywhere, inserted text or a text placeholder with no delimiters,
broken variables, contradictory demands on the same answer. Everything else is a judgment call
(is a length needed? an example? are these verbs steps?) and comes as advice, with span, why and
fix. Each test pairs the certain case (an error) with a near twin where the rule cannot be sure
(advice or nothing), in both languages, so that no level can pass by switching itself off.
"""

from __future__ import annotations

import pytest

from llm_practice.prompts.lint import lint_text


def levels(text: str) -> dict[str, str]:
    """check -> the most severe level it fired at."""
    found: dict[str, str] = {}
    for f in lint_text(text).findings:
        found[f.check] = "error" if "error" in (f.severity, found.get(f.check)) else f.severity
    return found


# --- no task at all -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Tell me about volcanoes.", "讲讲火山吧"])
def test_a_bare_request_is_an_error(text):
    report = lint_text(text)
    assert not report.strict_ok and report.findings[0].check == "vague"
    assert report.findings[0].severity == "error"


@pytest.mark.parametrize("text", [
    "You are a geology teacher. Write something short about volcanoes for children, as plain prose, in at "
    "most 4 sentences.",
    "你是一名地理老师。随便写点关于火山的内容给小学生看，不超过4句话，以纯文本段落输出。",
])
def test_vague_wording_in_a_real_task_is_advice(text):
    report = lint_text(text)
    assert levels(text) == {"vague": "advice"} and report.strict_ok
    assert all(f.why and f.hint for f in report.findings)


# --- the role: present is generous, absent is an error -------------------------------------------

@pytest.mark.parametrize("text", [
    "As the museum's audio guide, describe the painting in <p> tags for visitors in at most 5 sentences, "
    "as plain prose.\n<p>\n{painting}\n</p>",
    "Persona: a patient chess coach.\nExplain the opening in <o> tags to a beginner in at most 4 sentences "
    "of plain prose.\n<o>\n{opening}\n</o>",
    "### Role\nA strict copy editor\n### Task\nFix the spelling in the text below and return only the "
    "corrected text.\n### Text\n{text}",
    "以一位老中医的口吻，用通俗的话解释 <q> 标签中的问题，不超过150字，以一段话输出。\n<q>\n{question}\n</q>",
    "请做我的英语写作老师，批改 <essay> 标签中的作文，用编号列表输出不超过5条修改意见。\n<essay>\n{essay}\n</essay>",
    "### 角色\n严谨的校对员\n### 任务\n改正下面文本中的错别字，只输出改正后的文本。\n### 文本\n{text}",
])
def test_any_role_wording_counts_as_a_role(text):
    report = lint_text(text)
    assert "role" not in levels(text) and report.strict_ok, [(f.check, f.span.text) for f in report.findings]


@pytest.mark.parametrize("text", [
    "Describe the painting in <p> tags for museum visitors in at most 5 sentences, as plain prose.\n"
    "<p>\n{painting}\n</p>",
    "用通俗的话解释 <q> 标签中的中医问题，不超过150字，以一段话输出。\n<q>\n{question}\n</q>",
])
def test_no_role_at_all_is_an_error(text):
    report = lint_text(text)
    assert levels(text) == {"role": "error"} and not report.strict_ok


# --- inserted text ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "You are a copy editor. Shorten {article} to at most 100 words, as one paragraph.",
    "你是一名文字编辑。把{article}压缩到100字以内，以一段话输出。",
    "You are a support agent. Answer this customer email in at most 80 words, as plain text: Hi, my "
    "parcel has not arrived and nobody answers the phone, please call me back today.",
    "你是一名客服。用不超过80字回复下面这封邮件，以纯文本输出：你好，我的包裹一直没到，电话也没人接，请今天给我回电。",
])
def test_text_inserted_without_delimiters_is_an_error(text):
    report = lint_text(text)
    assert levels(text) == {"delimiters": "error"} and not report.strict_ok


@pytest.mark.parametrize("text", [
    # a field on a line of its own, few-shot style
    "You are a sentiment rater. Rate each review from 1 to 5. Reply with only the number.\n\n"
    "Review: Great battery, poor screen.\nRating: 3\n\nReview: {review}\nRating:",
    "你是一名评论打分员。给每条评论打1到5分，只输出数字。\n\n评论：电池很好，屏幕一般。\n分数：3\n\n评论：{review}\n分数：",
    # a placeholder whose name does not say it holds a passage of text
    "You are a copywriter. Write a tagline for {product_line} in at most 8 words, as one line.",
    "你是一名文案。为{product_line}写一句不超过15字的广告语，单独一行输出。",
])
def test_a_placeholder_that_may_be_set_off_or_short_is_advice_at_most(text):
    report = lint_text(text)
    assert levels(text).get("delimiters") == "advice" and report.strict_ok


@pytest.mark.parametrize("text", [
    "You are a translator. Translate the following sentence: <s>The meeting is moved to Friday.</s> Keep "
    "the tone formal and output only the translation, as one line.",
    "你是一名译者。翻译下面这句话：<s>会议改到周五。</s>语气保持正式，只输出译文，单独一行。",
])
def test_announced_text_that_starts_inside_delimiters_is_fine(text):
    assert "delimiters" not in levels(text)


# --- contradictions -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "You are an analyst. Describe the product in <p> tags in great detail, covering every aspect, in under "
    "25 words, as plain text.\n<p>\n{product}\n</p>",
    "你是一名分析师。事无巨细地介绍 <p> 标签中的产品，不超过25个字，以纯文本输出。\n<p>\n{product}\n</p>",
    "You are a critic. Give a short and detailed review of the film in <f> tags, as prose, at most 120 "
    "words.\n<f>\n{film}\n</f>",
    "你是一名影评人。简短而详细地评价 <f> 标签中的电影，以一段话输出，不超过120字。\n<f>\n{film}\n</f>",
    "You are an editor. Rewrite the text in <t> tags in at most 40 words and at least 90 words, as one "
    "paragraph.\n<t>\n{text}\n</t>",
    "你是一名编辑。把 <t> 标签中的文本改写成一段话，不超过40字，至少90字。\n<t>\n{text}\n</t>",
])
def test_demands_on_the_same_answer_that_contradict_are_an_error(text):
    report = lint_text(text)
    assert report.findings[0].check == "contradiction" and report.findings[0].severity == "error"


@pytest.mark.parametrize("text", [
    # two parts of one answer: a one-line verdict, then a detailed part
    "You are a critic. Give your verdict on the film in <f> tags in one sentence, then explain it in detail "
    "in at most 150 words, as prose.\n<f>\n{film}\n</f>",
    "你是一名影评人。先用一句话给出对 <f> 标签中电影的结论，然后详细说明理由，不超过150字，以一段话输出。\n<f>\n{film}\n</f>",
    # a limit on one part (the title), not on the answer
    "You are a copywriter. Write an in-depth product page for the item in <i> tags: a title under 10 words "
    "and three paragraphs, at most 300 words in all.\n<i>\n{item}\n</i>",
    "你是一名文案。为 <i> 标签中的商品写一篇详尽的介绍：标题不超过10个字，正文分三段，总共不超过300字。\n<i>\n{item}\n</i>",
    # "concise but thorough": a balance, not a contradiction
    "You are an editor. Give a brief but detailed critique of the essay in <e> tags, as prose, at most 150 "
    "words.\n<e>\n{essay}\n</e>",
    "你是一名编辑。简短但详细地点评 <e> 标签中的作文，以一段话输出，不超过150字。\n<e>\n{essay}\n</e>",
    # a per-item limit under a total
    "You are an analyst. Report on the data in <d> tags in at least 200 words, as bullet points of at most "
    "30 words each.\n<d>\n{data}\n</d>",
    "你是一名分析师。就 <d> 标签中的数据写一份至少200字的报告，用列表输出，每条不超过30字。\n<d>\n{data}\n</d>",
])
def test_demands_that_may_be_about_different_parts_are_not_an_error(text):
    assert lint_text(text).strict_ok, [(f.check, f.severity, f.span.text) for f in lint_text(text).findings]


def test_breadth_in_the_role_is_not_a_demand():
    for text in ["You are a historian with in-depth knowledge of Rome. Answer the question in <q> tags in "
                 "one sentence, as plain text.\n<q>\n{question}\n</q>",
                 "你是一名对罗马历史有深入研究的历史学家。用一句话回答 <q> 标签中的问题，以纯文本输出。\n<q>\n{question}\n</q>"]:
        assert "contradiction" not in levels(text)


# --- judgment calls are advice ----------------------------------------------------------------

@pytest.mark.parametrize("text,check", [
    ("You are a science teacher. Explain how tides work to a 12-year-old, as plain prose.", "length"),
    ("你是一名科学老师。向12岁的孩子解释潮汐是怎么形成的，以纯文本段落输出。", "length"),
    ("You are a science teacher. Explain how tides work to a 12-year-old in at most 4 sentences.", "format"),
    ("你是一名科学老师。向12岁的孩子解释潮汐是怎么形成的，不超过4句话。", "format"),
    ("You are a data annotator. Extract the city names from the text in <t> tags. Reply with only a JSON "
     "object with the key \"cities\" (a list of strings).\n<t>\n{text}\n</t>", "examples"),
    ("你是一名数据标注员。从 <t> 标签中的文本里提取城市名。只输出一个 JSON 对象，键为 \"cities\"（字符串列表）。\n<t>\n{text}\n</t>",
     "examples"),
    ("You are a translator. Translate the text in <t> tags into Spanish and then summarize it in at most 2 "
     "sentences, as plain prose.\n<t>\n{text}\n</t>", "steps"),
    ("你是一名译者。把 <t> 标签中的文本翻译成西班牙语，然后概括成不超过两句话，以纯文本段落输出。\n<t>\n{text}\n</t>", "steps"),
])
def test_a_missing_tip_that_depends_on_judgment_is_advice(text, check):
    report = lint_text(text)
    assert levels(text) == {check: "advice"}
    assert report.strict_ok and not report.ok
    finding = report.findings[0]
    assert finding.span.text and finding.why and finding.hint
    assert next(r["status"] for r in report.tips if r["check"] == check) == "advice"


# --- variables ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "You are a support writer. Answer the question in <q> tags for {{product}} users in at most 3 sentences, "
    "as plain text.\n<q>\n{question}\n</q>",
    "你是一名客服文案。用不超过3句话为 ${product} 的用户回答 <q> 标签中的问题，以纯文本输出。\n<q>\n{question}\n</q>",
])
def test_a_placeholder_that_will_not_be_filled_is_an_error(text):
    assert levels(text) == {"variables": "error"}


@pytest.mark.parametrize("text", [
    "You are a senior front-end engineer. Review the Vue template in the fenced block for bugs, as a numbered "
    "list of at most 5 items.\n```html\n<p>{{ user.name }} owes {{ total }}</p>\n<a href=\"${url}\">pay</a>\n```",
    "你是一名资深前端工程师。审查代码块中的 Vue 模板有没有错误，用编号列表输出，不超过5条。\n```html\n<p>{{ total }}</p>\n<a href=\"${url}\">付款</a>\n```",
])
def test_template_syntax_inside_a_code_block_is_the_code_not_a_variable(text):
    assert "variables" not in levels(text) and lint_text(text).strict_ok


@pytest.mark.parametrize("text", [
    "You are a librarian. Identify the book described in <b> tags. Reply in exactly this format:\n"
    "{title} ({year}): {summary}\n<b>\n{description}\n</b>",
    "你是一名图书管理员。判断 <b> 标签中描述的是哪本书，严格按以下格式输出：\n《{title}》（{year}）：{summary}\n<b>\n{description}\n</b>",
])
def test_slots_in_an_output_template_are_never_an_error(text):
    assert lint_text(text).strict_ok, [(f.check, f.severity, f.span.text) for f in lint_text(text).findings]


@pytest.mark.parametrize("text", [
    "You are a novelist. Write a story of at least 300 words with a title under 8 words, as three paragraphs.",
    "你是一名作家。写一篇不少于300字的故事，标题不超过20字，分三段输出。",
])
def test_a_minimum_on_the_answer_and_a_maximum_on_its_title_do_not_contradict(text):
    assert "contradiction" not in levels(text)


@pytest.mark.parametrize("text", [
    "I'd like you to be a patient maths tutor. Explain fractions to a 9-year-old in at most 4 sentences, as "
    "plain prose.",
    "Reply as a pirate would: greet the guest named in <n> tags in one line.\n<n>\n{name}\n</n>",
    "You have 20 years of experience in tax law. Explain VAT to a shop owner in 3 bullet points.",
    "身为一名执业律师，请用不超过3句话回答 <q> 标签中的问题，以纯文本输出。\n<q>\n{question}\n</q>",
    "请以数据分析专家视角解读 <d> 标签中的数据，用3条要点输出。\n<d>\n{data}\n</d>",
])
def test_more_ways_of_giving_a_role(text):
    assert "role" not in levels(text)


@pytest.mark.parametrize("text", [
    "You are an editor. Shorten '{article}' to at most 100 words, as one paragraph.",
    "你是一名编辑。把『{article}』压缩到100字以内，以一段话输出。",
])
def test_a_placeholder_set_off_by_quotes_of_any_kind_is_advice_at_most(text):
    assert levels(text).get("delimiters") == "advice" and lint_text(text).strict_ok


@pytest.mark.parametrize("text", [
    "You are a meticulous proofreader. Correct the spelling in the text between the === lines and return only "
    "the corrected text.\n===\nTeh meeting is on Fridya, plese be on tiem and bring the reprot.\n===",
    "你是一名资深编辑。请用不超过50字概括以下文本，以一段话输出：\n<<<\n市议会周二投票决定，在未来三年内将自行车道网络扩建40公里，理由是安全数据。\n>>>",
    "你是一名资深翻译。把 ~~~ 之间的中文翻译成地道的英文，保留原有段落，只输出译文。\n~~~\n今天天气很好，我们去公园散步吧。\n~~~",
])
def test_other_common_delimiters_count(text):
    report = lint_text(text)
    assert "delimiters" not in levels(text) and report.strict_ok, [(f.check, f.span.text) for f in report.findings]


@pytest.mark.parametrize("text,lang", [
    ("You are a translator. Translate the poem in <p> tags into English, keeping the line breaks.\n<p>\n"
     "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n</p>", "en"),
    ("你是一名英语老师。把 <s> 标签中的句子翻译成中文，只输出译文。\n<s>The quick brown fox jumps over the lazy dog "
     "while the farmer watches from the porch.</s>", "zh"),
])
def test_the_language_is_the_instructions_not_the_inserted_text(text, lang):
    report = lint_text(text)
    assert report.lang == lang and report.strict_ok, [(f.check, f.span.text) for f in report.findings]


def test_a_role_in_the_other_language_counts():
    text = "你是一名英语老师。Explain the grammar of the sentence in <s> tags to a beginner, as plain prose.\n<s>{sentence}</s>"
    assert "role" not in levels(text)
