"""Reading every format, and every kind of bad input, into Documents or clear reasons."""

from __future__ import annotations

import pytest
from helpers import make_blank_pdf, make_docx, make_encrypted_pdf, make_pdf

from assistant.errors import DocumentError
from assistant.readers.documents import list_sources, read_document
from assistant.settings import Settings


def read(path):
    return read_document(path, path.name)


def test_markdown_title_sections_and_gitbook_markup_do_not_leak(tmp_path):
    path = tmp_path / "page.md"
    path.write_text(
        "---\ndescription: Un guide pour les intrapreneurs.\n---\n\n# 🚀 Lancer un produit\n\n"
        '{% hint style="info" %}\nPensez à **contacter** l\'équipe [coach](https://x.fr/coach).\n{% endhint %}\n\n'
        '{% content-ref url="autre.md" %}\n[autre.md](autre.md)\n{% endcontent-ref %}\n\n'
        '{% embed url="https://video.fr/1" %}\n\n## Étape 1 : investigation\n\n'
        '{% tabs %}\n{% tab title="Pour les agents" %}\nLisez le <mark style="color:red;">guide</mark>.\n'
        "{% endtab %}\n{% endtabs %}\n\n![schéma](../assets/schema.png)\n\n"
        "| Phase | Durée |\n|---|---|\n| Investigation | 3 mois |\n",
        encoding="utf-8",
    )
    document = read(path)
    assert document.title == "🚀 Lancer un produit"
    assert "{%" not in document.text and "%}" not in document.text
    assert "autre.md" not in document.text and "https://" not in document.text
    assert "<mark" not in document.text and "**" not in document.text and "schema.png" not in document.text
    assert "Pensez à contacter l'équipe coach." in document.text
    assert "Lisez le guide." in document.text and "Pour les agents" in document.text
    assert "Investigation — Durée : 3 mois" in document.text  # a table row, with its header
    assert "Un guide pour les intrapreneurs." in document.text
    headings = [heading for _, heading in document.sections]
    assert headings == ["🚀 Lancer un produit", "Étape 1 : investigation"]
    offset = dict((h, o) for o, h in document.sections)["Étape 1 : investigation"]
    assert document.text[offset:].startswith("Étape 1 : investigation")


def test_html_keeps_visible_text_only(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Le labo</title><style>p{color:red}</style><script>var secret=1;</script></head>"
        "<body><nav>Menu</nav><h1>Le laboratoire</h1><p>Il teste des &eacute;quipes.</p>"
        "<div hidden>caché</div><h2>Méthodes</h2><p>Design <b>des</b> politiques.</p></body></html>",
        encoding="utf-8",
    )
    document = read(path)
    assert document.title == "Le labo"
    assert "secret" not in document.text and "color" not in document.text and "caché" not in document.text
    assert "Il teste des équipes." in document.text and "Design des politiques." in document.text
    assert [h for _, h in document.sections] == ["Le laboratoire", "Méthodes"]


def test_pdf_text_is_read_per_page_with_page_numbers_and_title(tmp_path):
    path = make_pdf(
        tmp_path / "rapport.pdf",
        ["Premier chapitre.\nLe budget est de 3 millions.", "Second chapitre.\nLes agents sont 120."],
        title="Rapport 2024",
    )
    document = read(path)
    assert document.kind == "pdf" and document.title == "Rapport 2024"
    assert [page for _, page in document.pages] == [1, 2]
    second = document.pages[1][0]
    assert "Le budget est de 3 millions." in document.text[:second]
    assert "Les agents sont 120." in document.text[second:]


def test_docx_title_headings_paragraphs_and_tables(tmp_path):
    path = make_docx(
        tmp_path / "note.docx",
        "Note de cadrage",
        "Contexte",
        ["La mission dure six mois."],
        table=[["Rôle", "Nom"], ["Coach", "Alice"]],
    )
    document = read(path)
    assert document.title == "Note de cadrage"
    assert "La mission dure six mois." in document.text
    assert "Coach — Nom : Alice" in document.text  # a table row, with its header
    assert [h for _, h in document.sections] == ["Contexte"]


def test_items_of_lists_read_as_items_in_every_format(tmp_path):
    import docx

    markdown = tmp_path / "arret.md"
    markdown.write_text(
        "Un produit s'arrête, notamment :\n\n* s'il manque d'impact ;\n- s'il n'est plus financé.\n\n1. Un",
        encoding="utf-8",
    )
    html = tmp_path / "arret.html"
    html.write_text(
        "<p>Un produit s'arrête, notamment :</p><ul><li>s'il manque d'impact ;</li><li></li></ul>", encoding="utf-8"
    )
    word = docx.Document()
    word.add_paragraph("Un produit s'arrête, notamment :")
    word.add_paragraph("s'il manque d'impact ;", style="List Bullet")
    word.add_paragraph("s'il n'est plus financé.", style="List Number")
    word.save(str(tmp_path / "arret.docx"))
    for name in ("arret.md", "arret.html", "arret.docx"):
        text = read(tmp_path / name).text
        assert "notamment :\n" in text and "\n• s'il manque d'impact ;" in text, name
        assert "•\n" not in text and not text.rstrip().endswith("•"), name  # an empty item writes nothing
    assert "\n• s'il n'est plus financé." in read(markdown).text and "\n1. Un" in read(markdown).text


