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


@pytest.mark.integration
def test_a_pick_made_while_the_page_opens_is_not_undone(ui_server):
    """The opening (it applies the browser's language) is held back at the network until the user
    has picked 中文: when it arrives it must leave the pick alone, and a reload opens in the pick.
    Before, it put English back on every label and on the radio."""
    with chromium() as browser:
        page = browser.new_context(locale="en-US").new_page()
        held = []

        def hold_the_opening(route):
            # The opening is the one event a page sends by itself, so the page's first.
            if not held:
                held.append(route)
            else:
                route.continue_()

        page.route("**/queue/join*", hold_the_opening)
        page.goto(ui_server.url + "/", wait_until="load")
        page.wait_for_function("() => document.querySelector('#language input[value=\"中文\"]')", timeout=30_000)
        while not held:
            page.wait_for_timeout(50)
        # The opening's progress overlay covers the radio from a mouse; a keyboard user, or a click
        # that lands first, still picks. Dispatching the click skips the overlay the same way.
        page.locator('#language input[value="中文"]').dispatch_event("click")
        page.wait_for_function("() => document.querySelector('#send')?.innerText.includes('发送')",
                               timeout=15_000)
        held[0].continue_()
        # The opening and the pick share one queue (concurrency_id), first come first served for
        # every page: once a later page has opened, this page's opening has run.
        later = browser.new_context(locale="zh-CN").new_page()
        later.goto(ui_server.url + "/", wait_until="load")
        later.wait_for_function("() => document.querySelector('#send')?.innerText.includes('发送')",
                                timeout=20_000)
        page.wait_for_timeout(500)  # its answer reaches this page's stream
        assert "发送" in page.locator("#send").inner_text()
        assert page.get_by_text("系统提示词").count() >= 1
        assert page.get_by_role("radio", name="中文").is_checked()

        page.unroute("**/queue/join*")
        page.reload(wait_until="load")  # the pick is kept in this browser, over Accept-Language
        page.wait_for_function("() => document.querySelector('#send')?.innerText.includes('发送')",
                               timeout=20_000)
        assert page.get_by_role("radio", name="中文").is_checked()
