"""The page's words in French and English, from one table (``page.toml``): its labels (translated in the browser,
by ``I18N``), its messages (``text``, in the language of the request), build stages, document states, build
summaries, and the library's messages as the page says them.

>>> say("notes.exe: type .exe is not accepted (.txt, .md)")
"notes.exe : le type .exe n'est pas accepté (.txt, .md)"
>>> say("empty file", "en"), page_language("en-GB,en;q=0.9,fr;q=0.8"), page_language("fr-FR,en;q=0.5")
('empty file', 'en', 'fr')
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import gradio as gr

from assistant.records import BuildReport

TABLE = tomllib.loads(resources.files("assistant.ui").joinpath("page.toml").read_text("utf-8"))
PATTERNS = {
    language: [(re.compile(pattern), template) for pattern, template in TABLE[language]["errors"]["patterns"]]
    for language in TABLE
}


# Gradio shows English to a browser whose language it has no words for: those get the French page.
OTHER_LOCALES = (
    "ar",
    "ca",
    "de",
    "es",
    "eu",
    "fa",
    "fi",
    "he",
    "hi",
    "it",
    "ja",
    "ko",
    "nl",
    "pl",
    "pt",
    "pt-BR",
    "ro",
    "ru",
    "sv",
    "ta",
    "tr",
    "uk",
    "ur",
    "uz",
    "zh-CN",
    "zh-TW",
)
I18N = gr.I18n(fr=TABLE["fr"]["page"], en=TABLE["en"]["page"], **{code: TABLE["fr"]["page"] for code in OTHER_LOCALES})


def label(key: str):
    """A word of the page's layout, shown in the browser's language (French unless it asks for English)."""
    return I18N(key)


def text(key: str, language: str = "fr", **values) -> str:
    """A message of the page in ``language``."""
    return TABLE[language]["page"][key].format(**values)


def number(count: int, language: str = "fr") -> str:
    """A count as the page writes it: "4 499" in French, "4,499" in English."""
    return f"{count:,}".replace(",", " ") if language == "fr" else f"{count:,}"


def language_of(request) -> str:
    """The language of the page for one request (a gr.Request, or None: French)."""
    headers = getattr(request, "headers", None) or {}
    return page_language(headers.get("accept-language", ""))


def page_language(accept_language: str) -> str:
    """French unless the browser asks for English before French."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("fr"):
            return "fr"
        if tag.startswith("en"):
            return "en"
    return "fr"


def stage(name: str, language: str = "fr") -> str:
    return TABLE[language]["stages"].get(name, name)


def state(name: str, language: str = "fr") -> str:
    return TABLE[language]["states"].get(name, name)


def say(message: str, language: str = "fr") -> str:
    """A message of the library in the page's language (as it is, when the table does not know it)."""
    for pattern, template in PATTERNS[language]:
        if found := pattern.match(message):
            return re.sub(r"\{(\d)\}", lambda group: found.group(int(group.group(1))), template)
    return message


def summary(report: BuildReport, language: str = "fr") -> str:
    """What a build did, in the page's language."""
    words = TABLE[language]["build"]
    documents = len(report.added) + len(report.updated) + len(report.unchanged)
    lines = [
        words["summary"].format(
            chunks=report.chunks,
            documents=documents,
            seconds=f"{report.seconds:.1f}",
            embedded=report.embedded,
            sentences=report.embedded_sentences,
        ),
        words["counts"].format(
            added=len(report.added),
            updated=len(report.updated),
            removed=len(report.removed),
            unchanged=len(report.unchanged),
            failed=len(report.failed),
        ),
    ]
    if report.full and report.reason:
        lines.append(words["full"].format(reason=report.reason))
    lines += [words["failed"].format(source=s, reason=say(r, language)) for s, r in sorted(report.failed.items())]
    return "\n".join(lines)
