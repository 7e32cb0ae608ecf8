"""The words the prompt linter looks for, per language (English and Chinese).

Kept apart from the rules in `lint.py` so that tuning a word list never touches the logic.
Every pattern is a regular expression compiled case-insensitive.
"""

from __future__ import annotations

import re

NEGATION = {
    "en": re.compile(r"(?i)\b(not|no|never|without|don't|do not|avoid)\b[\w\s,'-]{0,12}$"),
    "zh": re.compile(r"(不要|不用|无需|不必|别|勿|禁止|避免|不得|不能|不需要)[\u4e00-\u9fff]{0,3}$"),
}

# Tip 2: a role ("You are ...", "你是 ...").
ROLE = {
    "en": r"\b(you are|you're|act as|acting as|play the role|take the role|pretend to be|imagine you are|"
          r"as an? (\w+ ){0,3}(expert|specialist|teacher|editor|engineer|developer|analyst|writer|translator|"
          r"assistant|scientist|doctor|lawyer|consultant|manager|recruiter|interviewer|tutor|reviewer|"
          r"copywriter|marketer|designer|coach|researcher))\b|^\W*role\s*:|\byour role is\b|"
          r"(^|[.!?]\s+)as an? [\w\s-]{1,40},|^#+\s*role\s*$",
    "zh": r"你是|您是|身为|担当|化身|做(我|我们)的|像一[名位个][^。\n]{1,16}(那样|一样)|你现在是|扮演|充当|作为一[名位个]|假设你是|假如你是|担任|角色[:：]|你的角色|"
          # a LangGPT heading, often in English in Chinese prompts: "# Role: 资深工程师"
          r"^\W*role\s*[:：]|^#+\s*(role|角色)\s*$",
}
# Any role wording at all, looked for in the whole text: a prompt with none of it has no role for sure.
ROLE_ANY = {
    "en": r"\b(you are|you're|youre|you will be|you'll be|you act|you play|you work as|act(ing)? as|"
          r"role|persona|pretend|imagine you|behave (like|as)|play(ing)? (the part|the character)|serve as|"
          r"you to (be|act|play|serve|take)\b|act like|you have[^.\n]{0,40}\bexperience\b|you speciali[sz]e|"
          r"\b(speak|respond|answer|reply|write|talk|explain|act|behave)s? (like|as) (a|an|the|our|my|your)\b|"
          r"take on the|assume (the|you)|perspective of|\bbe (my|our) |in your (capacity|position|job) as|speaking as|"
          r"(in the (voice|style|manner)|from the (perspective|point of view|viewpoint)) of|"
          r"(like|as would) an? (experienced|seasoned|professional|expert|senior|veteran|skilled)\b|as (a|an|the|our|my|your)\s+"
          r"[\w' -]{1,48}?(,|:|you\b|who\b|with\b))",
    "zh": r"你是|您是|身为|担当|化身|做(我|我们)的|像一[名位个][^。\n]{1,16}(那样|一样)|你现在是|你将是|你将扮演|扮演|充当|作为|假设你是|假如你是|想象你是|担任|角色|身份|人设|你就是|"
          r"以[^。\n]{1,16}的?(身份|口吻|视角|角度|语气)|(站在|从)[^。\n]{1,16}的?(角度|立场|视角)|用[^。\n]{1,16}的(口吻|语气)|请你?当|你的(职责|工作|任务)是[^。\n]{0,4}(一[名位个])|"
          r"^\W*(role|persona)\s*[:：]",
}

# Tip 1: vague words that leave the model guessing.
VAGUE = {
    "en": r"\b(something|stuff|whatever|some things|things like that|etc\.?|and so on|"
          r"tell me about|write about|talk about|some information|make it better|make it good|"
          r"improve it|a bit|kind of|sort of|as needed|if necessary|somehow)\b",
    "zh": r"随便|一些东西|相关内容|相关信息|等等|之类的?|写点|说说|谈谈|聊聊|弄好一点|好一点|优化一下|改一下|"
          r"搞一下|看看|大概|差不多|尽量好",
}

# A conditional clause ("如果资料中没有相关内容", "if nothing in the text is relevant"): its words describe
# a case, not the task, so they are not vague wording.
CONDITIONAL = {"en": r"\b(if|unless|when|in case|whether)\b", "zh": r"如果|若|假如|倘若|一旦|如有|万一"}

