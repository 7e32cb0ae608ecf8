"""The prompt linter on the kinds of false positive that held-out sets 2, 3 and 4 found (issue #18).

Rules 2026-11-30.3, .4 and .5 each fixed the kinds the last fresh set showed, with these sentences
(written for the tests, not taken from any held-out set): good prompts that must lint clean, and
near twins that must still be flagged, so that no rule passes by switching itself off.
"""

from __future__ import annotations

import pytest

from llm_practice.prompts.lint import lint_text

from .test_prompt_lint_kinds import checks, reason, status


# --- rules 2026-11-30.3: kinds found by held-out set 2 and by probing (own sentences, not the sets') ---
# Each kind: good prompts that must lint clean (with the tip passing or n/a for the stated reason),
# then near twins that must still be flagged.

LAYOUT_AS_FORMAT = [
    # the answer laid out in lines
    "You are a pronunciation coach. Look at the word in <w> tags and answer in three lines: the IPA, a "
    "rhyming word, then a tip for saying it.\n<w>\n{word}\n</w>",
    "You are a travel phrasebook editor. Translate the phrases in <p> tags into Italian, one phrase per line."
    "\n<p>\n{phrases}\n</p>",
    "你是一名发音教练。针对 <w> 标签中的单词分三行输出：音标、一个押韵的词、一条发音提示。\n<w>\n{word}\n</w>",
    "你是一名数学老师。解答 <q> 标签中的方程，写出不超过5步的推导，最后单独一行写出解。\n<q>\n{question}\n</q>",
    # a dialogue, a script or a role-play is the form
    "You are a playwright. Write a short script in which a robot asks a child for directions: 6 to 8 lines "
    "of dialogue, each starting with the speaker's name.",
    "You are a patient Spanish tutor. Role-play ordering food at a tapas bar with me: you are the waiter, "
    "use simple Spanish and say one short line per turn.",
    "你是一名相声编剧。写一段两个人讨论外卖的小品台词，8到10句，每句前写上说话人。",
    "你是一名日语老师。和我进行便利店购物的角色扮演：你扮演店员，用简单的日语，每轮只说一句。",
    # a written form with a known shape
    "You are an airline agent. Reply to the passenger's complaint in <c> tags with an apology and the next "
    "step, under 100 words, as an email with a greeting and a sign-off.\n<c>\n{complaint}\n</c>",
    "你是一名幼儿园老师。为小朋友写一首关于洗手的四句儿歌，要押韵。",
    # the answer's lines start with given literals
    "You are a bilingual assistant. Summarise the note in <n> tags in one sentence, with a prefix that says "
    "\"Summary: \".\n<n>\n{note}\n</n>",
    "你是一名双语助理。用一句话概括 <n> 标签中的便条，以“摘要：”开头。\n<n>\n{note}\n</n>",
]


@pytest.mark.parametrize("text", LAYOUT_AS_FORMAT)
def test_lines_dialogues_written_forms_and_prefixes_are_formats(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, "format") == "pass"


@pytest.mark.parametrize("text", [
    # a length but no format at all: still the format tip (the pattern of the bad fixtures format_*)
    "You are a UX writer. Make the warning in <w> tags friendlier, in at most 2 sentences.\n<w>\n{warning}\n</w>",
    "You are a script doctor. Improve the line of dialogue in <l> tags so it sounds natural, in at most 15 words."
    "\n<l>\n{line}\n</l>",
    "你是一名文案。把 <w> 标签中的提示语改得更友好，不超过两句话。\n<w>\n{warning}\n</w>",
    "你是一名导游。向游客介绍故宫的角楼，不超过100字，最后提醒开放时间。",
])
def test_a_length_without_any_format_is_still_caught(text):
    assert checks(lint_text(text)) == ["format"]


@pytest.mark.parametrize("text", [
    "You are a chess coach. Explain the plan in the position in <fen> tags as numbered ideas, at most 4, then "
    "give the best move on a line of its own.\n<fen>\n{fen}\n</fen>",
    "你是一名健身教练。为久坐的上班族推荐拉伸动作，用编号列表输出，数量不超过5。",
])
def test_a_bare_count_whose_unit_came_before_is_a_length(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, "length") == "pass"


