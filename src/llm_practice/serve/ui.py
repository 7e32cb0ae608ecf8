"""The web UI: a Gradio app mounted at `/` of the API server, in English and Chinese.

Tabs are built by the functions in `TABS`; a later capability (knowledge base, training) adds
its tab by appending a builder `build(gr, ctx) -> {component: {"en": ..., "zh": ...}}`, where `ctx`
is the server's `AppContext` (config, served models, the generation service, metrics). Every
generation a tab starts goes through `ctx.generation`, like the API's.
The returned texts are what the language switch puts on each component: the label, or the value
of a Button / Markdown.
"""

from __future__ import annotations

from typing import Callable

from ..chat.engine import DEFAULT_REPEAT_PENALTY
from ..errors import LlmpError
from .tab_evaluate import evaluate_tab
from .tab_kb import kb_tab
from .tab_models import models_tab
from .tab_prompts import prompt_lab_tab
from .tab_train import train_tab

LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "## llm-practice", "zh": "## llm-practice 大模型实践"},
    "language": {"en": "Language", "zh": "界面语言"},
    "tab_chat": {"en": "Chat", "zh": "对话"},
    "model": {"en": "Model", "zh": "模型"},
    "system": {"en": "System prompt", "zh": "系统提示词"},
    "temperature": {"en": "Temperature", "zh": "温度 (temperature)"},
    "top_p": {"en": "Top-p", "zh": "Top-p 核采样"},
    "max_tokens": {"en": "Max new tokens", "zh": "最大生成长度"},
    "seed": {"en": "Seed (-1 = random)", "zh": "随机种子（-1 表示随机）"},
    "repeat_penalty": {"en": "Repeat penalty (1 = off)", "zh": "重复惩罚（1 表示关闭）"},
    "frequency_penalty": {"en": "Frequency penalty", "zh": "频率惩罚 (frequency_penalty)"},
    "presence_penalty": {"en": "Presence penalty", "zh": "存在惩罚 (presence_penalty)"},
    "chatbot": {"en": "Conversation", "zh": "对话记录"},
    "message": {"en": "Your message", "zh": "输入消息",
                "placeholder": {"en": "Ask something and press Enter", "zh": "输入问题后按回车"}},
    "send": {"en": "Send", "zh": "发送"},
    "clear": {"en": "Clear", "zh": "清空"},
}