# Tip 4: task verbs; two distinct ones make a multi-step task.
VERBS = {
    "en": r"\b(summari[sz]e|translate|extract|classify|categori[sz]e|explain|rewrite|compare|identify|"
          r"generate|check|count|sort|rank|evaluate|suggest|correct|analy[sz]e|describe|find|outline|"
          r"draft|fix|convert|proofread|paraphrase|critique|propose|recommend|detect|simplify|shorten)\b",
    "zh": r"(?<!总体)(?<!整体)(?<!最终)(?<!综合)(?<!垃圾)(?<!图书)(?:总结|概括|翻译|提取|抽取|分类|归类|解释|改写|重写|比较|对比|识别|生成|检查|统计|排序|评估|评价|"
          r"建议|纠正|修改|分析|描述|找出|列出|起草|修复|转换|校对|润色|打分|评分|推荐|判断|标注|撰写|提炼)"
          r"(?![员者师人家器]|结果|后的|稿|建议|方法|意见|方案|标准|理由|依据)(?<![改进化的条些个]建议)",
}
# A closing clause whose action only appends a part to the answer ("最后列出需要跟进的事项", "finally list
# the open questions") closes one answer; it does not chain a second step onto the first.
APPENDING = {"en": r"list|outline|suggest|recommend", "zh": r"列出|建议|推荐|提炼"}
SEQUENCE = {
    "en": r"\b(and then|then|after that|afterwards|and finally|finally)\b",
    "zh": r"然后|接着|之后再|再把|最后",
}
STEPS = {
    "en": r"^\s*(\d+[.)]|\d+\s+-\s|step\s*\d+\b)",
    "zh": r"^\s*(\d+[.)、．]|\d+\s+-\s|第[一二三四五六七八九十\d]+步)",
}
PROSE_STEPS = {
    "en": (r"\bfirst(ly)?\b", r"\bthen\b", r"\bfinally\b"),
    "zh": ("首先|第一步", "然后|接着|第二步", "最后"),
}
# Steps given on one line: "1) ... 2) ...", "第一步……第二步……", "①……②……".
INLINE_STEPS = {
    "en": r"\bstep\s*\d+\b|(?:^|[\s:;,])\(?\d+\)(?!\d)|(?:^|[:;]\s*|\s)\d+\.(?=\s+[A-Za-z])",
    "zh": r"第[一二三四五六七八九十\d]+步|[①②③④⑤⑥⑦⑧⑨]|[（(]\d+[）)]|(?:^|[\s：:；;。，,])\d+[.)）、](?!\d)",
}
# Steps given as connected clauses: "First ..., then ...", "先……再……", "首先……然后……", "then ... finally".
CONNECTIVE_STEPS = {
    "en": r"(?:^|[.:;!?]\s+|\n)\s*(?:first(?:ly)?|start by|begin by|to begin)\b.{1,240}?\b(?:then|next|after that|"
          r"afterwards|finally|second(?:ly)?)\b|\bthen\b.{1,240}?\b(?:finally|lastly)\b",
    "zh": r"(?<![优事预原率领祖首])先(?![生前进锋后天例知驱辈])[^。！？\n]{1,80}?(?:再|然后|接着|随后|之后|最后)|"
          r"首先.{1,160}?(?:然后|其次|接着|再|最后)|然后.{1,160}?最后|第一步.{1,160}?第二步",
}
STEPS_LABEL = {
    "en": r"\bsteps?\s*:|\bworkflow\s*:|\bfollow these steps\b|\bdo the following\b",
    "zh": r"步骤[:：]|工作流程?[:：]|按照?(?:以下|如下|下面的?)步骤|分(?:以下)?[两三四五六七八九\d]步",
}
# A clause prefix that makes a task word a constraint, not an action: negated, conditional,
# about the output's form ("不要输出任何解释", "if unsure", "直接输出改写结果"), or the role itself.
CONSTRAINT_CLAUSE = {
    "en": r"\b(not|no|never|without|avoid|don't|don’t|nor|neither|if|unless|when|in case|whether)\b|"
          r"\b(reply|respond|return|output|answer)\s+(only|with)\b|\bonly\s+(output|return|reply|give)\b|"
          r"^\s*(you are|you're|act as|as an?)\b",
    "zh": r"不要|不用|无需|无须|不必|(?<![类分识区特级性个告辨鉴差错])别|勿|禁止|避免|不得|不能|不需要|不可|"
          r"如果|若|假如|倘若|一旦|如有|只输出|仅输出|直接输出|只返回|直接返回|直接给出|只回答|输出格式|按.{0,8}格式|"
          r"^\s*(你是|你现在是|作为|你将扮演|请你?扮演)",
}

# Tip 5: tasks whose output format matters, and examples.
FORMAT_MATTERS = {
    "en": r"\b(json|table|csv|yaml|classify|categori[sz]e|label|tag|template)\b",
    "zh": r"json|JSON|表格|csv|yaml|(?<!垃圾)(?<!图书)(?:分类|归类|标注)(?![员者师人家器法号])|模板|格式如下",
}
EXAMPLES = {
    "en": r"\b(examples?|e\.g\.|for instance|sample (input|output)|like this)\b|^\s*input\s*:",
    "zh": r"示例|例如|比如|例子|样例|范例|^\s*输入[:：]",
}