LABEL_SETS = [
    "You are a content moderator. Decide whether the comment in <c> tags breaks the rules. Reply with "
    "\"remove\", \"warn\" or \"keep\".\n<c>\n{comment}\n</c>",
    "You are a support router. Read the message in <m> tags and answer with billing, bug or other, nothing else."
    "\n<m>\n{message}\n</m>",
    "You are a wine critic. Rate the tasting note in <n> tags from 1 to 10 for clarity. Output just the number."
    "\n<n>\n{note}\n</n>",
    "You are a spam filter. Classify the SMS in <sms> tags.\nLabels: spam, ham\nOutput the label only.\n"
    "<sms>\n{sms}\n</sms>",
    "你是一名内容审核员。判断 <c> 标签中的评论是否违规，只输出“删除”、“警告”或“保留”。\n<c>\n{comment}\n</c>",
    "你是一名工单分流员。阅读 <m> 标签中的消息，只回答账单、故障或其他，不要输出别的内容。\n<m>\n{message}\n</m>",
    "你是一名品酒师。按1到10分给 <n> 标签中的品酒笔记的清晰度打分，只输出数字。\n<n>\n{note}\n</n>",
    "你是一个垃圾短信过滤器。对 <sms> 标签中的短信进行分类。\n标签：垃圾短信、正常短信\n只输出标签。\n<sms>\n{sms}\n</sms>",
]


@pytest.mark.parametrize("text", LABEL_SETS)
def test_a_given_label_set_or_score_is_the_whole_answer(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, "length") == "n/a" and status(report, "examples") == "n/a"
    assert "label" in reason(report, "length") or "标签" in reason(report, "length")


@pytest.mark.parametrize("text", [
    "You are a support router. Classify the message in <m> tags. Answer in one word.\n<m>\n{message}\n</m>",
    "你是一名工单分流员。对 <m> 标签中的消息进行分类，只输出一个词。\n<m>\n{message}\n</m>",
])
def test_a_one_word_label_without_the_set_still_needs_the_labels(text):
    report = lint_text(text)
    assert "output-spec" in checks(report) and status(report, "examples") == "advice"


TEMPLATES = [
    "You are a sommelier. Pair a wine with each dish in <menu> tags. Reply as a two-column Markdown table "
    "(dish, wine), one row per dish.\n<menu>\n{menu}\n</menu>",
    "You are a hiring manager. Compare the candidates in <a> and <b> tags as a table with rows for experience, "
    "skills and fit, at most 3 rows.\n<a>\n{a}\n</a>\n<b>\n{b}\n</b>",
    "You are a bookkeeper. Extract every date and amount from the receipt in <r> tags as CSV with the header "
    "date,amount, one purchase per row.\n<r>\n{receipt}\n</r>",
    "你是一名侍酒师。为 <menu> 标签中的每道菜搭配一款葡萄酒，用 Markdown 表格输出，两列分别为菜品和葡萄酒，每道菜一行。"
    "\n<menu>\n{menu}\n</menu>",
    "你是一名记账员。从 <r> 标签中的收据里提取所有日期和金额，以 CSV 格式输出，表头为 date,amount。\n<r>\n{receipt}\n</r>",
]


@pytest.mark.parametrize("text", TEMPLATES)
def test_named_columns_rows_and_headers_are_the_template(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, "examples") == "n/a"


@pytest.mark.parametrize("text", [
    "You are a data engineer. From the log in <log> tags, output a JSON array of objects with the fields "
    "\"time\" and \"level\" and nothing else.\nExample:\nInput: 10:02 ERROR disk full\nOutput: "
    "[{\"time\": \"10:02\", \"level\": \"ERROR\"}]\n<log>\n{log}\n</log>",
    "你是一名数据工程师。从 <log> 标签中的日志里抽取时间和级别，输出 JSON 数组，每个元素包含 \"time\" 和 \"level\" 两个字段，"
    "不要输出其他内容。\n示例：\n输入：10:02 ERROR 磁盘已满\n输出：[{\"time\": \"10:02\", \"level\": \"ERROR\"}]\n<log>\n{log}\n</log>",
])
def test_json_with_named_fields_takes_no_length(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, "length") == "n/a"


@pytest.mark.parametrize("text", [
    "I want you to act as a Python interpreter. I will type code in <code> tags and you will reply with what "
    "it prints, inside one code block, and nothing else.\n<code>\n{code}\n</code>",
    "我想让你充当一个 SQL 终端。我会在 <sql> 标签中输入查询，你只回复查询结果，放在一个代码块中，不要解释。\n<sql>\n{sql}\n</sql>",
])
def test_a_simulated_program_sets_the_length(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, "length") == "n/a" and reason(report, "length")


@pytest.mark.parametrize("text", [
    "你是一名作文老师。评价 <essay> 标签中的作文：指出两个亮点和一个问题，每条一句话，最后用一行给出总体评价。用列表输出。"
    "\n<essay>\n{essay}\n</essay>",
    "你是一名安全工程师。对照最佳实践检查 <f> 标签中的配置文件，用 Markdown 表格列出问题，列为：行号、问题、修改方法，最多6行。"
    "\n<f>\n{config}\n</f>",
    "You are a film critic. Review the synopsis in <s> tags: two strengths and one weakness, a sentence each, "
    "and finally a one-line overall verdict, as a bulleted list.\n<s>\n{synopsis}\n</s>",
])
def test_one_action_whose_answer_ends_with_a_closing_part_needs_no_steps(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, "steps") == "n/a"


