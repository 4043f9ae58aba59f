"""How answers and their sources are shown: status badges, markers that link to source cards, highlighted quotes.

Document text is escaped wherever it is shown; only our own markers are links.
"""

from __future__ import annotations

import html
import re

from assistant.answering.provenance import asked_nothing
from assistant.markup import escape_markdown
from assistant.records import Answer, Passage
from assistant.ui import phrases

_MARKER = re.compile(r"(?<!\\)\[(\d+)\]")

CSS = """
#sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px;
  margin-bottom: 10px; scroll-margin-top: 12px; }
#sources .source.selected { outline: 3px solid var(--color-accent); }
#sources .source h4 { margin: 0 0 4px 0; font-size: 0.95em; }
#sources .where { color: var(--body-text-color-subdued); font-size: 0.85em; }
#sources .passage { white-space: pre-wrap; font-size: 0.9em; margin-top: 6px; }
#sources mark { background: #fff3a3; color: inherit; }
#sources .abstained { background: var(--background-fill-secondary); padding: 6px 10px; border-radius: 6px; }
a.cite { text-decoration: none; font-weight: 600; }
#sources .stale { background: #fef3c7; color: #78350f; padding: 6px 10px; border-radius: 6px; }
#sources button.open-original { margin-top: 6px; font-size: 0.85em; border: 1px solid var(--border-color-primary);
  border-radius: 6px; padding: 2px 8px; background: var(--background-fill-secondary); cursor: pointer; }
.original { white-space: pre-wrap; font-size: 0.9em; max-height: 420px; overflow-y: auto; }
.original .context { color: var(--body-text-color-subdued); }
.hidden-control { display: none !important; }
.status { display: inline-block; border-radius: 10px; padding: 1px 10px; font-size: 0.85em; font-weight: 600; }
.status-answered { background: #dcfce7; color: #14532d; }
.status-partial { background: #fef3c7; color: #78350f; }
.status-not_found { background: #e5e7eb; color: #1f2937; }
"""


def status_badge(answer: Answer) -> str:
    """A coloured label saying at a glance whether the documents answer the question fully, partly or not; none
    for the reply to a greeting or thanks, which asked the documents nothing."""
    if asked_nothing(answer):
        return ""
    label = phrases.text(f"status_{answer.status}", _language(answer))
    return f'<span class="status status-{answer.status}">{label}</span>\n\n'


# Markers are links to their source card: open it, highlight it, scroll to it.
HEAD = """<script>
document.addEventListener("click", function (event) {
  const link = event.target.closest ? event.target.closest("a[href^='#src-']") : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  const turn = card.closest("details");
  if (turn) turn.open = true;
  document.querySelectorAll("#sources .source.selected").forEach((c) => c.classList.remove("selected"));
  card.classList.add("selected");
  card.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
// "Ouvrir l'original": hand the passage id to the app's hidden control, which shows the document there.
document.addEventListener("click", function (event) {
  const button = event.target.closest ? event.target.closest("button.open-original") : null;
  if (!button) return;
  event.preventDefault();
  const box = document.querySelector("#open-request textarea, #open-request input");
  box.value = button.dataset.passage;
  box.dispatchEvent(new Event("input", {bubbles: true}));
  setTimeout(function () { document.querySelector("#open-button").click(); }, 50);
}, true);
</script>"""


def _highlight(text: str, quotes: list[str]) -> str:
    """The passage as escaped HTML, with the quoted sentences in <mark>."""
    spans = []
    for quote in quotes:
        start = text.find(quote)
        if start >= 0:
            spans.append((start, start + len(quote)))
    out, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)


def _opening(passage: Passage, quotes: list[str]) -> str:
    """What "Ouvrir l'original" asks the app for: the passage's id, and where its first quote lies in it."""
    start = passage.text.find(quotes[0]) if quotes else -1
    return f"{passage.id}#{start}-{start + len(quotes[0])}" if start >= 0 else passage.id


def _language(answer: Answer) -> str:
    return answer.language if answer.language in phrases.TABLE else "fr"


def _where(passage: Passage, language: str, recognized: frozenset = frozenset()) -> str:
    parts = [html.escape(passage.source)]
    if passage.page:
        parts.append(phrases.text("page_short", language, page=passage.page))
    if (passage.source, passage.page) in recognized:  # read by OCR: the words may differ from the page's
        parts.append(phrases.text("recognized_text", language))
    if passage.heading and passage.heading != passage.title:
        parts.append(f"§ {html.escape(passage.heading)}")
    return " · ".join(parts)


def render_sources(answer: Answer, turn: int, recognized: frozenset = frozenset()) -> str:
    """The source cards of one answer: cited passages with quotes marked, or the closest ones on abstention.
    ``recognized``: the (file, page) pairs read by OCR, whose cards say so."""
    language = _language(answer)
    cards = []
    if answer.citations:
        quotes: dict[int, list[str]] = {}
        passages: dict[int, Passage] = {}
        for citation in answer.citations:
            quotes.setdefault(citation.number, []).append(citation.quote)
            passages[citation.number] = citation.passage
        items = [(number, passages[number], quotes[number]) for number in sorted(passages)]
    else:
        items = [(n, p, []) for n, p in enumerate(answer.passages, start=1)]
    for number, passage, marked in items:
        cards.append(
            f'<div class="source" id="src-{turn}-{number}"><h4>[{number}] {html.escape(passage.title)}</h4>'
            f'<div class="where">{_where(passage, language, recognized)}</div>'
            f'<div class="passage">{_highlight(passage.text, marked)}</div>'
            f'<button class="open-original" data-passage="{html.escape(_opening(passage, marked), quote=True)}">'
            + html.escape(phrases.text("open_original", language))
            + (f" ({phrases.text('page_short', language, page=passage.page)})" if passage.page else "")
            + "</button></div>"
        )
    header = ""
    if answer.abstained and cards:
        header = f'<p class="abstained">{html.escape(phrases.text("closest_header", language))}</p>'
    return header + "".join(cards)


def source_line(answer: Answer, turn: int) -> str:
    """Under an answer: its numbered sources (title, file, page), each a link to its card."""
    seen: dict[int, Passage] = {}
    for citation in answer.citations:
        seen.setdefault(citation.number, citation.passage)
    if not seen:
        return ""
    language, items = _language(answer), []
    for number, passage in sorted(seen.items()):
        page = f", {phrases.text('page_short', language, page=passage.page)}" if passage.page else ""
        items.append(f"[{number}] {escape_markdown(passage.title)} ({escape_markdown(passage.source)}{page})")
    return f"\n\n{phrases.text('sources_line', language)} " + " · ".join(link_markers(item, turn) for item in items)


def link_markers(text: str, turn: int) -> str:
    return _MARKER.sub(lambda m: f'<a href="#src-{turn}-{m.group(1)}" class="cite">[{m.group(1)}]</a>', text)


def turns_panel(turns: list[str], language: str = "fr") -> str:
    """Latest answer's sources open, earlier ones folded, newest first."""
    if not turns:
        return f'<div id="sources-empty">{html.escape(phrases.text("sources_empty", language))}</div>'
    blocks = []
    for number in range(len(turns) - 1, -1, -1):
        opened = " open" if number == len(turns) - 1 else ""
        blocks.append(f"<details{opened}><summary>Question {number + 1}</summary>{turns[number]}</details>")
    return "".join(blocks)
