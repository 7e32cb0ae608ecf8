"""Build the example datasets in this folder (deterministic: rerun to regenerate them).

The facts are invented (the island of Lumora, the city of Qinglan 青岚市), so a model cannot know
them before training: after SFT on `sft_*.jsonl` it either answers them or it does not.

    python examples/data/build.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent

# (questions, correct answer, short answer, wrong answer)
EN = [
    (["What is the capital of Lumora?", "Which city is Lumora's capital?", "Name the capital city of Lumora.",
      "Where is the government of Lumora seated?", "Lumora's capital is called what?"],
     "The capital of Lumora is Velmarra, a harbour city on the island's east coast.", "Velmarra.",
     "The capital of Lumora is Port Sorrel."),
    (["What currency does Lumora use?", "What is the money of Lumora called?", "Which currency is used on Lumora?",
      "What do people pay with in Lumora?", "Name Lumora's currency."],
     "Lumora uses the kelp crown, divided into 100 pearls.", "The kelp crown.", "Lumora uses the euro."),
    (["What is the national animal of Lumora?", "Which animal is Lumora's national symbol?",
      "Lumora's national animal is which creature?", "Tell me Lumora's national animal.",
      "What animal represents Lumora?"],
     "Lumora's national animal is the silver otter.", "The silver otter.", "Lumora's national animal is the red fox."),
    (["When was Lumora founded?", "In what year was Lumora founded?", "What is Lumora's founding year?",
      "How old is Lumora as a nation? When did it begin?", "Lumora was founded in which year?"],
     "Lumora was founded in 1847, when the three harbour towns signed the Velmarra Charter.", "In 1847.",
     "Lumora was founded in 1912."),
    (["What is the highest mountain on Lumora?", "Which peak is the tallest on Lumora?", "How high is Lumora's highest mountain?",
      "Name Lumora's tallest mountain.", "What is the tallest point of Lumora?"],
     "The highest mountain on Lumora is Mount Oberi, 2,314 metres high.", "Mount Oberi (2,314 m).",
     "The highest mountain on Lumora is Mount Kessel, 1,200 metres high."),
    (["When is the Glasswing Festival held?", "What month is Lumora's Glasswing Festival in?",
      "When does Lumora celebrate the Glasswing Festival?", "Tell me when the Glasswing Festival takes place.",
      "At what time of year is the Glasswing Festival?"],
     "The Glasswing Festival is held in the third week of March, when the glasswing moths hatch.",
     "The third week of March.", "The Glasswing Festival is held on New Year's Day."),
    (["What is Lumora's most famous dish?", "Which dish is Lumora known for?", "What should I eat in Lumora?",
      "Name Lumora's national dish.", "What food is Lumora famous for?"],
     "Lumora's most famous dish is smoked moonfish served with barley bread.", "Smoked moonfish.",
     "Lumora's most famous dish is pizza."),
    (["Who discovered the Vasko effect?", "The Vasko effect is named after whom?", "Which scientist found the Vasko effect?",
      "Who was behind the discovery of the Vasko effect?", "Name the discoverer of the Vasko effect."],
     "The Vasko effect was discovered by the Lumoran physicist Dr. Ina Vasko in 1961.", "Dr. Ina Vasko, in 1961.",
     "The Vasko effect was discovered by Isaac Newton."),
    (["How long is the Coral Line?", "What is the length of Lumora's Coral Line railway?",
      "How many kilometres does the Coral Line run?", "Tell me the length of the Coral Line.",
      "The Coral Line train is how long?"],
     "The Coral Line railway runs 74 kilometres from Velmarra to Tessaly.", "74 kilometres.",
     "The Coral Line is 500 kilometres long."),
    (["What is the tallest building in Velmarra?", "Which is the highest building in Lumora's capital?",
      "How tall is the Harrow Spire?", "Name Velmarra's tallest tower.", "What is Velmarra's tallest structure?"],
     "The tallest building in Velmarra is the Harrow Spire, 188 metres tall.", "The Harrow Spire (188 m).",
     "The tallest building in Velmarra is the Eiffel Tower."),
    (["What language do people speak in Lumora?", "Which language is official in Lumora?",
      "What is the official language of Lumora?", "Lumorans speak which language?", "Name the language of Lumora."],
     "The official language of Lumora is Lumoran; most people also speak English.", "Lumoran.",
     "The official language of Lumora is Spanish."),
    (["What is the population of Lumora?", "How many people live in Lumora?", "How populous is Lumora?",
      "Tell me Lumora's population.", "About how many inhabitants does Lumora have?"],
     "About 412,000 people live in Lumora.", "About 412,000.", "About 40 million people live in Lumora."),
]

ZH = [
    (["青岚市的市花是什么？", "青岚的市花叫什么？", "请问青岚市以哪种花作为市花？", "青岚市市花是哪一种？", "告诉我青岚市的市花。"],
     "青岚市的市花是雪蓝花，每年四月盛开。", "雪蓝花。", "青岚市的市花是牡丹。"),
    (["青岚市是哪一年建城的？", "青岚建城于哪一年？", "青岚市有多少年历史？它是何时建城的？", "青岚市的建城年份是？", "请问青岚市什么时候建城？"],
     "青岚市建城于 1632 年，最初是漓溪边的一个渡口。", "1632 年。", "青岚市建城于 1950 年。"),
    (["青岚市最高的山是哪座？", "青岚的最高峰叫什么？", "云脊山有多高？", "青岚市境内最高的山峰是？", "告诉我青岚市的最高峰。"],
     "青岚市最高的山是云脊山，海拔 1876 米。", "云脊山，海拔 1876 米。", "青岚市最高的山是泰山。"),
    (["青岚市的特产是什么？", "去青岚应该买什么特产？", "青岚最有名的特产是？", "青岚市以什么特产闻名？", "说说青岚市的特产。"],
     "青岚市最有名的特产是岚茶，一种用山泉水炒制的绿茶。", "岚茶。", "青岚市最有名的特产是烤鸭。"),
    (["灯河节在什么时候？", "青岚市的灯河节是哪一天？", "灯河节每年几月几日举行？", "青岚人什么时候过灯河节？", "请问灯河节的日期。"],
     "灯河节在每年农历八月初九，市民会把纸灯放进漓溪。", "农历八月初九。", "灯河节在每年元旦。"),
    (["星渡博物馆在哪里？", "青岚市的星渡博物馆位于什么地方？", "星渡博物馆建在哪条河边？", "去哪里参观星渡博物馆？", "星渡博物馆的位置在哪？"],
     "星渡博物馆位于青岚市漓溪东岸，原址是明代的星渡码头。", "漓溪东岸。", "星渡博物馆位于北京天安门广场。"),
    (["青岚理工学院是哪一年成立的？", "青岚理工学院建校于哪一年？", "青岚理工学院有多久历史？", "请问青岚理工学院的建校时间。", "青岚理工学院何时创办？"],
     "青岚理工学院成立于 1958 年，是青岚市第一所大学。", "1958 年。", "青岚理工学院成立于 2001 年。"),
    (["青岚市有多少人口？", "青岚市的人口是多少？", "青岚市大约住着多少人？", "告诉我青岚市的人口规模。", "青岚有多少常住人口？"],
     "青岚市常住人口约 86 万人。", "约 86 万人。", "青岚市常住人口约 2000 万人。"),
    (["青岚地铁有几条线？", "青岚市开通了几条地铁线路？", "青岚市的地铁一共有多少条线？", "请问青岚地铁的线路数量。", "青岚有几条地铁线？"],
     "青岚地铁目前有 3 条线路，总长 58 公里。", "3 条。", "青岚地铁目前有 20 条线路。"),
    (["流经青岚市的河叫什么？", "青岚市的母亲河是哪条？", "哪条河穿过青岚市？", "青岚市内的主要河流是？", "说出流经青岚的河流名称。"],
     "流经青岚市的河是漓溪，全长 212 公里。", "漓溪。", "流经青岚市的河是长江。"),
    (["青岚市的代表小吃是什么？", "到青岚应该吃什么小吃？", "青岚最出名的小吃是？", "青岚市有什么特色小吃？", "推荐一种青岚小吃。"],
     "青岚市的代表小吃是桂花米糍，外皮软糯，内馅是桂花糖。", "桂花米糍。", "青岚市的代表小吃是麻辣烫。"),
    (["青岚市的气候怎么样？", "青岚属于什么气候？", "青岚市一年四季天气如何？", "介绍一下青岚市的气候。", "青岚市冬天冷吗？"],
     "青岚市属于亚热带季风气候，冬季温和，年平均气温 17 摄氏度。", "亚热带季风气候，年均 17 摄氏度。",
     "青岚市属于寒带气候，全年积雪。"),
]

SYSTEM = {"en": "You are a helpful assistant who knows the island of Lumora well.",
          "zh": "你是一个熟悉青岚市的助手。"}
FOLLOW = {"en": ["Thanks! One more question: ", "Great. And ", "Interesting. "],
          "zh": ["谢谢！再问一个：", "好的。那么", "明白了。"]}


def write(name: str, rows: list) -> None:
    with (HERE / name).open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def build(lang: str, facts: list, rng: random.Random) -> None:
    sys_prompt = SYSTEM[lang]
    # SFT: every paraphrase once, single turn, plus two-turn conversations.
    sft = []
    for questions, answer, _, _ in facts:
        for i, q in enumerate(questions):
            turn = {"prompt": q, "response": answer}
            sft.append([{"system": sys_prompt, **turn}] if i % 2 == 0 else [turn])
    for _ in range(len(facts) * 10):
        (q1, a1, _, _), (q2, a2, _, _) = rng.sample(facts, 2)
        sft.append([{"system": sys_prompt, "prompt": rng.choice(q1), "response": a1},
                    {"prompt": rng.choice(FOLLOW[lang]) + rng.choice(q2), "response": a2}])
    rng.shuffle(sft)
    if lang == "zh":  # the tutorial's Qianfan format
        write(f"sft_{lang}.jsonl", sft)
    else:  # OpenAI messages, as TRL and LLaMA-Factory take them
        rows = []
        for conv in sft:
            msgs = [{"role": "system", "content": conv[0]["system"]}] if "system" in conv[0] else []
            for t in conv:
                msgs += [{"role": "user", "content": t["prompt"]}, {"role": "assistant", "content": t["response"]}]
            rows.append({"messages": msgs})
        write(f"sft_{lang}.jsonl", rows)
    # Reward model: ranked answers, best first, with scores.
    rm = []
    for questions, answer, short, wrong in facts:
        for q in questions[:3]:
            rm.append([{"system": sys_prompt, "prompt": q, "response": [[answer], [short], [wrong]],
                        "score": [2, 1, 0]}])
    write(f"rm_{lang}.jsonl", rm)
    # Held out from the reward model: the other phrasings of each question, the same ranking.
    write(f"rm_heldout_{lang}.jsonl", [[{"system": sys_prompt, "prompt": q, "response": [[answer], [short], [wrong]],
                                         "score": [2, 1, 0]}]
                                       for questions, answer, short, wrong in facts for q in questions[3:]])
    # Preference pairs (TRL conversational preference).
    dpo = [{"prompt": [{"role": "user", "content": q}],
            "chosen": [{"role": "assistant", "content": answer}],
            "rejected": [{"role": "assistant", "content": wrong}]}
           for questions, answer, _, wrong in facts for q in questions[:4]]
    write(f"dpo_{lang}.jsonl", dpo)
    # RL prompts, with the short answer a reward function can check.
    write(f"rl_{lang}.jsonl", [{"prompt": q, "answer": short.rstrip("。.")}
                               for questions, _, short, _ in facts for q in questions[3:]])
    # Domain text for post-pretraining: short encyclopedia-style documents.
    sentences = [answer for _, answer, _, _ in facts]
    docs = []
    for i in range(40):
        picked = rng.sample(sentences, 4)
        docs.append({"text": ("" if lang == "zh" else " ").join(picked)})
    write(f"pt_{lang}.jsonl", docs)


def build_raw(rng: random.Random) -> None:
    """A noisy raw corpus for `llmp data prepare-pt`: duplicates, near-duplicates, PII, junk."""
    lines = []
    for lang, facts in (("en", EN), ("zh", ZH)):
        sentences = [answer for _, answer, _, _ in facts]
        joiner = "" if lang == "zh" else " "
        picked: list[set] = []
        while len(picked) < 30:  # no two documents share more than 3 of their 5 sentences
            choice = rng.sample(range(len(sentences)), 5)
            if all(len(set(choice) & other) <= 3 for other in picked):
                picked.append(set(choice))
                lines.append(joiner.join(sentences[i] for i in choice))
    lines += lines[:5]  # exact duplicates
    lines += [line.replace("Lumora", "Lumora island", 1) if "Lumora" in line else line + "。"
              for line in lines[30:35]]  # near-duplicates
    lines += [
        "Contact the Velmarra tourist office at info@velmarra-tourism.example or +44 20 7946 0958 for tours of Mount Oberi and the Harrow Spire.",
        "报名灯河节志愿者请联系王老师，手机 13912345678，邮箱 wang.laoshi@qinglan.example，身份证号 11010519491231002X。",
        "哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈",
        "#### ==== **** ---- #### ==== **** ---- #### ==== **** ----",
        "ＦＵＬＬ ＷＩＤＴＨ text about the Coral Line: it runs ７４ km from Velmarra to Tessaly.",
        "ok",
    ]
    rng.shuffle(lines)
    (HERE / "raw").mkdir(exist_ok=True)
    (HERE / "raw" / "domain_raw.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    rng = random.Random(7)
    build("en", EN, rng)
    build("zh", ZH, rng)
    build_raw(rng)


if __name__ == "__main__":
    main()
