"""Words shown to people in English and Chinese: the terminal's, and the few that the CLI, the
API and the web UI all say (one text for all three, e.g. `kb_slow_runtime`).

The language comes from `LLMP_LANG` (`zh` or `en`), else from the locale (`LANG=zh_CN.UTF-8`).
Library code returns data; only `cli/` and `serve/` look words up here.
"""

from __future__ import annotations

from .settings import get_settings

MESSAGES: dict[str, dict[str, str]] = {
    "error": {"en": "Error", "zh": "错误"},
    "debug_hint": {
        "en": "Set LLMP_DEBUG=1 to see the traceback.",
        "zh": "设置 LLMP_DEBUG=1 可查看完整的错误堆栈。",
    },
    "chat_banner": {
        "en": "Chatting with {model} ({engine}). Type /help for commands, /exit to quit.",
        "zh": "正在与 {model}（{engine}）对话。输入 /help 查看命令，/exit 退出。",
    },
    "chat_help": {
        "en": (
            "/reset          forget the conversation (keeps the system prompt)\n"
            "/system TEXT    set the system prompt and start over\n"
            "/save FILE      save the conversation as JSON (OpenAI messages)\n"
            "/help           show this help\n"
            "/exit           leave (Ctrl-D works too)\n"
            "Ctrl-C stops the current answer; a second Ctrl-C at the prompt leaves."
        ),
        "zh": (
            "/reset          清空对话（保留系统提示词）\n"
            "/system 文本    设置系统提示词并重新开始\n"
            "/save 文件      把对话保存为 JSON（OpenAI messages 格式）\n"
            "/help           显示本帮助\n"
            "/exit           退出（也可按 Ctrl-D）\n"
            "Ctrl-C 中断当前回答；在输入提示处再按一次 Ctrl-C 退出。"
        ),
    },
    "chat_reset": {"en": "Conversation cleared.", "zh": "对话已清空。"},
    "chat_system_set": {"en": "System prompt set; conversation cleared.", "zh": "已设置系统提示词，对话已清空。"},
    "chat_saved": {"en": "Saved {n} messages to {path}", "zh": "已保存 {n} 条消息到 {path}"},
    "chat_interrupted": {"en": "[stopped]", "zh": "[已中断]"},
    "chat_unknown_command": {
        "en": "Unknown command {cmd}. Type /help.",
        "zh": "未知命令 {cmd}。输入 /help 查看命令。",
    },
    "chat_usage": {"en": "Usage: {usage}", "zh": "用法：{usage}"},
    "chat_loading": {"en": "Loading {model} ...", "zh": "正在加载 {model} ……"},
    "chat_bye": {"en": "Bye.", "zh": "再见。"},
    "chat_exit_hint": {"en": "(Press Ctrl-C again or type /exit to leave.)", "zh": "（再按一次 Ctrl-C 或输入 /exit 退出。）"},
    # `llmp kb add`, the upload of `/v1/kb/NAME/files` and the web UI's Knowledge base tab
    # (embeddings.e5.slow_document_runtime says when)
    "kb_slow_runtime": {
        "en": "Note: {modules} not installed, so documents are embedded by torch float32, about 2x slower. "
              "For the faster int8 runtime: pip install 'llm-practice[rag]'",
        "zh": "提示：未安装 {modules}，文档改用 torch float32 向量化，约慢一倍。"
              "安装更快的 int8 运行时：pip install 'llm-practice[rag]'",
    },
}


def t(key: str, **kwargs) -> str:
    text = MESSAGES[key][get_settings().lang]
    return text.format(**kwargs) if kwargs else text


def both(key: str, **kwargs) -> dict[str, str]:
    """{"en": ..., "zh": ...}: for the web UI, whose language switch picks one per page."""
    return {lang: text.format(**kwargs) if kwargs else text for lang, text in MESSAGES[key].items()}