def _text(content) -> str:
    """Gradio may hand message content back as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    if isinstance(content, dict):
        return content.get("text", "")
    return str(content or "")


def chat_tab(gr, ctx) -> dict:
    names = list(ctx.served)
    with gr.Tab(LABELS["tab_chat"]["en"]) as tab:
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label=LABELS["chatbot"]["en"], height=420, elem_id="chatbot",
                                     buttons=["copy", "copy_all"], feedback_options=None)
                message = gr.Textbox(label=LABELS["message"]["en"], elem_id="message",
                                     placeholder=LABELS["message"]["placeholder"]["en"], lines=1)
                with gr.Row():
                    send = gr.Button(LABELS["send"]["en"], variant="primary", elem_id="send")
                    clear = gr.Button(LABELS["clear"]["en"], elem_id="clear")
            with gr.Column(scale=1):
                model = gr.Dropdown(names, value=names[0] if names else None,
                                    label=LABELS["model"]["en"], elem_id="model")
                system = gr.Textbox(label=LABELS["system"]["en"], lines=3, elem_id="system")
                temperature = gr.Slider(0, 2, value=0.7, step=0.05, label=LABELS["temperature"]["en"],
                                        elem_id="temperature")
                top_p = gr.Slider(0.05, 1, value=0.95, step=0.05, label=LABELS["top_p"]["en"])
                max_tokens = gr.Slider(16, 2048, value=256, step=16, label=LABELS["max_tokens"]["en"])
                seed = gr.Number(value=-1, precision=0, label=LABELS["seed"]["en"])
                repeat = gr.Slider(1, 2, value=DEFAULT_REPEAT_PENALTY, step=0.05,
                                   label=LABELS["repeat_penalty"]["en"], elem_id="repeat_penalty")
                frequency = gr.Slider(-2, 2, value=0, step=0.1, label=LABELS["frequency_penalty"]["en"],
                                      elem_id="frequency_penalty")
                presence = gr.Slider(-2, 2, value=0, step=0.1, label=LABELS["presence_penalty"]["en"],
                                     elem_id="presence_penalty")

    async def respond(text, history, model_name, system_text, temp, p, limit, seed_value, repeat_value,
                      frequency_value, presence_value):
        history = list(history or [])
        text = (text or "").strip()
        if not text or model_name not in ctx.served:
            yield "", history
            return
        messages = ([{"role": "system", "content": system_text}] if system_text else [])
        messages += [{"role": m["role"], "content": _text(m["content"])} for m in history]
        messages.append({"role": "user", "content": text})
        history = history + [{"role": "user", "content": text}, {"role": "assistant", "content": ""}]
        yield "", history
        answer = ""
        try:
            seed = None if seed_value is None or seed_value < 0 else int(seed_value)
            async for delta in ctx.generation.chat(model_name, messages, "ui/chat", temperature=float(temp),
                                                   top_p=float(p), max_tokens=int(limit), seed=seed,
                                                   repeat_penalty=float(repeat_value),
                                                   frequency_penalty=float(frequency_value),
                                                   presence_penalty=float(presence_value)):
                answer += delta
                history[-1] = {"role": "assistant", "content": answer}
                yield "", history
        except LlmpError as e:
            history[-1] = {"role": "assistant", "content": (answer + f" [{e.message}]").strip()}
            yield "", history

    inputs = [message, chatbot, model, system, temperature, top_p, max_tokens, seed, repeat, frequency,
              presence]
    message.submit(respond, inputs, [message, chatbot])
    send.click(respond, inputs, [message, chatbot])
    clear.click(lambda: ([], ""), None, [chatbot, message])
    keys = {tab: "tab_chat", chatbot: "chatbot", message: "message", model: "model", system: "system",
            temperature: "temperature", top_p: "top_p", max_tokens: "max_tokens", seed: "seed",
            repeat: "repeat_penalty", frequency: "frequency_penalty", presence: "presence_penalty", send: "send", clear: "clear"}
    return {comp: LABELS[key] for comp, key in keys.items()}


TABS: list[Callable] = [chat_tab, models_tab]
TABS.append(prompt_lab_tab)
TABS.append(evaluate_tab)
TABS.append(kb_tab)
TABS.append(train_tab)


def build_ui(ctx):
    import gradio as gr

    with gr.Blocks(title="llm-practice") as blocks:
        with gr.Row():
            title = gr.Markdown(LABELS["title"]["en"])
            language = gr.Radio(["English", "中文"], value="English", label=LABELS["language"]["en"],
                                elem_id="language")
        labelled: dict = {title: LABELS["title"], language: LABELS["language"]}
        for build in TABS:
            labelled.update(build(gr, ctx))

        components = list(labelled)
        # The user's pick is kept in this browser: a reload, or Gradio's own reload after a lost
        # connection, opens in it. The server also notes which pages picked before their opening
        # ran (by Gradio session; a gr.State would hold a heartbeat stream open for every page).
        kept = gr.BrowserState("", storage_key="llmp-language")
        picked = PickedSessions()

        def switch(choice):
            lang = "zh" if choice == "中文" else "en"
            updates = []
            for comp in components:
                texts = labelled[comp]
                if isinstance(comp, (gr.Button, gr.Markdown)):
                    updates.append(gr.update(value=texts[lang]))
                elif "placeholder" in texts:
                    updates.append(gr.update(label=texts[lang], placeholder=texts["placeholder"][lang]))
                else:
                    updates.append(gr.update(label=texts[lang]))
            return updates

        def pick(choice, request):
            picked.add(request.session_hash if request else None)
            return ["zh" if choice == "中文" else "en", choice, *switch(choice)]

        # `input`, not `change`: only a person's click switches. The opening sets the radio too, and
        # with `change` that update would queue a switch back to the opening's language.
        language.input(pick, language, [kept, language, *components], concurrency_id="ui-language")

        def opening(kept_lang, request):
            """Open in the language last picked in this browser, else the browser's language
            (Accept-Language), else the server's LLMP_LANG. A pick made while the page was still
            opening wins: the opening then leaves everything as the pick set it."""
            if picked.seen(request.session_hash if request else None):
                return [gr.skip()] * (1 + len(components))
            lang = kept_lang if kept_lang in ("en", "zh") else \
                ui_language(request.headers.get("accept-language") if request else None)
            choice = "中文" if lang == "zh" else "English"
            return [choice, *switch(choice)]

        # Gradio passes the request to a parameter annotated gr.Request; this module's
        # postponed annotations would leave it the string "gr.Request", which it cannot resolve.
        opening.__annotations__ = pick.__annotations__ = {"request": gr.Request}

        blocks.load(opening, [kept], [language, *components], concurrency_id="ui-language")
    return blocks


class PickedSessions:
    """The Gradio sessions whose user picked a language, the most recent `limit` of them: only
    a pick made before the page's opening ran matters, and that opening comes moments later."""

    def __init__(self, limit: int = 1024):
        from collections import OrderedDict

        self.limit = limit
        self.sessions: OrderedDict = OrderedDict()

    def add(self, session: str | None) -> None:
        if session:
            self.sessions[session] = True
            while len(self.sessions) > self.limit:
                self.sessions.popitem(last=False)

    def seen(self, session: str | None) -> bool:
        return bool(session) and self.sessions.pop(session, False)


def ui_language(accept_language: str | None) -> str:
    """`zh` or `en`: the browser's most preferred of the two (`zh-CN,zh;q=0.9,en;q=0.8` is zh),
    else the server's language (LLMP_LANG, then the locale)."""
    from ..settings import get_settings

    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        lang = tag.strip().lower()[:2]
        if lang in ("zh", "en") and weight > 0:
            ranked.append((-weight, position, lang))
    return min(ranked)[2] if ranked else get_settings().lang


def mount_ui(app, ctx):
    import gradio as gr

    auth = ("llmp", ctx.config.api_key) if ctx.config.api_key else None
    return gr.mount_gradio_app(app, build_ui(ctx), path="/", auth=auth,
                               auth_message="User: llmp, password: the server's API key." if auth else None)