@pytest.mark.parametrize("text", [
    "你是一名专业译者。把 <t> 标签中的文本翻译成法语，最后用一句话概括大意，以纯文本输出。\n<t>\n{text}\n</t>",
    "You are a translator. Translate the text in <t> tags into Dutch and finally summarize it in one sentence, "
    "as plain text.\n<t>\n{text}\n</t>",
])
def test_two_different_actions_in_order_still_need_steps(text):
    assert checks(lint_text(text)) == ["steps"]


@pytest.mark.parametrize("text", [
    "You are a senior Go reviewer. Review the function in the ```go block below and list at most 4 bugs as "
    "a numbered list.\n```go\n{code}\n```",
    "你是一名资深 Go 代码审查员。审查下面 ```go 代码块中的函数，用编号列表列出最多4个缺陷。\n```go\n{code}\n```",
    "You are a careful reviewer.\n<instructions>\nReview the diff in <diff> tags and give at most 5 comments "
    "as a bulleted list.\n</instructions>\n<diff>\n{diff}\n</diff>",
    "你是一名严谨的审查员。\n<instructions>\n审查 <diff> 标签中的改动，用无序列表给出最多5条意见。\n</instructions>\n<diff>\n{diff}\n</diff>",
])
def test_a_fence_named_in_prose_and_instruction_tags_are_not_inserted_text(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]


@pytest.mark.parametrize("text", [
    "You are an editor.\n<instructions>\nSummarize {text} in at most 3 sentences, as plain prose.\n</instructions>",
    "你是一名编辑。\n<instructions>\n用不超过3句话概括{text}，以纯文本输出。\n</instructions>",
])
def test_inserted_text_inside_instruction_tags_is_still_undelimited(text):
    assert checks(lint_text(text)) == ["delimiters"]


@pytest.mark.parametrize("text", [
    # the whole answer is one sentence: its shape is fixed, like one line or one word
    "You are a Socratic tutor. The student's working is in <w> tags. Ask one question that points at the first "
    "mistake, in a single sentence, without giving the answer.\n<w>\n{working}\n</w>",
    "你是一名启发式导师。学生的解题过程在 <w> 标签中。只提一个问题引导他发现第一个错误，用一句话，不要给出答案。\n<w>\n{working}\n</w>",
    # every reply of a chat persona is a turn of a given size
    "You are a friendly bakery chatbot. Greet the customer and help them choose a cake; keep each reply to one "
    "or two sentences of casual English.",
    "你是一个友好的面包店聊天机器人。先问候顾客，再帮他挑选蛋糕，每次回复不超过两句话，语气轻松。",
    # a count of key points is a bulleted answer
    "你是一名新闻编辑。把 <a> 标签中的报道为高管总结成4个要点，每个要点不超过25字。\n<a>\n{article}\n</a>",
    # one code or word only is a one-label answer
    "You are a currency detector. Name the currency of the price in <p> tags and reply with its ISO 4217 code "
    "only.\n<p>\n{price}\n</p>",
    "你是一个货币识别器。识别 <p> 标签中价格所用的货币，只回复它的 ISO 4217 代码。\n<p>\n{price}\n</p>",
    # 'label' as a noun is not a labelling task
    "You are a museum curator. Write a label for the vase described in <d> tags: the name on the first line, "
    "then about 50 words of plain prose.\n<d>\n{description}\n</d>",
])
def test_one_sentence_turns_key_points_codes_and_nouns(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]


@pytest.mark.parametrize("text", [
    # one sentence as the closing part of a longer answer is not the answer's format
    "You are a game master. Describe the haunted library the players enter, in at most 120 words, and end "
    "with one sentence of warning.",
    "你是一名游戏主持人。描述玩家走进的闹鬼图书馆，不超过120字，最后用一句话给出警告。",
])
def test_one_sentence_as_a_part_is_not_a_format(text):
    assert checks(lint_text(text)) == ["format"]


# --- rules 2026-11-30.4: kinds found by held-out set 3 (own sentences, not the set's) ------------

