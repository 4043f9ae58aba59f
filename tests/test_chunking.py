"""Sentence splitting on French text, and chunks that keep offsets, sections and pages."""

from __future__ import annotations

from assistant.chunking import chunk_document, split_sentences
from assistant.records import Document


def sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_french_abbreviations_and_numbers_do_not_end_sentences():
    text = (
        "M. Martin et Mme Durand ont lu le rapport (cf. p. 12). Le budget passe de 3.5 à 4,2 M€ en 2024. "
        "Les ministères (Défense, Justice, etc.) ont signé. Ils ont listé des pistes, etc. Puis ils sont partis."
    )
    assert sentences(text) == [
        "M. Martin et Mme Durand ont lu le rapport (cf. p. 12).",
        "Le budget passe de 3.5 à 4,2 M€ en 2024.",
        "Les ministères (Défense, Justice, etc.) ont signé.",
        "Ils ont listé des pistes, etc.",
        "Puis ils sont partis.",
    ]


def test_questions_exclamations_quotes_and_numbered_lists():
    text = "Pourquoi innover ? « C'est possible ! » dit-elle. Voici la liste :\n1. Attribuer un rôle\n2. Former."
    assert sentences(text) == [
        "Pourquoi innover ?",
        "« C'est possible ! » dit-elle.",
        "Voici la liste :",
        "1. Attribuer un rôle",
        "2. Former.",
    ]


def _document(text, **kw):
    return Document(source="doc.txt", title="Titre", text=text, kind="txt", **kw)


def test_chunks_respect_size_whole_sentences_offsets_and_overlap():
    body = " ".join(f"La phrase numéro {i} parle d'innovation publique et de services." for i in range(60))
    document = _document(body)
    chunks = chunk_document(document, size=300, overlap=1)
    assert len(chunks) > 5
    for chunk in chunks:
        assert len(chunk.text) <= 300
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.startswith("La phrase") and chunk.text.endswith("services.")
    for before, after in zip(chunks, chunks[1:]):
        last_sentence = sentences(before.text)[-1]
        assert after.text.startswith(last_sentence)  # one sentence of overlap
    assert len({c.id for c in chunks}) == len(chunks)


def test_a_sentence_longer_than_the_limit_is_cut_at_spaces():
    long_sentence = "mot " * 200 + "fin."
    chunks = chunk_document(_document(long_sentence.strip()), size=200, overlap=0)
    assert all(len(c.text) <= 200 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == long_sentence.split()


def test_chunks_never_cross_sections_or_pages_and_carry_them():
    text = "Intro courte.\n\nMéthode\n\nOn teste vite.\n\nPage deux commence ici."
    method = text.index("Méthode")
    page_two = text.index("Page deux")
    document = _document(text, sections=((method, "Méthode"),), pages=((0, 1), (page_two, 2)))
    chunks = chunk_document(document, size=700)
    assert [(c.text, c.heading, c.page) for c in chunks] == [
        ("Intro courte.", "", 1),
        ("On teste vite.", "Méthode", 1),
        ("Page deux commence ici.", "Méthode", 2),
    ]
    assert chunks[1].indexed_text() == "Titre — Méthode\nOn teste vite."
