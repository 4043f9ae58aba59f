"""Tables read row by row in every format: each row one quotable sentence that names its columns, so that a question
about one row is answered by that row."""

from __future__ import annotations

import pytest
from helpers import make_docx, make_table_pdf

from assistant.readers.documents import read_document
from assistant.settings import Settings

HEADERS = ["Action", "Budget", "Porteur"]


def rows(first: int) -> list[list[str]]:
    return [HEADERS, [f"Action {first}", f"{first * 10} 000 €", "DINUM"], [f"Action {first + 1}", "80 000 €", "ANCT"]]


def sentence(first: int) -> str:
    return f"Action {first} — Budget : {first * 10} 000 € — Porteur : DINUM"


def markdown(first: int) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in rows(first)]
    lines.insert(1, "|---|---|---|")
    return "# Plan d'actions\n\nLes actions de l'année :\n\n" + "\n".join(lines) + "\n\nFin du plan.\n"


def html(first: int) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<{'th' if r == 0 else 'td'}>{v}</{'th' if r == 0 else 'td'}>" for v in row) + "</tr>"
        for r, row in enumerate(rows(first))
    )
    return f"<html><body><h1>Plan d'actions</h1><p>Les actions :</p><table>{cells}</table><p>Fin.</p></body></html>"


@pytest.fixture
def tables(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plan.md").write_text(markdown(3), encoding="utf-8")
    (corpus / "plan.html").write_text(html(5), encoding="utf-8")
    make_docx(corpus / "plan.docx", "Plan", "Plan d'actions", ["Les actions de l'année :"], rows(7))
    make_table_pdf(corpus / "plan.pdf", "Plan d'actions 2024 du laboratoire.", rows(9))
    return corpus


def test_each_format_gives_one_sentence_a_row_with_its_headers(tables, tmp_path):
    settings = Settings(corpus_dir=tables, index_dir=tmp_path / "index")
    for name, first in (("plan.md", 3), ("plan.html", 5), ("plan.docx", 7), ("plan.pdf", 9)):
        lines = read_document(tables / name, name, settings).text.splitlines()
        assert sentence(first) in lines, (name, lines)
        assert f"Action {first + 1} — Budget : 80 000 € — Porteur : ANCT" in lines


@pytest.mark.model
def test_a_question_about_one_row_is_answered_by_that_row(tables, tmp_path):
    import assistant

    settings = Settings(corpus_dir=tables, index_dir=tmp_path / "index")
    assistant.build_index(settings=settings)
    for first in (3, 5, 7, 9):
        answer = assistant.ask(f"Quel est le budget de l'action {first} ?", settings=settings)
        assert [c.quote for c in answer.citations][:1] == [sentence(first)], answer.text