@pytest.mark.parametrize("text", [
    # a LangGPT role heading, in English or Chinese, in a Chinese prompt
    "# Role: 资深数据库管理员\n## 任务\n检查 <sql> 标签中的语句是否有性能问题，用编号列表列出最多5个问题。\n<sql>\n{sql}\n</sql>",
    "## 角色\n资深数据库管理员\n## 任务\n检查 <sql> 标签中的语句是否有性能问题，用编号列表列出最多5个问题。\n<sql>\n{sql}\n</sql>",
    "## Role\nSenior database administrator\n## Task\nCheck the query in <sql> tags for performance problems and list "
    "at most 5 of them as a numbered list.\n<sql>\n{sql}\n</sql>",
    # a label set introduced as "pick one ... from", answered by its name only
    "You are a news desk assistant. Pick one topic from this list: sports, politics, science, culture. Reply "
    "with the topic name only.\n<headline>\n{headline}\n</headline>",
    "你是一名新闻编辑助理。为 <headline> 标签中的标题从以下主题中选一个：体育、政治、科学、文化，只输出主题名称。"
    "\n<headline>\n{headline}\n</headline>",
    # a data tag whose name is also an instruction word, pointed at by the prose or holding a placeholder
    "You are a technical translator. Translate the safety rules in <rules> tags into French, keeping the "
    "numbering, and return only the translation.\n<rules>\n{rules}\n</rules>",
    "你是一名技术译者。把 <steps> 标签中的操作步骤翻译成英文，保留编号，只输出译文。\n<steps>\n{steps}\n</steps>",
    # vague-looking words in a conditional clause describe a case, not the task
    "You are a support assistant. Answer the question in <q> using only the manual in <m> tags, in at most 3 "
    "sentences of plain text. If you are unsure about something, say so.\n<m>\n{manual}\n</m>\n<q>\n{q}\n</q>",
    "你是一名客服助手。只根据 <m> 标签中的手册回答 <q> 标签中的问题，不超过3句话，用纯文本。如果手册中没有相关信息，回答“手册未提及”。"
    "\n<m>\n{manual}\n</m>\n<q>\n{q}\n</q>",
    # every item the input holds: the input sets the length
    "You are an assistant. Find every date mentioned in the email in <email> tags and list them as bullet "
    "points in YYYY-MM-DD form.\n<email>\n{email}\n</email>",
    "你是一名助理。找出 <email> 标签中邮件提到的所有日期，用列表输出，格式为 YYYY-MM-DD。\n<email>\n{email}\n</email>",
])
def test_rules_v4_kinds(text):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]


@pytest.mark.parametrize("text,check", [
    # "all" of an open subject (no input to count) still needs a length
    ("You are a historian. List all the causes of the French Revolution, as a bulleted list.", "length"),
    ("你是一名历史老师。列出导致法国大革命的所有原因，用列表输出。", "length"),
    # a vague task outside a condition is still vague
    ("You are an analyst. Write something about the results in <r> tags, in at most 3 sentences of plain "
     "text.\n<r>\n{results}\n</r>", "vague"),
    ("你是一名分析师。根据 <r> 标签中的结果写点相关内容，不超过3句话，用纯文本。\n<r>\n{results}\n</r>", "vague"),
])
def test_rules_v4_twins_still_fire(text, check):
    assert check in checks(lint_text(text))


# --- rules 2026-11-30.5: kinds found by held-out set 4 (own sentences, not the set's) ------------

@pytest.mark.parametrize("text,check", [
    # "return the corrected <anything> only": the answer is the revised source, so its length is the source's
    ("You are a careful editor. Tidy up the grammar of the meeting notes in <n> tags and return the corrected "
     "notes only, keeping the bullet structure.\n<n>\n{notes}\n</n>", "length"),
    ("你是一名简历顾问。修改 <cv> 标签中简历的语病和错别字，保留原有的分段，只输出修改后的简历。\n<cv>\n{cv}\n</cv>", "length"),
    # 分类 inside a compound noun is not a classification task
    ("你是一名社区志愿者。为小区的垃圾分类活动写5条宣传标语，每条不超过10个字，用编号列表输出。", "output-spec"),
    # the aspects of a comparison, named, are the table's columns
    ("你是一名美食编辑。从价格、口味和服务三个方面比较三家火锅店，用表格输出，每家店一行，每格不超过10个字。", "examples"),
    ("You are a tech reviewer. Compare the three laptops on price, battery life and weight in a Markdown table, "
     "one row per laptop.", "examples"),
    # a closing clause that appends a list closes one answer; it is not a second step
    ("你是一名项目助理。总结 <r> 标签中的周报，分成不超过3个要点，最后列出下周的待办事项，用列表输出。\n<r>\n{report}\n</r>",
     "steps"),
    ("You are a project assistant. Summarize the weekly report in <r> tags in at most 3 bullet points, and finally "
     "list next week's to-dos as a numbered list.\n<r>\n{report}\n</r>", "steps"),
])
def test_rules_v5_kinds(text, check):
    report = lint_text(text)
    assert report.ok, [(f.check, f.span.text) for f in report.findings]
    assert status(report, check) in ("pass", "n/a")


@pytest.mark.parametrize("text,check", [
    ("你是一名数据标注员。对 <r> 标签中的评论进行分类。\n<r>\n{review}\n</r>", "output-spec"),
    ("你是一名美食编辑。比较三家火锅店，用表格输出，不超过5行。", "examples"),
])
def test_rules_v5_twins_still_fire(text, check):
    assert check in checks(lint_text(text))
