"""The web UI opens in the browser's language: a Chinese browser gets Chinese, the switch stays."""

from __future__ import annotations

import pytest

from llm_practice.serve.ui import ui_language

from .browser import chromium


def test_accept_language_picks_the_preferred_of_zh_and_en(monkeypatch):
    assert ui_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert ui_language("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert ui_language("fr-FR,en;q=0.5,zh-TW;q=0.7") == "zh"
    monkeypatch.setenv("LLMP_LANG", "zh")
    from llm_practice.settings import get_settings

    get_settings.cache_clear()
    assert ui_language(None) == "zh"  # no header: the server's LLMP_LANG
    assert ui_language("fr-FR") == "zh"


@pytest.mark.integration
def test_a_chinese_browser_opens_the_ui_in_chinese(ui_server):
    with chromium() as browser:
        zh = browser.new_context(locale="zh-CN").new_page()
        zh.goto(ui_server.url + "/", wait_until="networkidle")
        zh.wait_for_function("() => document.querySelector('#send')?.innerText.includes('发送')",
                             timeout=20_000)
        assert zh.get_by_text("系统提示词").count() >= 1
        assert zh.get_by_role("radio", name="中文").is_checked()
        zh.get_by_role("radio", name="English").check()  # the switch still works
        zh.wait_for_function("() => document.querySelector('#send').innerText.includes('Send')",
                             timeout=15_000)
        en = browser.new_context(locale="en-US").new_page()
        en.goto(ui_server.url + "/", wait_until="networkidle")
        assert "Send" in en.locator("#send").inner_text()
        assert en.get_by_role("radio", name="English").is_checked()