# Tip 6: an explicit length.
NUMBER = {"en": r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single|a)",
          "zh": r"(\d+|[一二两三四五六七八九十百千]+)"}
LENGTH = {
    "en": r"\b(same length as|about as long as|as long as the original|similar length)\b|"
          + NUMBER["en"] + r"[\s-]*(\w+[\s-]+)?(words?|sentences?|paragraphs?|characters?|chars|bullet points?|"
          r"bullets|items?|points|lines?|tokens?|questions?|titles?|headlines?|options?|keywords?|pages?|"
          r"tweets?|steps|reasons|tips|ideas|things|ways|examples|suggestions|improvements|strengths|weaknesses|"
          r"mistakes|errors|issues|problems|risks|names|facts|arguments|phrases|rows|exchanges|turns|slides|"
          r"sections|verses|stanzas|rules|recommendations|places|books|exercises|quotes|slogans|taglines)\b|"
          # a count fixed by the input: "one row per food", "one sentence for each claim"
          r"\bone\s+(\w+\s+)?(row|line|item|bullet|entry|sentence|paragraph)s?\s+(per|for each|for every)\b|"
          r"\bone\s+\w+\s+per\s+(row|line)\b|\bone-(line|sentence|word)\b|"
          r"\b(at most|up to|no more than|exactly|maximum of)\s+\d+\s+\w+|\b\d+\s+[a-z]+s\b|"
          # a bare count, its unit said before it: "as numbered steps, at most 8"
          r"\b(at most|no more than|up to|maximum of|max\.?|at least|exactly)\s+(\d+|two|three|four|five|six|seven|"
          r"eight|nine|ten)\b(?!\s*(%|percent|per\b))",
    "zh": NUMBER["zh"] + r"\s*(个|条|道|句话|句|段|行|字|词|点|项|页|篇|个字|个问题|个标题|个关键词)|一句话|"
          r"(不超过|最多|至多|不多于|不少于|至少|控制在)\s*[\d一二两三四五六七八九十百千]+|"
          r"与原文(长度|篇幅)?(相近|相当|一致|相同)|保持原(文|有)?(的)?(长度|篇幅)",
}
# The answer lists every item the input holds ("extract every action item", "找出所有待办事项"): the
# input sets the length.
ALL_ITEMS = {
    "en": r"\b(extract|list|find|identify|collect|pull out|highlight|flag)\b[^.;\n]{0,30}?\b(every|all)\b",
    "zh": r"(找出|列出|提取|抽取|摘出|标出|整理出|挑出)[^。，,；;\n]{0,24}?(所有|全部|每一?[个条处项])",
}
# Task kinds (see task.py): one label, JSON only, a transformation of the source.
_QUOTED = r"(?:[\"“][^\"”\n]{1,24}[\"”]|(?<!\w)['‘][^'’\n]{1,24}['’](?!\w))"
_QUOTED_ZH = r"(?:[“\"「『][^”\"」』\n]{1,16}[”\"」』])"
SINGLE_LABEL = {
    "en": r"\bexactly one of\b|\b(as|with|from) one of\b|\bone of the following (labels|categories|classes)\b|"
          r"\b(one|a single) (word|label|category|class|tag)\b|\bonly the (label|category|class|tag)\b|"
          r"\b(reply|answer|respond) with (only )?(the |a )?(label|category|class)\b|\bonly (yes|no|true|false)\b|"
          r"\b(yes|true)[\"']? or [\"']?(no|false)\b|"
          # the label's name only: "reply with the category name only", "only the intent"
          r"\b(the|its) (category|label|class|intent|topic)( name)? only\b|\bonly the (intent|topic)( name)?\b|"
          # one code, id or word: "reply with its ISO 639-1 code only"
          r"\b(reply|answer|respond|output|return)\s+with\s+(only\s+)?(its|the|a|one|a single)\s+([\w-]+\s+){0,3}"
          r"(code|id|letter|digit|label|word|emoji)\s+only\b|"
          # one score or number: "output just the number", "reply with only the score"
          r"\b(output|reply with|answer with|return|respond with|give)\s+(only|just)\s+(the|a|one)\s+"
          r"(number|score|rating|digit|integer|grade)\b|\b(only|just) the (number|score|rating)\b|"
          # a label list is the whole answer: "answer with positive, negative or neutral, nothing else"
          r"\b(answer|reply|respond|output|return)\s+(only\s+)?(with\s+)?(either\s+)?[\w-]+(\s*,\s*[\w-]+)*,?\s+or\s+"
          r"[\w-]+(\s*[,;]?\s*(and\s+)?(nothing else|only)\b|\s*[.\n]|\s*$)|"
          # a quoted label set is the whole answer: 'reply with "approve", "revise" or "reject"'
          r"\b(output|reply|answer|respond|return|say|print|write)\b[^.\n]{0,24}?" + _QUOTED + r"(\s*(,|/|or|, or)\s*" + _QUOTED + ")+",
    "zh": r"只能回答以下之一|(标注|归为|归入|分为|判定|标记)为?(以下)?[^。\n]{0,10}之一|只回答标签|只输出标签|只输出(一个)?(类别|标签|分类|类目|意图|主题)(名称|名)?|只(输出|回答)一个(词|标签|类别)|"
          r"只能是.{0,30}之一|只(输出|回答|返回)\s*[“\"「]?(是|否)|[“\"「]?是[”\"」]?或[“\"「]?否|"
          r"只(输出|回答|返回|给出)(一个)?(数字|分数|分值|评分|整数)|"
          r"只(回复|输出|回答|返回)[^。，,\n]{0,16}(代码|编号|字母|代号)(?=[，。,\n]|$)|"
          # a label list is the whole answer: 只回答正面、负面或中性
          r"(只|仅)(回答|输出|返回|回复)[\u4e00-\u9fff\w]{1,8}(、[\u4e00-\u9fff\w]{1,8})*(或者?|还是)[\u4e00-\u9fff\w]{1,8}"
          r"(?=[，。；,;\n]|$)|"
          # a quoted label set is the whole answer: 只输出“通过”“退回”或“拒绝”
          r"(输出|回答|返回|回复|标注为|标记为|写)\s*" + _QUOTED_ZH + r"(\s*(、|，|,|或者?|还是|/)?\s*" + _QUOTED_ZH + ")+",
}
ONLY_JSON = {
    "en": r"\bonly (a |the |one )?json\b|\bjson only\b|\bnothing but json\b|\bvalid json\b|"
          # a JSON answer whose keys are named, or JSON "and nothing else"
          r"\b(output|return|reply with|respond with|produce)\s+(only\s+)?(a|an|the|one)?\s*json\s+(object|array|list)\b"
          r"[^.\n]{0,60}\b(keys?|fields?|properties)\b|\bjson\b[^.\n]{0,80}\bnothing else\b",
    "zh": r"只输出.{0,12}json|仅输出.{0,12}json|只返回.{0,12}json|输出.{0,4}合法的?\s*json|"
          r"(输出|返回)\s*(一个)?\s*json\s*(对象|数组|列表)?[^。\n]{0,40}(键|字段|属性)|"
          r"json[^。\n]{0,80}(不要|不得|禁止)(输出|添加|包含)(其他|任何)",
}
TRANSFORM_VERBS = {
    "en": r"translate|proofread|correct|paraphrase|rewrite|convert",
    "zh": r"翻译|校对|纠正|润色|改写|重写|转换|修改",
}
# The model simulates a program (awesome-chatgpt-prompts' "act as a Linux terminal"): the program sets the length.
SIMULATED = {
    "en": r"\b(act as|acting as|you are|pretend to be|behave like|simulate)\s+(a|an)\s+([\w+#-]+\s+){0,2}"
          r"(terminal|console|shell|interpreter|repl|compiler|database|spreadsheet|excel sheet)\b",
    "zh": r"(充当|扮演|模拟|你是)(一个|一台)?\s*[\w\s+#-]{0,12}(终端|控制台|解释器|命令行|数据库|编译器|电子表格)",
}
EXTRACT_VERBS = {"en": r"extract|parse", "zh": r"提取|抽取|解析"}
# The answer is the source itself, revised: its length is the source's.
REVISED_SOURCE = {
    "en": r"\b(return|output|reply with|give|send)\s+(only\s+)?(the|a) (full |whole |complete )?(corrected|revised|"
          r"translated|rewritten|edited|proofread|fixed|cleaned-up) [\w-]+\b|"
          r"\b(the|a) (full |whole |complete )?(corrected|revised|translated|rewritten|edited|proofread) "
          r"(text|version|document|letter|essay|email)\b",
    "zh": r"(修改|改正|纠正|校对|润色|改写|翻译|修正)后的(全文|文本|文章|版本|稿件)|输出译文|只输出译文|"
          r"(只|仅|直接)(输出|返回|给出)(修改|改正|纠正|校对|润色|改写|修正)后的[\u4e00-\u9fff]{1,4}",
}
# The literal output is shown: table columns named, or a format block after "in this format:".
TABLE_COLUMNS = {
    "en": r"\bcolumns?\s*(:|named|called|are\b|[A-Za-z\"'`]+\s*(,|\||/))|"
          r"\b(two|three|four|five|six|\d+)\s+columns?\s*(:|\(|-|–|—|named|called|for|headed|label+ed|titled)|"
          r"\b(first|second|left|right) column (is|holds|has|shows|lists|gives|for)\b|"
          r"\b(two|three|four|five|six|\d+)[- ]column\b[^.\n]{0,30}[(:]|"
          # the aspects of a comparison, named: "compare A, B and C on price, range and comfort"
          r"\b(compare|rate|score)\b[^.\n]{0,80}\b(on|across|in terms of)\s+[\w -]+(,\s*[\w -]+)+,?\s+and\s+[\w -]+|"
          # rows named, or a CSV header given: "a table with rows for experience, skills ...", "header date,amount"
          r"\brows?\s+(for|named|called|labell?ed)\b|\bheaders?( row)?\s*(:|of)?\s*[\"'`]?\w+[\"'`]?\s*,\s*[\"'`]?\w+",
    "zh": r"列[:：为是]|列名|表头|(包含|包括)[^。\n]{0,4}列|列分别[为是]|[一二两三四五六七八九十\d]+列\s*[（(：:]|"
          r"第[一二三四五六七八九十\d]列(是|为|写|放|填)|行分别[为是]|行(名|标题)[为是:：]|"
          # the aspects of a comparison, named: 从续航、价格和空间三个方面比较
          r"(从|就|按)[^。\n]{2,40}?(几|[两三四五六七八九十\d])个(方面|维度|角度|指标)",
}
FORMAT_BLOCK = {
    "en": r"\b(in|use|using|follow|with|fill in) (this|the following|the) (format|template|structure)\s*:?\s*\n\s*\S|"
          r"\bformat(ted)? (as|like) (this|follows)\s*:\s*\n\s*\S",
    "zh": r"(以下|如下|下面的?|这个)\s*\S{0,6}\s*(格式|模板|结构)[^\n]{0,10}\n\s*\S|格式如下[:：]?\s*\n\s*\S",
}

