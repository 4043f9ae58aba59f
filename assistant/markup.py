"""Document text and model output made inert inside Markdown: shown as text, never as markup, links or images.

>>> escape_markdown("<img src=x onerror=alert(1)> **gras** [lien](http://x)")
'&lt;img src=x onerror=alert(1)&gt; \\\\*\\\\*gras\\\\*\\\\* \\\\[lien\\\\](`http://x`)'
"""

from __future__ import annotations

import re

# Anything a renderer could turn into a link: a scheme (the dangerous ones too) or a bare www. address.
_ADDRESS = re.compile(r"\b(?:(?:https?|ftp|mailto|javascript|data|file):|www\.)[^\s<>\"')\]]*", re.I)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#+!|~])")


def escape_markdown(text: str) -> str:
    """Document text made inert inside Markdown: HTML escaped, Markdown punctuation backslashed, and web addresses
    shown as code, which no renderer turns into links."""
    out, position = [], 0
    for match in _ADDRESS.finditer(text):
        out.append(_escape_plain(text[position : match.start()]))
        out.append("`" + match.group(0).replace("`", "") + "`")
        position = match.end()
    out.append(_escape_plain(text[position:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def inert(generated: str) -> str:
    """A language model's text made as inert as document text, but for its citation markers [n].

    >>> inert("Voir [1] ![x](https://ailleurs/?q=1) <b>gras</b>")
    'Voir [1] \\\\!\\\\[x\\\\](`https://ailleurs/?q=1`) &lt;b&gt;gras&lt;/b&gt;'
    """
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", escape_markdown(generated))
