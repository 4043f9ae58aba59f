"""Scanned documents read by Tesseract: scanned and mixed PDFs and images made here from known French text, each
page read once (kept by its content), and a clear reason when Tesseract is missing."""

from __future__ import annotations

import shutil

import pytest
from helpers import make_mixed_pdf, make_scanned_pdf, scanned_page

from assistant.builder import build_index
from assistant.index import current_manifest, load_index
from assistant.readers import documents, ocr
from assistant.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")

NOTE = "Le comité d'innovation publique se réunira le 14 mars 2024 à Lyon pour examiner les projets retenus."
BUDGET = "Le budget alloué au laboratoire Orchidée est de 120 000 euros par an."
PHOTO = "Le laboratoire Orchidée accueille douze agents volontaires chaque trimestre."


@pytest.fixture
def scanned_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_scanned_pdf(corpus / "note.pdf", ["Note de service\n" + NOTE, BUDGET])
    scanned_page(PHOTO, dpi=150, rotation=-0.8).save(corpus / "photo.png")
    make_mixed_pdf(corpus / "mixte.pdf", "Rapport annuel du laboratoire, page de texte.", BUDGET)
    return corpus


def words(text: str) -> str:
    return " ".join(text.split())


def test_scanned_pdfs_and_images_are_read_once_each_page_with_its_confidence(scanned_corpus, tmp_path, fake_embedder):
    settings = Settings(corpus_dir=scanned_corpus, index_dir=tmp_path / "index")

    report = build_index(settings=settings, embedder=fake_embedder)
    assert sorted(report.added) == ["mixte.pdf", "note.pdf", "photo.png"] and not report.failed
    index = load_index(settings.index_dir)
    text = {source: words(" ".join(c.text for c in index.chunks if c.source == source)) for source in report.added}
    assert NOTE in text["note.pdf"] and BUDGET in text["note.pdf"] and PHOTO in text["photo.png"]
    pages_of = {c.source: c.page for c in index.chunks if BUDGET[:30] in words(c.text)}
    assert pages_of == {"note.pdf": 2, "mixte.pdf": 2}
    sources = current_manifest(settings.index_dir)["sources"]
    assert [page for page, *_ in sources["note.pdf"]["ocr"]] == [1, 2]
    assert all(confidence > ocr.LOW_CONFIDENCE for _, confidence, _ in sources["note.pdf"]["ocr"])
    assert sources["photo.png"]["kind"] == "image"
    read = sorted((settings.index_dir / "ocr").glob("*.json"))
    assert len(read) == 4  # two scanned pages, the mixed PDF's one, one image
    assert [page for page, *_ in sources["mixte.pdf"]["ocr"]] == [2]

    # a changed page is read again, and only it
    make_scanned_pdf(scanned_corpus / "note.pdf", ["Note de service\n" + NOTE, BUDGET.replace("120 000", "95 000")])
    again = build_index(settings=settings, embedder=fake_embedder)
    assert again.updated == ["note.pdf"]
    assert len(sorted((settings.index_dir / "ocr").glob("*.json"))) == 5
    budget = words(" ".join(c.text for c in load_index(settings.index_dir).chunks if c.source == "note.pdf"))
    assert "95 000 euros" in budget


def test_without_tesseract_scanned_files_say_what_to_install_and_the_rest_is_indexed(
    scanned_corpus, tmp_path, fake_embedder, monkeypatch
):
    monkeypatch.setattr(documents, "unavailable", lambda: ocr.UNAVAILABLE)
    (scanned_corpus / "texte.txt").write_text("Un texte ordinaire sur l'innovation publique.", encoding="utf-8")
    settings = Settings(corpus_dir=scanned_corpus, index_dir=tmp_path / "index")
    report = build_index(settings=settings, embedder=fake_embedder)
    assert sorted(report.failed) == ["note.pdf", "photo.png"]
    assert all("install tesseract-ocr" in reason for reason in report.failed.values())
    assert sorted(report.added) == ["mixte.pdf", "texte.txt"]  # the mixed PDF's text page is indexed


def test_a_citation_of_recognized_text_says_so():
    from assistant.records import Answer, Citation, Passage
    from assistant.ui import render_sources

    passage = Passage("p1", "note.pdf", "Note de service", BUDGET, 0, len(BUDGET), "", 2, 1.0)
    answer = Answer("Quel budget ?", "> ... [1]", [Citation(1, passage, BUDGET)], False)
    assert "texte reconnu" in render_sources(answer, 0, frozenset({("note.pdf", 2)}))
    assert "texte reconnu" not in render_sources(answer, 0, frozenset({("note.pdf", 1)}))


def _extent(image, test) -> tuple[int, int]:
    """The first and last rows of ``image`` holding a pixel that passes ``test``."""
    width, height = image.size
    pixels = image.load()
    rows = [y for y in range(0, height, 2) if any(test(pixels[x, y]) for x in range(0, width, 3))]
    return (rows[0], rows[-1]) if rows else (0, -1)


def test_the_original_page_marks_the_quote_and_nothing_else(scanned_corpus, tmp_path, fake_embedder):
    from helpers import make_pdf
    from PIL import Image

    from assistant.ui import App

    lines = ["Première phrase du rapport annuel.", BUDGET, "Dernière phrase du rapport annuel."]
    make_pdf(scanned_corpus / "rapport.pdf", ["\n".join(lines)])
    settings = Settings(corpus_dir=scanned_corpus, index_dir=tmp_path / "index", watch="0")
    build_index(settings=settings, embedder=fake_embedder)
    index = load_index(settings.index_dir)
    app = App(settings)
    marked_yellow = lambda p: p[0] > 200 and p[1] > 200 and p[2] < 200  # noqa: E731 - the mark over paper
    dark = lambda p: sum(p[:3]) < 250  # noqa: E731 - ink
    for source, quote in (("rapport.pdf", BUDGET), ("note.pdf", NOTE), ("mixte.pdf", BUDGET), ("photo.png", PHOTO)):
        chunk = next(c for c in index.chunks if c.source == source and words(quote) in words(c.text))
        start = chunk.text.find(quote) if quote in chunk.text else chunk.text.find(quote.split()[0])
        end = start + len(quote) if quote in chunk.text else len(chunk.text)
        shown, _ = app.open_original(f"{chunk.id}#{start}-{end}")
        plain, _ = app.open_original(chunk.id)
        assert shown["value"] != plain["value"], source  # a marked copy of the page
        image = Image.open(shown["value"]).convert("RGB")
        top, bottom = _extent(image, marked_yellow)
        assert bottom > top, source
        if source in ("rapport.pdf", "note.pdf"):  # other lines on the page are not marked
            ink_top, ink_bottom = _extent(Image.open(plain["value"]).convert("RGB"), dark)
            assert ink_top < top and bottom - top < (ink_bottom - ink_top) * 0.8, source