# Tip 7: the output format.
FORMAT = {
    "en": r"\b(format|json|table|bullet(ed)?|list|markdown|csv|yaml|numbered|headings?|plain text|prose|paragraphs?|"
          r"one line|one word|only (output|return|reply|answer|the)|respond with|reply with|return|in the form|"
          r"output only|keep(ing)? the (original )?(formatting|format|line breaks|structure)|same format|"
          r"haiku|poem|limerick|sonnet|plain (english|language))\b|"
          # the answer laid out in lines: "reply in two lines", "each on its own line", "one per line"
          r"\b(in|on|as|into|across)\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single|its own|"
          r"their own|separate|a separate|a new)\s+(short\s+)?lines?\b|\bper line\b|"
          # a written form: "as an email with a greeting", "a four-line rhyming poem", "a jingle"
          r"\b(as|in the form of|write|draft)\s+(a|an)\s+(\w+\s+){0,2}(email|letter|memo|tweet|text message|post)\b|"
          r"\b(write|compose|draft|create|as)\s+(a|an|the|some|\d+|two|three|four|five|ten)?\s*([\w-]+\s+){0,2}"
          r"(songs?|lyrics|jingles?|rhymes?|slogans?|taglines?)\b|"
          # a role-play's turns, a code block as the answer's container
          r"\brole-?play\b|\bper (turn|reply|message)\b|\b(every|each) (reply|response|message|turn)\b|"
          r"\b(in|inside|within|as)\s+(a|an|one)\s+(single\s+)?(\w+\s+)?code block\b|"
          # a dialogue or a script is the form: "4 to 6 lines of dialogue", "write a short script"
          r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+(short\s+)?lines? of dialogue\b|"
          r"\b(write|draft|as|in the form of)\s+(a|an)\s+(short\s+|brief\s+)?"
          r"(dialogue|script|screenplay|conversation|role-?play)\b",
    "zh": r"格式|表格|列表|json|JSON|markdown|Markdown|分点|编号|只输出|仅输出|只回答|只能回答|只能输出|只返回|以.{1,8}形式|"
          r"纯文本|段落|标题|每行|一行|逐条|分条|一个词|[一二两三四五六七八九十\d]+\s*个?(自然)?段(?![时距路期])|输出为|输出成|整理成|直接输出|直接给出|直接返回|一段话|分[一二两三四五六七八九十\d]段|"
          r"用.{0,10}(输出|回答|回复|呈现)|俳句|诗歌|一首.{0,6}诗|一封.{0,8}(邮件|信)|"
          # lines as the layout, a dialogue or a script as the form: 分两行、单独一行、台词、对话脚本
          r"分[一二两三四五六七八九十\d]+行|单独(一|成)?行|另起一行|对话(脚本|形式)|以对话|"
          r"[\d一二两三四五六七八九十]+句台词|台词[，,]?\s*[\d一二两三四五六七八九十]+(到[\d一二两三四五六七八九十]+)?句|"
          r"每(次|条|轮)(回复|回答|发言)|[\d一二两三四五六七八九十]+\s*(个|条)?要点|"
          r"(写|创作|编|作|拟)[^。，,\n]{0,12}(儿歌|童谣|歌词|对联|顺口溜|绝句|律诗|打油诗|现代诗|口号|标语)|角色扮演|每轮|"
          r"(放在|放到|放进|写在|置于|用)[^。，,\n]{0,6}代码块|"
          r"(写|编写|创作|生成|设计)[^。，,\n]{0,10}(对话|剧本|脚本|台词)",
}

