"""The web UI in a real headless Chromium (Debian's), driven by Playwright: chat, stream, language."""

from __future__ import annotations

import sys
import time

import httpx
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
    page.locator("#message textarea").fill("Tell me the name of the capital of France.")
    # Every text the reply shows, recorded by the page itself: polling from here can miss all the
    # partial texts when the short reply streams in between two polls on a busy machine.
    page.evaluate("""() => {
        window.llmpSeen = new Set();
        const chat = document.querySelector('#chatbot');
        new MutationObserver(() => {
            const bots = chat.querySelectorAll('.bot');
            if (bots.length) window.llmpSeen.add(bots[bots.length - 1].innerText.trim());
        }).observe(chat, {subtree: true, childList: true, characterData: true});
    }""")
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
    assert "Paris" in final, final
    seen |= {text for text in page.evaluate("() => Array.from(window.llmpSeen)") if text}
    assert len(seen) >= 2, f"the reply did not stream: {seen}"  # partial texts were shown
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)
    assert (ARTIFACTS / "ui-chat.png").stat().st_size > 10_000

    page.locator("#clear").click()
    page.wait_for_function("() => document.querySelectorAll('#chatbot .bot').length === 0", timeout=10_000)


def _metric(server, prefix: str) -> float:
    lines = [line for line in httpx.get(server.url + "/metrics").text.splitlines() if line.startswith(prefix)]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def test_a_ui_generation_is_counted_in_metrics(page, ui_server):
    """The Chat tab goes through the server's one generation service: same metrics as the API."""
    before = _metric(ui_server, 'llmp_requests_total{endpoint="ui/chat",status="200"}')
    tokens = _metric(ui_server, 'llmp_tokens_total{kind="completion",model="smollm2-135m-instruct"}')
    page.locator("#message textarea").fill("Say hello.")
    page.locator("#send").click()
    deadline = time.time() + 90
    while time.time() < deadline and _metric(
            ui_server, 'llmp_requests_total{endpoint="ui/chat",status="200"}') < before + 1:
        time.sleep(0.2)
    assert _metric(ui_server, 'llmp_requests_total{endpoint="ui/chat",status="200"}') == before + 1
    assert _metric(ui_server, 'llmp_tokens_total{kind="completion",model="smollm2-135m-instruct"}') > tokens
    assert _metric(ui_server, 'llmp_request_seconds_count{endpoint="ui/chat"}') >= 1
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


def _create_and_add(page, name: str, document) -> None:
    """In the Knowledge base tab: create `name`, upload `document`, add it, wait until it is in."""
    page.get_by_role("tab", name="Knowledge base").click()
    page.locator("#kb-name input, #kb-name textarea").first.fill(name)
    page.locator("#kb-create").click()
    page.wait_for_function("() => document.querySelector('#kb-status').innerText.includes('Created')", timeout=30_000)
    page.locator("#kb-upload input[type=file]").set_input_files(str(document))
    page.wait_for_function(f"() => document.querySelector('#kb-upload').innerText.includes('{document.name}')",
                           timeout=30_000)
    page.locator("#kb-add").click()
    page.wait_for_function("() => document.querySelector('#kb-status').innerText.includes('Added 1')",
                           timeout=180_000)


def test_knowledge_base_tab_create_upload_chunks_search_and_cited_chat(page, tmp_path):
    """Knowledge base tab: create, upload, file table, chunk viewer, search, chat whose citations link to sources."""
    from .rag_samples import write_samples

    _create_and_add(page, "webdocs", write_samples(tmp_path)["guide.md"])
    assert "guide.md" in page.locator("#kb-files").inner_text()
    assert not page.locator("#kb-note").is_visible()  # onnxruntime installed: no slow-runtime note
    page.locator("#kb-file input").click()
    page.get_by_role("option").filter(has_text="guide.md").first.click()
    page.wait_for_function("() => document.querySelector('#kb-chunks').innerText.includes('8080')", timeout=30_000)
    page.locator("#kb-query input, #kb-query textarea").first.fill("端口在哪里设置？")
    page.locator("#kb-search").click()
    page.wait_for_function("() => document.querySelector('#kb-results').innerText.includes('guide.md')",
                           timeout=60_000)
    page.locator("#kb-question input, #kb-question textarea").first.fill("端口在哪个文件里设置？")
    page.locator("#kb-ask").click()
    page.wait_for_function("() => document.querySelector('#kb-chat').innerText.includes('来源')", timeout=120_000)
    page.locator("#kb-chat a.kb-cite").last.click()
    assert page.evaluate("location.hash").startswith("#kb-src-0-")
    target = page.locator(page.evaluate("location.hash"))
    assert "guide.md" in target.inner_text() and target.is_visible()
    page.screenshot(path=str(ARTIFACTS / "ui-kb.png"), full_page=True)
    page.get_by_role("radio", name="中文").check()  # the tab's labels switch language too
    page.wait_for_function("() => document.querySelector('#kb-ask').innerText.includes('提问')", timeout=15_000)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[role=tab]')).some(t => t.innerText.trim() === '知识库')",
        timeout=15_000)
    page.get_by_role("radio", name="English").check()


def test_knowledge_base_upload_without_onnxruntime_shows_the_slow_runtime_note(page, tmp_path, monkeypatch):
    """onnxruntime missing (made unimportable as in test_kb's CLI test, so the app runs in this
    process, with no chat model): the tab says, under the upload, that documents go through torch
    and how to install the fast runtime, in English and in Chinese. (guide.md's vectors usually
    come from the cache the test above filled.)"""
    from llm_practice.serve.app import create_app
    from llm_practice.serve.config import ServeConfig

    from .rag_samples import write_samples
    from .servers import InProcessServer

    guide = write_samples(tmp_path)["guide.md"]
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with InProcessServer(create_app(ServeConfig(ui=True), served={})) as server:
        slow = page.context.browser.new_page(viewport={"width": 1280, "height": 900})
        slow.goto(server.url + "/", wait_until="networkidle")
        _create_and_add(slow, "slowdocs", guide)
        note = slow.locator("#kb-note")
        assert "onnxruntime not installed, so documents are embedded by torch" in note.inner_text()
        assert "pip install 'llm-practice[rag]'" in note.inner_text()
        slow.screenshot(path=str(ARTIFACTS / "ui-kb-slow-runtime.png"), full_page=True)
        slow.get_by_role("radio", name="中文").check()
        slow.wait_for_function("() => document.querySelector('#kb-note').innerText.includes('未安装 onnxruntime')",
                               timeout=15_000)
        assert "pip install 'llm-practice[rag]'" in note.inner_text()
        slow.close()
