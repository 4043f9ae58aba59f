"""Hostile files of every readable kind, 1 to 5 MB each: what a careless or malicious upload can hold."""

from __future__ import annotations

import zipfile
from pathlib import Path

MB = 1024 * 1024


def _docx_bomb(path: Path, expanded_mb: int) -> None:
    """A DOCX whose document.xml unzips to ``expanded_mb`` MB from a few hundred KB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0"?><w:document><w:body><w:p><w:r><w:t>')
            block = b"A" * MB
            for _ in range(expanded_mb):
                member.write(block)
            member.write(b"</w:t></w:r></w:p></w:body></w:document>")


def write_hostile_files(folder: Path) -> dict[str, Path]:
    """Write the hostile files into ``folder``; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "md-unclosed-comments.md": "<!--" * (MB // 4),
        "md-unclosed-gitbook-tags.md": "{% x " * (MB // 5),
        "md-nested-quotes-and-links.md": (">" * 2000 + " [" * 2000 + "\n") * 250,
        "md-one-long-emphasis-line.md": "**x _y `z " * (MB // 10),
        "html-unclosed-bold.html": "<b>x" * (MB // 4),
        "html-deep-nesting.html": "<div><span>" * (MB // 11) + "texte",
        "html-unclosed-comment.html": "<p>avant</p><!--" + "x" * MB,
        "html-attributes.html": "<a " + 'b="c" ' * (MB // 6) + ">lien</a>",
        "txt-control-bytes.txt": "\x01\x02\x03 texte " * (MB // 10),
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = folder / name
        paths[name].write_text(text, encoding="utf-8")
    paths["docx-zip-bomb.docx"] = folder / "docx-zip-bomb.docx"
    _docx_bomb(paths["docx-zip-bomb.docx"], 300)
    paths["pdf-garbage.pdf"] = folder / "pdf-garbage.pdf"
    paths["pdf-garbage.pdf"].write_bytes(b"%PDF-1.7\n" + b"1 0 obj << /Kids [" + b"1 0 R " * (MB // 6) + b"] >>")
    return paths