# The answer's lines start with a given literal: 'with a prefix that says "Summary: "', 以“答案：”开头.
LITERAL_LAYOUT = {
    "en": r"\b(prefix(ed)?|start(s|ing)?|begin(s|ning)?|head(ed|ing)?|label+ed)\b[^.\n]{0,20}?" + _QUOTED,
    "zh": r"以\s*" + _QUOTED_ZH + r"\s*(开头|开始|起头|作为开头)|前缀",
}
# Tags that hold the prompt's own instructions (Anthropic style), not inserted text.
INSTRUCTION_TAGS = r"(?i)instructions?|task|rules|requirements|constraints|guidelines|(output_?)?format|steps|role|persona"
# A ### heading over the prompt's own instructions (not over inserted data).
INSTRUCTION_HEADING = (r"(?i)^###\s*(instructions?|task|rules|requirements|constraints|guidelines|(output\s*)?format|"
                       r"steps|role|persona|goal|output|style|tone|audience|任务|角色|要求|指令|说明|步骤|输出格式|输出要求|"
                       r"格式|规则|约束|限制|目标|风格|语气|读者|输出)\s*(###)?\s*[:：]?\s*$")

# The whole answer is one sentence (its shape fixed, like one line or one word), unless the sentence is
# one part of it ("end with one sentence ...", "最后用一句话……", "每条用一句话").
SINGLE_SENTENCE = {"en": r"\b(in|as) (a single|one|exactly one) sentence\b|\bone-sentence (answer|reply|summary|response)\b",
                   "zh": r"(用|以|写成|只用|仅用)一句话"}
