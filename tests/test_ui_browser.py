"""The web UI in a real headless Chromium (Debian's), driven by Playwright: chat, stream, language."""

from __future__ import annotations

import time

import pytest

from .browser import ARTIFACTS, chromium

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def page(ui_server):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(ui_server.url + "/", wait_until="networkidle")
        yield page


def bot_text(page) -> str:
    bots = page.locator("#chatbot .bot")
    return bots.last.inner_text() if bots.count() else ""


def test_chat_streams_a_reply_and_screenshot(page):
    temperature = page.locator("#temperature input[type=number]")
    temperature.fill("0")  # greedy, so the tiny model gives its usual answer
    temperature.press("Enter")
    page.locator("#message textarea").fill("Which city is the capital of France?")
    page.locator("#send").click()
    seen = set()
    deadline = time.time() + 90
    while time.time() < deadline:
        text = bot_text(page).strip()
        if text:
            seen.add(text)
        if "." in text and len(seen) >= 1 and page.locator("#chatbot .pending").count() == 0 \
                and len(text) > 10:
            time.sleep(1.0)
            if bot_text(page).strip() == text:
                break
        time.sleep(0.05)
    final = bot_text(page)
    assert "France" in final or "Paris" in final, final
    assert len(seen) >= 2, f"the reply did not stream: {seen}"  # partial texts were shown
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)
    assert (ARTIFACTS / "ui-chat.png").stat().st_size > 10_000

    page.locator("#clear").click()
    page.wait_for_function("() => document.querySelectorAll('#chatbot .bot').length === 0", timeout=10_000)


def test_language_switch_to_chinese(page):
    page.get_by_role("radio", name="中文").check()
    page.wait_for_function(
        "() => document.querySelector('#send') && document.querySelector('#send').innerText.includes('发送')",
        timeout=15_000)
    assert page.get_by_text("系统提示词").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "ui-chat-zh.png"), full_page=True)
    page.get_by_role("radio", name="English").check()
    page.wait_for_function("() => document.querySelector('#send').innerText.includes('Send')",
                           timeout=15_000)