def test_latin1_and_cp1252_files_read_correctly(tmp_path):
    path = tmp_path / "ancien.txt"
    path.write_bytes("Le référentiel de l’État, déjà publié à Noël.".encode("cp1252"))
    assert "référentiel de l’État, déjà publié à Noël" in read(path).text
    path.write_bytes("Une équipe dédiée".encode("latin-1"))
    assert read(path).text == "Une équipe dédiée"


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("vide.txt", b"", "empty file"),
        ("blanc.md", b"   \n\n  ", "no text"),
        ("image.txt", bytes(range(256)) * 40, "binary content"),
        ("programme.exe", b"MZ\x90\x00", "unsupported file type .exe"),
        ("casse.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "corrupt or unreadable PDF"),
        ("faux.docx", b"not a zip at all", "corrupt or unreadable DOCX"),
        ("balises.md", b"{% hint %}\n{% endhint %}\n", "no text"),
    ],
)
def test_bad_files_raise_a_clear_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        read(path)


def test_encrypted_and_image_only_pdfs_are_reported(tmp_path):
    clear = make_pdf(tmp_path / "clair.pdf", ["Un texte lisible et assez long."])
    with pytest.raises(DocumentError, match="encrypted PDF"):
        read(make_encrypted_pdf(tmp_path / "chiffre.pdf", clear))
    with pytest.raises(DocumentError, match="no text"):  # read by OCR when it is installed: nothing on the page
        read(make_blank_pdf(tmp_path / "scan.pdf"))


def test_truncated_pdf_is_reported(tmp_path):
    whole = make_pdf(tmp_path / "entier.pdf", ["Un texte lisible et assez long pour compter."]).read_bytes()
    path = tmp_path / "tronque.pdf"
    path.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(DocumentError, match="PDF"):
        read(path)


def test_pdf_parsing_is_bounded_in_time(tmp_path):
    path = make_pdf(tmp_path / "lent.pdf", ["Texte."] * 3)
    with pytest.raises(DocumentError, match="timeout"):
        read_document(path, path.name, Settings(parse_timeout=0.001))


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "gros.txt"
    path.write_text("mot " * 300_000)
    with pytest.raises(DocumentError, match="file too large"):
        read_document(path, path.name, Settings(max_file_mb=1))


def test_corpus_listing_skips_hidden_and_ignored_files(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "b.txt").write_text("b")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "README.md").write_text("c")
    (tmp_path / "README.md").write_text("d")
    (tmp_path / ".assistantignore").write_text("# notes\nREADME.md\n")
    assert [source for source, _ in list_sources(tmp_path)] == ["a.txt", "sub/README.md"]


def test_corpus_listing_is_pathlibs_order_follows_no_folder_link_and_passes_over_unreadable_folders(
    tmp_path, monkeypatch
):
    import os

    from assistant.readers import documents

    for name in ("b.txt", "a-b/c.md", "a/z.md", "a/b/c.txt", "A.txt", "é.txt", "a/.hidden.txt", "locked/x.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / "folder-link").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "file-link.txt").symlink_to(tmp_path / "b.txt")
    expected = [
        path.relative_to(tmp_path).as_posix()
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(tmp_path).parts)
    ]
    assert [source for source, _ in list_sources(tmp_path)] == expected
    assert "file-link.txt" in expected and not any(s.startswith("folder-link/") for s in expected)

    scandir = os.scandir

    def refused(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(documents.os, "scandir", refused)
    assert [source for source, _ in list_sources(tmp_path)] == [s for s in expected if not s.startswith("locked/")]
    assert list(list_sources(tmp_path / "missing")) == []


def test_hostile_files_are_parsed_or_reported_within_their_bounds(tmp_path):
    from hostile import write_hostile_files

    settings = Settings(parse_timeout=30, parse_memory_mb=1024)
    outcomes = {}
    for name, path in write_hostile_files(tmp_path / "hostile").items():
        try:
            document = read_document(path, name, settings)
            outcomes[name] = "read"
            assert document.text
        except DocumentError as exc:
            outcomes[name] = str(exc)
    assert len(outcomes) == 11
    assert "unzipped" in outcomes["docx-zip-bomb.docx"]
    assert outcomes["md-unclosed-gitbook-tags.md"] == "read" and outcomes["html-deep-nesting.html"] == "read"
    assert not any("timeout" in outcome for outcome in outcomes.values()), outcomes