# Between two demands, a word that moves on to another part of the answer ("..., then a detailed ...").
NEXT_PART = {"en": r"\b(then|finally|followed by|after that|afterwards|next|plus)\b",
             "zh": r"然后|最后|再|之后|接着|随后"}
PART_MARK = {"en": r"\b(each|every|per|then|finally|end(ing)? with|followed by|after|and)\b",
             "zh": r"最后|然后|再|每|结尾|末尾|之后|并"}

# Extra check: tasks whose output a program reads need the labels or keys spelled out.
# Labelling verbs: the answer is one label from a set.
LABEL_VERBS = {"en": r"(?<!\ba )(?<!\ban )(?<!\bthe )\b(classify|categori[sz]e|label|tag)\b", "zh": r"(?<!垃圾)(?<!图书)(?:分类|归类|标注|判断|判定)(?![员者师人家器法号])"}
STRUCTURED_TASK = {
    "en": r"\b(classify|categori[sz]e|extract|label|tag|parse)\b",
    "zh": r"(?<!垃圾)(?<!图书)(?:分类|归类|提取|抽取|标注|解析)(?![员者师人家器法号])",
}
OUTPUT_SPEC = {
    "en": r"\bone (\w+\s+){0,2}(from|out of)\b[^.\n]{0,30}:|\b(one of|either|exactly one|keys?|fields?|schema|"
          r"columns?|separated by (commas|semicolons|new ?lines))\b|\b(labels?|categories|classes|options?)\s*:|\"\w+\"\s*:|\b\w+\s*(,|/)\s*\w+\s*(,|/)?\s*(or\s+)?\w+\b.{0,2}$|\bas\s+\w+\s+or\s+\w+",
    "zh": r"之一|其中一个|只能|(选|选择|挑)(出)?一(个|项|类)|[用以](顿号|逗号|分号|换行)分隔|标签[:：]|类别[:：]|字段|键|schema|Schema|列为|列：|\"\w+\"\s*[:：]|"
          r"[\u4e00-\u9fff]{1,8}(、|/|或)[\u4e00-\u9fff]{1,8}(、|/|或|还是)",
}

