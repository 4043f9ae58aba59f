"""The app driven through its HTTP API with gradio_client: ask, upload, delete, rebuild; and its safety rules."""

from __future__ import annotations

import html
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from assistant.corpus import add_file, safe_name
from assistant.errors import AssistantError
from assistant.records import Answer, Citation, Passage
from assistant.ui import link_markers, render_sources

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def client(app_server):
    return Client(app_server[0], verbose=False)


def ask(client, question, history=()):
    """(history, sources panel, cleared question box); the conversation kept in the browser comes last, left out."""
    history, sources, cleared, _saved = client.predict(question, list(history), 5, "extractive", api_name="/respond")
    return history, sources, cleared


def test_asking_returns_a_cited_answer_and_its_sources(client):
    history, sources, cleared = ask(client, "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
    assert cleared == ""
    assert history[-1]["role"] == "assistant"
    answer = str(history[-1]["content"])
    assert 'class="cite"' in answer and "#src-0-1" in answer
    assert 'id="src-0-1"' in sources and "<mark>" in sources and "Gaité lyrique" in sources


def test_follow_up_question_uses_the_conversation_the_app_returned(client):
    history, _, _ = ask(client, "Qu'est-ce que le Forum des Jeunes au Québec ?")
    history, sources, _ = ask(client, "Et combien de membres compte-t-il ?", history)
    assert len(history) == 4 and "4400 membres" in sources


def test_upload_rebuild_ask_then_delete(client, app_server, tmp_path):
    _, settings = app_server
    document = tmp_path / "atelier-ouvert.md"
    document.write_text(
        "# Le laboratoire Kalimba\n\nLe laboratoire Kalimba a ouvert ses portes à Rodez en 2023 "
        "pour tester des services publics ruraux.\n",
        encoding="utf-8",
    )
    note, table, *_ = client.predict([handle_file(str(document))], api_name="/upload")
    assert "✅ atelier-ouvert.md" in note
    assert (settings.corpus_dir / "atelier-ouvert.md").is_file()
    report, table = client.predict(api_name="/rebuild")
    assert "ajoutés : 1" in report
    rows = {row[0]: row for row in table["data"]}
    assert rows["atelier-ouvert.md"][-1] == "indexé"
    history, sources, _ = ask(client, "Où le laboratoire Kalimba a-t-il ouvert ?")
    assert "Rodez" in str(history[-1]["content"]) and "atelier-ouvert.md" in sources

    note, table, *_ = client.predict("atelier-ouvert.md", api_name="/delete")
    assert "corbeille" in note and not (settings.corpus_dir / "atelier-ouvert.md").exists()
    report, _ = client.predict(api_name="/rebuild")
    assert "retirés : 1" in report


def test_upload_refuses_unsupported_and_oversized_files(client, app_server, tmp_path):
    _, settings = app_server
    script = tmp_path / "outil.exe"
    script.write_bytes(b"MZ")
    big = tmp_path / "gros.txt"
    big.write_text("mot " * 400_000)
    with pytest.raises(Exception, match="Invalid file type"):
        client.predict([handle_file(str(script))], api_name="/upload")
    assert not (settings.corpus_dir / "outil.exe").exists()
    with pytest.raises(Exception):  # noqa: B017 - the server refuses the upload itself (max_file_size)
        client.predict([handle_file(str(big))], api_name="/upload")
    assert not (settings.corpus_dir / "gros.txt").exists()


def test_upload_names_can_never_leave_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    upload = tmp_path / "x.txt"
    upload.write_text("Un texte.")
    for hostile in ["../../etc/passwd.txt", "/etc/cron.d/evil.txt", "..\\..\\win.txt", ".hidden.txt"]:
        name = add_file(corpus, upload, hostile, 1)
        assert (corpus / name).resolve().parent == corpus.resolve() and not name.startswith(".")
    assert safe_name("Rapport final (v2).PDF") == "Rapport final (v2).pdf"
    with pytest.raises(AssistantError):
        add_file(corpus, upload, "evil.sh", 1)


def test_corpus_and_index_files_are_not_served(app_server):
    url, settings = app_server
    target = (settings.corpus_dir / "barcamp-futurs-publics-2016.txt").resolve()
    for path in (f"gradio_api/file={target}", f"file={target}"):
        try:
            status = urllib.request.urlopen(url + path, timeout=10).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status in (403, 404), path


def test_document_text_is_escaped_in_source_cards_and_markers():
    hostile = Passage(
        "x", "<b>a</b>.txt", "<script>alert(1)</script>", "Avant <img src=x onerror=alert(1)> après.", 0, 40, "", 3, 1.0
    )
    answer = Answer(
        "q", "texte [1]", [Citation(1, hostile, "Avant <img src=x onerror=alert(1)> après.")], False, [hostile]
    )
    html = render_sources(answer, 0)
    assert "<img" not in html and "<script>" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "p. 3" in html and "<mark>" in html
    assert link_markers("voir \\[2\\] et [1]", 4) == 'voir \\[2\\] et <a href="#src-4-1" class="cite">[1]</a>'


def launched(settings):
    """Another app on the same corpus and index: (url, demo)."""
    from helpers import free_port

    from assistant.ui import App, launch

    port = free_port()
    demo = launch(App(settings), "127.0.0.1", port, block=False)
    return f"http://127.0.0.1:{port}/", demo


def test_read_only_app_answers_but_serves_no_corpus_change(app_server):
    url, demo = launched(app_server[1].with_(read_only="1"))
    try:
        client = Client(url, verbose=False)
        endpoints = str(client.view_api(print_info=False, return_format="dict"))
        assert "/respond" in endpoints
        assert "/upload" not in endpoints and "/delete" not in endpoints and "/rebuild" not in endpoints
        history, _, _ = ask(client, "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
        assert "Gaité lyrique" in str(history[-1]["content"])
    finally:
        demo.close()


def test_with_a_users_file_the_app_asks_for_a_login(app_server, tmp_path):
    import hashlib

    users = tmp_path / "users.txt"
    users.write_text(f"# agents\nalice:sha256:{hashlib.sha256(b'motdepasse').hexdigest()}\n", encoding="utf-8")
    url, demo = launched(app_server[1].with_(auth=str(users)))
    try:
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own kinds on a refused login
            Client(url, verbose=False, auth=("alice", "mauvais"))
        client = Client(url, verbose=False, auth=("alice", "motdepasse"))
        history, _, _ = ask(client, "Où s'est tenu le barcamp Futurs Publics en 2016 ?")
        assert history[-1]["role"] == "assistant"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "config", timeout=10)  # nothing is served without a login
    finally:
        demo.close()


def test_uploads_leave_no_copy_in_the_upload_cache(client, tmp_path):
    from gradio.utils import get_upload_folder

    document = tmp_path / "cache-trace-unique.txt"
    document.write_text("Un document qui ne doit pas rester dans le cache de téléversement.", encoding="utf-8")
    note, *_ = client.predict([handle_file(str(document))], api_name="/upload")
    assert "✅" in note
    assert not list(Path(get_upload_folder()).rglob("cache-trace-unique*"))
    client.predict("cache-trace-unique.txt", api_name="/delete")  # leave the shared corpus as it was


def test_two_uploads_of_one_name_at_once_never_overwrite(tmp_path):
    import threading

    corpus = tmp_path / "corpus"
    uploads = []
    for i in range(8):
        upload = tmp_path / f"u{i}.txt"
        upload.write_text(f"version {i} " * 1000, encoding="utf-8")
        uploads.append(upload)
    names = []
    threads = [threading.Thread(target=lambda u=u: names.append(add_file(corpus, u, "note.txt", 5))) for u in uploads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == 8
    contents = {(corpus / name).read_text(encoding="utf-8") for name in names}
    assert contents == {u.read_text(encoding="utf-8") for u in uploads}


def test_the_app_starts_on_a_damaged_index_says_so_and_repairs_it(tiny_corpus, tmp_path):
    from assistant.api import build_index, retrieve
    from assistant.index import current_generation
    from assistant.settings import Settings
    from assistant.ui import App

    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index")
    build_index(settings=settings)
    (settings.index_dir / current_generation(settings.index_dir) / "dense.faiss").write_bytes(b"\x00" * 100)
    summary = App(settings).refresh_index()
    assert "repairing" in summary and "damaged (dense.faiss" in summary
    assert retrieve("Combien de membres compte le Forum des Jeunes ?", k=1, settings=settings)[0].source == "forum.txt"


def test_the_status_line_says_when_the_index_answers_before_its_sentences_are_embedded(tiny_corpus, tmp_path):
    from assistant.api import ask, build_index
    from assistant.settings import Settings
    from assistant.ui import App

    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index", publish_early_above=0)
    seen = []

    def progress(stage, done, total):
        if stage == "filling" and not seen:  # a build of another process: the page only sees the index
            seen.append(App(settings).index_status("fr"))
            seen.append(ask("Combien de membres compte le Forum des Jeunes ?", settings=settings))

    build_index(settings=settings, progress=progress)
    status, answer = seen
    assert "L'index répond déjà" in status and "3 documents" in status
    assert answer.status == "answered" and "40 membres" in answer.citations[0].quote  # with the real model
    assert "répond déjà" not in App(settings).index_status("fr")


def test_a_pdf_page_shown_from_a_citation_is_gone_once_its_document_is_deleted(client, app_server, tmp_path):
    from gradio.utils import get_upload_folder
    from helpers import make_pdf

    from assistant.index import cached_index
    from assistant.ui import rendered_prefix

    pdf = make_pdf(tmp_path / "note-verte.pdf", ["Sommaire.", "La note verte recense 17 tiers-lieux ruraux."])
    client.predict([handle_file(str(pdf))], api_name="/upload")
    client.predict(api_name="/rebuild")
    index = cached_index(app_server[1].index_dir)
    passage = next(c.id for c in index.chunks if c.source == "note-verte.pdf" and c.page == 2)
    image, where = client.predict(passage, api_name="/open_original")
    assert "page 2" in where and image
    shown = list(Path(get_upload_folder()).rglob(f"{rendered_prefix('note-verte.pdf')}*.png"))
    assert shown  # the page, as Gradio serves it
    client.predict("note-verte.pdf", api_name="/delete")
    client.predict(api_name="/rebuild")
    assert not [path for path in shown if path.exists()]
    _, where = client.predict(passage, api_name="/open_original")
    assert "plus dans l'index" in where  # only indexed documents are shown


def test_a_question_too_long_is_refused_at_once_in_french(client):
    history, _, cleared = ask(client, "Pourquoi " * 500)
    said = str(history[-1]["content"])
    assert cleared == "" and "trop longue : 4 499 caractères, au plus 2 000 sont lus" in said


def test_the_original_of_a_text_file_marks_the_quote_and_nothing_else(client, app_server):
    from assistant import ask as ask_api
    from assistant.answering.provenance import citation_record

    answer = ask_api("Où s'est tenu le barcamp Futurs Publics en 2016 ?", settings=app_server[1])
    citation = answer.citations[0]
    start = citation.passage.text.find(citation.quote)
    assert 0 <= start and len(citation.quote) < len(citation.passage.text)  # the quote is a part of its passage
    _, where = client.predict(f"{citation.passage.id}#{start}-{start + len(citation.quote)}", api_name="/open_original")
    marked = where.split("<mark>")[1].split("</mark>")[0]
    assert marked == html.escape(citation.quote)
    record = citation_record(citation)
    first, last = record["offsets"]
    assert last - first == len(citation.quote) and first == citation.passage.start + start  # the quote's offsets