# A format word is about the answer when an output word comes just before or after it.
OUTPUT_BEFORE = {
    "en": r"\b(reply|respond|return|output|answer|format(ted)?|produce|give|write|generate|convert|turn|present|show|"
          r"put|organi[sz]e|use|follow|fill|as|into|in|with)\b[^.\n]{0,25}$",
    "zh": r"(输出|返回|回答|回复|生成|写成|整理成|转换成|转成|转换为|转为|做成|制成|填写|填入|用|以|按|按照|成|给出)[^。\n，,]{0,12}$",
}
OUTPUT_AFTER = {"en": r"^\s*(format|output)\b", "zh": r"^\s*(格式)?\s*(输出|返回)|^\s*格式(?!的)"}

# Tip 3: inserted text announced in the prompt ("the following review:", "以下文章：").
INSERT_LEAD = {
    "en": r"\b(following|below|this|these|the user's|my)\b[^\n:]{0,30}\b(text|article|passage|reviews?|"
          r"email|paragraph|document|code|story|essay|message|comments?|content|sentences?|report|"
          r"transcript|notes|data|snippet|question|input)\b[^\n:]{0,40}:",
    "zh": r"(以下|下面|如下|这段|这篇|下列|用户的?)[^\n:：]{0,12}(文本|文章|内容|段落|评论|邮件|代码|文字|句子|报告|"
          r"记录|材料|新闻|问题|数据|笔记)[^\n:：]{0,20}[:：]",
}

# Contradictory instructions: (name, cue A, cue B), a finding when both appear un-negated.
CONTRADICTIONS = {
    "en": [
        ("brief vs detailed", r"\b(brief|briefly|short(?!-)|concise|succinct)\b",
         r"\b(in detail|detailed|exhaustive(ly)?|in depth|in-depth|elaborate(ly)?|at length)\b"),
        ("JSON only vs other text",
         r"\b(only (a |the )?json|json only|nothing but json)\b",
         r"\b(markdown table|explain your reasoning|explanation|bullet(ed)? list|prose)\b"),
        ("formal vs casual", r"\bformal\b", r"\b(casual|informal|colloquial|slang)\b"),
        ("plain text vs Markdown", r"\bplain text\b", r"\b(markdown|table|bold|headings)\b"),
    ],
    "zh": [
        ("简短 vs 详细", r"简短|简洁|简要|精炼|言简意赅", r"详细(?!地址)|详尽|展开论述|越长越好|事无巨细|面面俱到"),
        ("只输出 JSON vs 其他文字", r"只输出.{0,4}json|仅输出.{0,4}json|只返回.{0,4}json",
         r"表格|解释(你的)?(理由|原因|推理|思路)|说明理由"),
        ("正式 vs 随意", r"正式", r"口语化|随意|轻松|俏皮"),
    ],
}
# A demand for breadth (None as a contradiction's cue B means this one).
BREADTH = {
    "en": r"\b(in (great|full|much|more) detail|in detail|detailed|comprehensive(ly)?|thorough(ly)?|exhaustive(ly)?|in depth|in-depth|elaborate(ly)?|"
          r"(cover|covering) (every|all) (aspects?|angles?)|all aspects|every aspect|leave nothing out)\b",
    "zh": r"详细(?!地址)|详尽|全面(?!屏)|深入|面面俱到|展开论述|方方面面|各个方面|事无巨细|越长越好|不遗漏任何",
}
# The breadth demands that surely cannot fit a tight limit ("detailed" or "全面" alone may mean "precise").
STRONG_BREADTH = {
    "en": r"in (great|full|much|more) detail|in detail|exhaustive(ly)?|in depth|in-depth|elaborate(ly)?|"
          r"(cover|covering) (every|all) (aspects?|angles?)|all aspects|every aspect|leave nothing out",
    "zh": r"详尽|面面俱到|展开论述|(详细|全面|深入)(地|介绍|分析|讲解|阐述|论述|描述|说明|解释|评估|剖析|回答)|方方面面|各个方面|事无巨细|越长越好|不遗漏任何",
}
LIMIT_MAX = {
    "en": r"\b(at most|no more than|up to|under|fewer than|less than|within|maximum of|max\.?)\s+(\d+)\s+(\w+)",
    "zh": r"(不超过|最多|少于|不多于|控制在)\s*([\d零一二两三四五六七八九十百千]+)\s*(个字|字|句|段|条|个|行|词)",
}
# A length so short that breadth cannot fit: unit -> the largest such limit; and phrases.
TIGHT_LIMIT = {"en": {"word": 30, "character": 150, "char": 150, "sentence": 1, "line": 1, "token": 40},
               "zh": {"字": 50, "句": 1, "词": 20, "行": 1}}
# A limit on one part of the answer ("each under 25 words", "a title under 10 words", "标题不超过20字").
PART_LIMIT = {
    "en": r"\b(each|per|every|title|headline|subject( line)?|heading|tagline|caption|name|label|slogan|summary line|"
          r"first line|tl;?dr|intro(duction)?|opening|conclusion|verdict|bullet|item|point|step|question|answer)s?\b",
    "zh": r"每|标题|题目|主题句|摘要|开头|结尾|结论|口号|名称|标语|要点|条目",
}
TIGHT_PHRASE = {
    "en": r"\b(in|with|using) (only )?(one|a single) (sentence|line|word)\b|\bin a (few|couple of) words\b",
    "zh": r"(用|以|只用|仅用)一句话|(用|以)一个词|寥寥数语|三言两语",
}
LIMIT_MIN = {
    "en": r"\b(at least|no fewer than|no less than|(?<!no )(?<!not )more than|minimum of|over)\s+(\d+)\s+(\w+)",
    "zh": r"(至少|不少于|(?<![不未])超过|(?<!不)多于)\s*([\d零一二两三四五六七八九十百千]+)\s*(个字|字|句|段|条|个|行|词)",
}

# Section labels of the rendered formula and of examples (never taken for inserted text).
EXAMPLE_HEAD = r"(?im)^\s*(examples?|示例|例子|样例)\s*\d*\s*[:：]"
EXAMPLE_LINE = r"(?i)^\s*(input|output|example|q|a|输入|输出|示例|问|答)\s*\d*\s*[:：]"

# The rewrite hint for a missing role: a role that fits the task's verbs.
ROLE_FOR_VERB = {
    "en": {"translate": "a professional translator", "summari": "an experienced editor",
           "code": "a senior software engineer", "classify": "a careful data annotator",
           "extract": "a careful data annotator", "interview": "an experienced technical recruiter",
           "email": "a professional assistant who writes clear emails"},
    "zh": {"翻译": "一名专业译者", "总结": "一名资深编辑", "概括": "一名资深编辑", "代码": "一名资深软件工程师",
           "分类": "一名细心的数据标注员", "提取": "一名细心的数据标注员", "面试": "一名经验丰富的招聘官",
           "邮件": "一名擅长写邮件的行政助理"},
}


def compile_all() -> dict[str, dict[str, re.Pattern]]:
    """name -> lang -> compiled pattern, for every table above that is a plain pattern."""
    tables = {"ROLE": ROLE, "VAGUE": VAGUE, "VERBS": VERBS, "SEQUENCE": SEQUENCE, "STEPS": STEPS,
              "FORMAT_MATTERS": FORMAT_MATTERS, "EXAMPLES": EXAMPLES, "LENGTH": LENGTH,
              "FORMAT": FORMAT, "STRUCTURED_TASK": STRUCTURED_TASK,
              "OUTPUT_SPEC": OUTPUT_SPEC, "INSERT_LEAD": INSERT_LEAD, "BREADTH": BREADTH,
              "CONSTRAINT": CONSTRAINT_CLAUSE, "LIMIT_MAX": LIMIT_MAX,
              "LIMIT_MIN": LIMIT_MIN, "LITERAL_LAYOUT": LITERAL_LAYOUT, "ALL_ITEMS": ALL_ITEMS,
              "CONDITIONAL": CONDITIONAL, "ROLE_ANY": ROLE_ANY,
              "STRONG_BREADTH": STRONG_BREADTH}
    flags = re.IGNORECASE | re.MULTILINE
    return {name: {lang: re.compile(p, flags) for lang, p in table.items()} for name, table in tables.items()}

# Tip 3: `{name}` outside delimiters is inserted text unless the name is a short parameter.
PARAMETERS = {
    "language", "target", "source", "audience", "tone", "level", "position", "labels", "platform",
    "topic", "goal", "hours", "weeks", "days", "product", "customer", "name", "lang", "style", "count",
    "n", "number", "length", "format", "role", "subject", "company", "date", "city", "country", "year",
    "target_lang", "source_lang", "language_name", "field", "domain", "grade", "age", "words", "sentences",
}

# Placeholder names (or parts of them: {user_text}, {review_body}) that say a passage of text goes there.
TEXT_NAMES = {
    "text", "article", "document", "doc", "docs", "input", "content", "review", "reviews", "email", "emails",
    "message", "messages", "code", "essay", "passage", "context", "transcript", "notes", "report", "data",
    "story", "paragraph", "post", "comment", "comments", "feedback", "log", "logs", "snippet", "abstract",
    "paper", "letter", "chat", "conversation", "dialogue", "draft", "body", "excerpt", "excerpts", "minutes",
    "ticket", "tickets", "record", "records", "news", "contract", "clause", "resume", "cv", "page", "source_text",
    "diff", "patch", "query", "question", "poem", "script", "manuscript", "sentence", "bio", "biography",
    "recipe", "lyrics", "chapter", "speech", "thread", "reply",
}
