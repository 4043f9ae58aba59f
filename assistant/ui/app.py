"""The web app's events and layout: questions, sources, the original document, feedback on answers, the Documents
tab and the report of questions the documents do not answer.

``app.py`` at the project's root only launches it (``serve``).
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import tempfile
import time
from pathlib import Path

import gradio as gr

from assistant.access import is_loopback, is_read_only, load_users
from assistant.answering.answers import answer_stream
from assistant.answering.language import PHRASES
from assistant.answering.provenance import answer_from_dict, answer_to_dict, stale_citations, to_json, to_markdown
from assistant.api import (
    discard_page_images,
    index_overview,
    log_answer,
    original,
    record_feedback,
    unanswered,
)
from assistant.corpus import add_file, delete_file, list_documents, list_trash, purge_trash, restore_file
from assistant.errors import AssistantError
from assistant.feedback import gaps
from assistant.feedback.store import MAX_COMMENT_CHARS
from assistant.limits import RateLimiter
from assistant.markup import escape_markdown
from assistant.readers.documents import SUPPORTED
from assistant.readers.ocr import LOW_CONFIDENCE
from assistant.retrieval import MAX_QUERY_CHARS, open_retriever
from assistant.service import Service, create_api
from assistant.service.server import Running
from assistant.settings import Settings
from assistant.ui import phrases
from assistant.ui.guards import MAX_TEXT_CHARS, PageGuard
from assistant.ui.render import CSS, HEAD, link_markers, render_sources, source_line, status_badge, turns_panel
from assistant.watch import IndexState, Watcher, build_now

log = logging.getLogger(__name__)

NO_CITATION = phrases.TABLE["fr"]["page"]["no_citation"]  # "which citation is wrong": none (the page's first value)

EXAMPLES = [
    "Combien de propositions le groupe de travail sur l'innovation participative a-t-il formulées ?",
    "Où s'est tenu le barcamp Futurs Publics en 2016 ?",
    "Quelles sont les recommandations de la conférence de l'ENAP ?",
    "À quoi sert la semaine de l'innovation publique ?",
]


def _documents(settings: Settings, language: str = "fr") -> tuple[dict, list[str]]:
    """The documents table (with its headers in ``language``) and the names for the delete list, from one look at
    the corpus and the manifest."""
    rows = []
    entries = list_documents(settings.corpus_dir, settings.index_dir)
    for entry in entries:
        status = phrases.state(entry.status, language)
        if entry.status == "failed":
            status += f" : {phrases.say(entry.reason, language)}"
        rows.append([entry.source, entry.title, entry.kind, entry.pages or "", entry.chunks, status])
    headers = [phrases.text(key, language) for key in ("files", "titles", "kind", "pages", "passages", "state")]
    return {"data": rows, "headers": headers}, [entry.source for entry in entries]


class App:
    """The state shared by every session of the app: settings, and the lock that allows one rebuild at a time."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.state = IndexState()  # shared by the start-up build, the rebuild button and the folder watcher
        self.exports = tempfile.mkdtemp(prefix="assistant-")  # exported conversations, rendered PDF pages
        self.watcher: Watcher | None = None
        # Read-only: no upload, delete or rebuild, neither shown nor served (their events are never declared).
        # launch() settles it from the address the app listens on.
        self.read_only = self.settings.read_only == "1"
        self.limiter = RateLimiter(self.settings.ask_rate)  # shared with the HTTP doors

    def refresh_index(self) -> str:
        """Bring the index up to date (incremental); on start, so that edited documents are picked up."""
        report = build_now(self.settings, self.state)
        if report:
            return phrases.summary(report)
        return phrases.say(self.state.last_error) or "Une construction de l'index est en cours."

    def start_watching(self) -> Watcher | None:
        """Rebuild in the background whenever the corpus folder changes (unless ASSISTANT_WATCH=0)."""
        if self.settings.watch != "1":
            return None
        self.watcher = Watcher(self.settings, self.state).start()
        return self.watcher

    def index_status(self, language: str = "fr", overview=None) -> str:
        """The index's state, for the status line: documents, passages, last build, a build in progress, files
        left out with their reason (from ``overview``, when the caller looked already)."""
        overview, state = overview or index_overview(settings=self.settings), self.state
        built = overview.built_at
        counts = {"documents": overview.documents, "passages": overview.passages}
        lines = [
            phrases.text("index_line", language, **counts)
            + (phrases.text("built_on", language, day=built[:10], hour=built[11:16]) if built else "")
        ]
        if state.building:
            lines.append(phrases.text("updating", language, stage=self.stage(language)))
        elif overview.sentences_pending:  # a build of another process is making them
            lines.append(phrases.text("sentences_pending", language))
        if state.last_error:
            error = escape_markdown(phrases.say(state.last_error, language))
            lines.append(phrases.text("last_build_failed", language, error=error))
        doubtful = [
            f"{escape_markdown(source)} p. {page} ({confidence:.0f} %)"
            for source, page, confidence in overview.recognized
            if confidence < LOW_CONFIDENCE
        ]
        if doubtful:
            lines.append(phrases.text("low_confidence", language, pages=", ".join(doubtful[:20])))
        failed = overview.failed
        if failed:
            lines.append(phrases.text("left_out", language, count=len(failed)))
            for source, reason in sorted(failed.items())[:20]:
                reason = phrases.say(reason, language)
                lines.append(f"- {escape_markdown(source)} : {escape_markdown(reason)}")
        return "\n".join(lines)

    def stage(self, language: str = "fr") -> str:
        """The build's stage and progress, in the page's language."""
        state = self.state
        progress = f" ({state.done}/{state.total})" if state.total else ""
        return escape_markdown(phrases.stage(state.stage, language)) + progress

    def first_build(self, request: gr.Request = None) -> str:
        """While the very first index is being built, what the Questions tab says instead of answering."""
        if not self.state.building or index_overview(settings=self.settings).generation is not None:
            return ""
        language = phrases.language_of(request)
        return phrases.text("first_build", language, stage=self.stage(language))

    # --- events -------------------------------------------------------------------------------------------
    def respond(self, question: str, history: list, answers: list, k: int, mode: str, request: gr.Request = None):
        """Answer one question. Yields (chat, answers, sources panel, question box, conversation to keep in the
        browser); ``answers`` are the conversation's Answers as dicts, the provenance exports are made from."""
        history = list(history or [])
        answers = list(answers or [])
        question = (question or "").strip()
        language = phrases.language_of(request)
        if not question:
            gr.Warning(phrases.text("empty_question", language))
            yield history, answers, self.sources_panel(answers, language), "", _saved(history, answers)
            return
        address = request.client.host if request is not None and request.client else ""
        if wait := self.limiter.wait(address):
            refusal = phrases.text("too_many", language, seconds=f"{wait:g}")
            history = history + [{"role": "user", "content": question}, {"role": "assistant", "content": refusal}]
            yield history, answers, self.sources_panel(answers, language), question, _saved(history, answers)
            return
        if len(question) > MAX_QUERY_CHARS:  # refused before any work, in the page's language
            typed, read = (phrases.number(count, language) for count in (len(question), MAX_QUERY_CHARS))
            refusal = phrases.text("too_long", language, typed=typed, read=read)
            turn = [{"role": "user", "content": question[:200] + "…"}, {"role": "assistant", "content": refusal}]
            history = history + turn
            yield history, answers, self.sources_panel(answers, language), "", _saved(history, answers)
            return
        if waiting := self.first_build(request):
            history = history + [{"role": "user", "content": question}, {"role": "assistant", "content": waiting}]
            yield history, answers, self.sources_panel(answers, language), "", _saved(history, answers)
            return
        turn = len(answers)
        previous = [m for m in history if isinstance(m, dict)]
        history = history + [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
        yield history, answers, gr.update(), "", gr.update()
        try:
            retriever = open_retriever(self.settings)
            answer = None
            for answer in answer_stream(
                question, int(k), history=previous, mode=mode, settings=self.settings, retriever=retriever
            ):
                history[-1] = {"role": "assistant", "content": link_markers(answer.text, turn)}
                yield history, answers, gr.update(), "", gr.update()
        except Exception as exc:  # noqa: BLE001 - whatever fails, the reader gets a message, never an empty error
            if not isinstance(exc, (AssistantError, ValueError)):
                log.exception("answering failed")
            message = phrases.say(str(exc), language) or type(exc).__name__
            history[-1] = {"role": "assistant", "content": f"⚠️ {escape_markdown(message)}"}
            yield history, answers, self.sources_panel(answers, language), "", _saved(history, answers)
            return
        content = status_badge(answer) + link_markers(_placed(answer), turn) + source_line(answer, turn)
        if answer.warnings:
            content += "\n\n" + "\n".join(f"- ⚠️ {escape_markdown(w)}" for w in answer.warnings)
        history[-1] = {"role": "assistant", "content": content}
        if self.settings.log_questions == "1":
            answer = self._logged(answer, retriever)
        answers = answers + [answer_to_dict(answer)]
        yield history, answers, self.sources_panel(answers, language), "", _saved(history, answers)

    def _logged(self, answer, retriever):
        """The answer as logged for feedback and the gaps report (unchanged if the log cannot be written)."""
        try:
            return log_answer(answer, self.settings, retriever)
        except Exception:  # noqa: BLE001 - a log that fails must not cost the reader the answer
            log.exception("the answer could not be logged")
            return answer

    def citation_choices(self, answers: list[dict], request: gr.Request = None):
        """The citations of the last answer, for "which citation is wrong"."""
        numbers = sorted({c["number"] for c in answers[-1]["citations"]}) if answers else []
        none = phrases.text("no_citation", phrases.language_of(request))
        return gr.update(choices=[none] + [f"[{n}]" for n in numbers], value=none)

    def give_feedback(self, answers: list[dict], helpful: bool, comment: str, wrong: str, language: str = "fr"):
        """Record the reader's judgement of the last answer; (note, comment box)."""
        if not answers:
            return phrases.text("ask_first", language), comment
        answer = answer_from_dict(answers[-1])
        number = int(wrong.strip("[]")) if wrong and wrong.startswith("[") else None
        try:
            record_feedback(answer, helpful, comment or "", wrong_citation=number, settings=self.settings)
        except ValueError as exc:
            return f"⚠️ {escape_markdown(phrases.say(str(exc), language))}", comment
        return phrases.text("thanks" if helpful else "thanks_wrong", language), ""

    def judge(self, helpful: bool):
        """The event of a feedback button: the judgement, in the page's language."""

        def judged(answers: list[dict], comment: str, wrong: str, request: gr.Request = None):
            return self.give_feedback(answers, helpful, comment, wrong, phrases.language_of(request))

        return judged

    def exporter(self, kind: str):
        """The event of an export button of the report, in the page's language."""

        def export(request: gr.Request = None) -> str:
            return self.export_gaps(kind, phrases.language_of(request))

        return export

    def gaps_report(self, request: gr.Request = None) -> str:
        """The report of questions the documents do not answer, in Markdown (question and document text inert)."""
        language = phrases.language_of(request)
        try:
            return gaps.to_markdown(unanswered(settings=self.settings), escape_markdown, language)
        except AssistantError as exc:
            return f"⚠️ {escape_markdown(phrases.say(str(exc), language))}"

    def export_gaps(self, kind: str, language: str = "fr") -> str:
        report = unanswered(settings=self.settings)
        folder = Path(tempfile.mkdtemp(prefix="gaps-", dir=self.exports))
        path = folder / f"questions-sans-reponse.{'csv' if kind == 'csv' else 'md'}"
        text = gaps.to_csv(report, language) if kind == "csv" else gaps.to_markdown(report, language=language)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def sources_panel(self, answers: list[dict], language: str = "fr") -> str:
        """The sources of every answer, newest open, with a warning where a cited document changed since."""
        parsed = [answer_from_dict(a) for a in answers]
        read = index_overview(settings=self.settings).recognized
        recognized = frozenset((source, page) for source, page, _ in read)
        turns = []
        for turn, answer in enumerate(parsed):
            stale = stale_citations(answer, settings=self.settings)
            warning = ""
            if stale:
                names = ", ".join(sorted({f"[{c.number}] {html.escape(c.passage.source)}" for c in stale}))
                warning = f'<p class="stale">{phrases.text("source_changed", answer.language, names=names)}</p>'
            turns.append(warning + render_sources(answer, turn, recognized))
        return turns_panel(turns, language)

    def export(self, answers: list[dict], kind: str, language: str = "fr") -> str | None:
        """The conversation written to a file for download: Markdown (in ``language``) or JSON (docs/export.md)."""
        if not answers:
            return None
        parsed = [answer_from_dict(a) for a in answers]
        folder = Path(tempfile.mkdtemp(prefix="export-", dir=self.exports))
        path = folder / f"conversation.{'md' if kind == 'md' else 'json'}"
        text = to_markdown(parsed, language=language) if kind == "md" else to_json(parsed)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def conversation_exporter(self, kind: str):
        """The event of a conversation's export button, in the page's language."""

        def export(answers: list[dict], request: gr.Request = None) -> str | None:
            return self.export(answers, kind, phrases.language_of(request))

        return export

    def restore(self, saved: dict, request: gr.Request = None):
        """The conversation kept in the browser, back on the page after a reload."""
        saved = saved if isinstance(saved, dict) else {}
        history, answers = list(saved.get("history") or []), list(saved.get("answers") or [])
        language = phrases.language_of(request)
        try:
            panel = self.sources_panel(answers, language)
        except (KeyError, TypeError, ValueError):  # kept by another version of the app: start afresh
            history, answers, panel = [], [], self.sources_panel([], language)
        return history, answers, panel

    def clear(self, request: gr.Request = None):
        """A new conversation: nothing asked, nothing kept."""
        return [], [], turns_panel([], phrases.language_of(request)), {"history": [], "answers": []}, None

    def open_original(self, passage_id: str, request: gr.Request = None):
        """The original document at a cited passage: the PDF page as an image, other formats' text around it.

        Only documents of the index are shown, found by the passage's id, never by a path from the page.
        """
        language = phrases.language_of(request)
        try:
            shown = original(passage_id, self.exports, settings=self.settings)
        except AssistantError as exc:
            return gr.update(value=None, visible=False), f"❌ {escape_markdown(phrases.say(str(exc)))}"
        if shown is None:
            return gr.update(value=None, visible=False), phrases.text("passage_gone", language)
        page = phrases.text("page_number", language, page=shown.page) if shown.page else ""
        where = escape_markdown(shown.source) + page
        if shown.image is not None:
            return gr.update(value=str(shown.image), visible=True), f"**{where}**"
        text = (
            f'<div class="original"><span class="context">{html.escape(shown.before)}</span>'
            f"<mark>{html.escape(shown.quote)}</mark>"
            f'<span class="context">{html.escape(shown.after)}</span></div>'
        )
        return gr.update(value=None, visible=False), f"**{where}**\n\n{text}"

    def open_linked(self, request: gr.Request):
        """A link to a passage (``/?passage=<id>``, as the API's sources give) opens it on arrival."""
        passage = request.query_params.get("passage", "") if request else ""
        if not passage:
            return gr.update(), gr.update()
        return self.open_original(passage, request)

    def upload(self, files, request: gr.Request = None):
        language = phrases.language_of(request)
        messages = []
        for item in files or []:
            path = Path(item if isinstance(item, str) else item.name)
            original = getattr(item, "orig_name", None) or path.name
            try:
                added = add_file(self.settings.corpus_dir, path, original, self.settings.max_file_mb)
                messages.append(f"✅ {added}")
            except AssistantError as exc:
                messages.append(f"❌ {phrases.say(str(exc), language)}")
            finally:
                discard_upload(path)
        note = "\n".join(messages) or phrases.text("no_file", language)
        if any(m.startswith("✅") for m in messages):
            note += "\n\n" + self.next_step("to_ask_new", language)
        table, sources = _documents(self.settings, language)
        return note, table, gr.update(choices=sources), None

    def ask_delete(self, source: str, request: gr.Request = None):
        """The confirmation asked before a delete, naming the file."""
        language = phrases.language_of(request)
        if not source:
            return gr.update(visible=False), phrases.text("choose_first", language)
        days = f"{self.settings.trash_days:g}"
        question = phrases.text("confirm_question", language, source=escape_markdown(source), days=days)
        return gr.update(visible=True), question

    def delete(self, source: str, request: gr.Request = None):
        """Move a document to the trash (what the confirmation button does)."""
        language = phrases.language_of(request)
        if not source:
            table = _documents(self.settings, language)[0]
            return phrases.text("choose", language), table, gr.update(), gr.update(), gr.update()
        try:
            delete_file(self.settings.corpus_dir, source, self.settings.trash_dir)
            discard_rendered(source, self.exports)
            note = phrases.text("trashed", language, source=source) + self.next_step("to_remove", language)
        except AssistantError as exc:
            note = f"❌ {phrases.say(str(exc), language)}"
        table, sources = _documents(self.settings, language)
        trash = self.trash_choices(request)
        return note, table, gr.update(choices=sources, value=None), trash, gr.update(visible=False)

    def trash_choices(self, request: gr.Request = None):
        language = phrases.language_of(request)
        purge_trash(self.settings.trash_dir, self.settings.trash_days)
        entries = list_trash(self.settings.trash_dir)
        when = lambda entry: time.strftime("%d/%m %H:%M", time.localtime(entry.deleted_at))  # noqa: E731
        choices = [(phrases.text("deleted_on", language, source=e.source, when=when(e)), e.id) for e in entries]
        return gr.update(choices=choices, value=None)

    def restore_deleted(self, entry_id: str, request: gr.Request = None):
        """Put a document of the trash back in the corpus."""
        language = phrases.language_of(request)
        if not entry_id:
            return phrases.text("choose_in_trash", language), gr.update(), gr.update(), gr.update()
        try:
            source = restore_file(self.settings.corpus_dir, self.settings.trash_dir, entry_id)
            note = phrases.text("restored", language, source=source) + self.next_step("to_ask_again", language)
        except AssistantError as exc:
            note = f"❌ {phrases.say(str(exc), language)}"
        table, sources = _documents(self.settings, language)
        return note, table, gr.update(choices=sources, value=None), self.trash_choices(request)

    def next_step(self, purpose: str, language: str = "fr") -> str:
        """What makes a change of the corpus reach the answers: the folder watcher, or a rebuild."""
        purpose = phrases.text(purpose, language)
        return phrases.text("by_itself" if self.watcher is not None else "rebuild_to", language, purpose=purpose)

    def tick(self, seen_generation: str | None, request: gr.Request = None):
        """The status line, and the documents table when the index changed since this page last looked."""
        language = phrases.language_of(request)
        overview = index_overview(settings=self.settings)  # one look at the index for both
        generation = overview.generation
        table = _documents(self.settings, language)[0] if generation != seen_generation else gr.update()
        return self.index_status(language, overview), table, generation

    def documents_table(self, request: gr.Request = None) -> dict:
        return _documents(self.settings, phrases.language_of(request))[0]

    def documents(self, request: gr.Request = None):
        """The documents table and the delete list, fresh (on page load)."""
        table, sources = _documents(self.settings, phrases.language_of(request))
        return table, gr.update(choices=sources)

    def rebuild(self, request: gr.Request = None, progress=gr.Progress()):  # noqa: B008 - Gradio's progress bar
        language = phrases.language_of(request)

        def report_progress(stage: str, done: int, total: int) -> None:
            progress((done, total) if total else None, desc=phrases.stage(stage, language))

        report = build_now(self.settings, self.state, progress=report_progress)
        table = _documents(self.settings, language)[0]
        if report is None:
            error = self.state.last_error
            note = f"❌ {phrases.say(error, language)}" if error else phrases.text("building_already", language)
            return note, table
        return f"```\n{phrases.summary(report, language)}\n```", table

    # --- layout -------------------------------------------------------------------------------------------
    def _corpus_controls(self, demo: gr.Blocks, table: gr.Dataframe, names: list[str]) -> None:
        """Upload, delete and rebuild, with their events: only when the app may change the corpus."""
        with gr.Row():
            with gr.Column():
                files = gr.File(
                    label=phrases.label("add_documents"),
                    file_count="multiple",
                    file_types=list(SUPPORTED),
                    elem_id="upload",
                )
                upload = gr.Button(phrases.label("add"), elem_id="add")
            with gr.Column():
                chosen = gr.Dropdown(
                    names, value=None, label=phrases.label("to_delete"), elem_id="chosen", allow_custom_value=True
                )
                remove = gr.Button(phrases.label("delete"), variant="stop", elem_id="delete")
                with gr.Group(visible=False, elem_id="confirm-delete") as confirming:
                    question = gr.Markdown(elem_id="confirm-question")
                    with gr.Row():
                        confirm = gr.Button(phrases.label("confirm_delete"), variant="stop", elem_id="confirm")
                        cancel = gr.Button(phrases.label("cancel"), elem_id="cancel")
            with gr.Column():
                trash = gr.Dropdown([], value=None, label=phrases.label("trash"), elem_id="trash")
                restore = gr.Button(phrases.label("restore"), elem_id="restore")
        rebuild = gr.Button(phrases.label("rebuild"), variant="primary", elem_id="rebuild")
        status = gr.Markdown(elem_id="status")
        upload.click(self.upload, files, [status, table, chosen, files])
        remove.click(self.ask_delete, chosen, [confirming, question])
        confirm.click(self.delete, chosen, [status, table, chosen, trash, confirming])
        cancel.click(lambda: gr.update(visible=False), None, confirming)
        restore.click(self.restore_deleted, trash, [status, table, chosen, trash])
        rebuild.click(self.rebuild, None, [status, table], concurrency_limit=1)
        demo.load(self.documents, None, [table, chosen])
        demo.load(self.trash_choices, None, trash)

    def blocks(self) -> gr.Blocks:
        llm = bool(self.settings.llm_url)
        with gr.Blocks(title="Assistant documentaire — innovation publique") as demo:
            gr.Markdown(phrases.label("title"))
            with gr.Tab(phrases.label("tab_questions")):
                building = gr.Markdown(self.first_build(), elem_id="first-build")
                # a timer of this tab: one in a hidden tab does not tick
                gr.Timer(1.0).tick(self.first_build, None, building, queue=False)
                answers = gr.State([])
                saved = gr.BrowserState({"history": [], "answers": []}, storage_key="assistant-conversation")
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(
                            label=phrases.label("conversation"),
                            height=480,
                            elem_id="chat",
                            feedback_options=None,
                            buttons=["copy"],
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder=phrases.label("question_placeholder"),
                                show_label=False,
                                max_length=MAX_TEXT_CHARS,  # past MAX_QUERY_CHARS the answer says it is too long
                                scale=5,
                                elem_id="question",
                                autofocus=True,
                            )
                            send = gr.Button(phrases.label("ask"), variant="primary", scale=1, elem_id="ask")
                        with gr.Group(elem_id="feedback"):
                            gr.Markdown(phrases.label("feedback_title"))
                            with gr.Row():
                                wrong_citation = gr.Radio(
                                    [NO_CITATION],
                                    value=NO_CITATION,
                                    label=phrases.label("wrong_citation"),
                                    elem_id="wrong-citation",
                                )
                                comment = gr.Textbox(
                                    label=phrases.label("comment"),
                                    max_length=MAX_COMMENT_CHARS,
                                    elem_id="feedback-comment",
                                    scale=3,
                                )
                            with gr.Row():
                                useful = gr.Button(phrases.label("useful"), size="sm", elem_id="feedback-up")
                                wrong = gr.Button(phrases.label("wrong"), size="sm", elem_id="feedback-down")
                            feedback_note = gr.Markdown("", elem_id="feedback-note")
                        gr.Examples(EXAMPLES, inputs=question, label=phrases.label("examples"))
                        with gr.Accordion(phrases.label("settings"), open=False):
                            k = gr.Slider(1, 10, value=5, step=1, label=phrases.label("passages_read"))
                            mode = gr.Radio(
                                ["extractive", "llm"] if llm else ["extractive"],
                                value="llm" if llm else "extractive",
                                label=phrases.label("answer_mode" if llm else "answer_mode_no_llm"),
                            )
                        with gr.Row():
                            clear = gr.Button(phrases.label("new_conversation"), size="sm", elem_id="clear")
                            export_md = gr.Button(phrases.label("export_markdown"), size="sm", elem_id="export-md")
                            export_json = gr.Button(phrases.label("export_json"), size="sm", elem_id="export-json")
                        exported = gr.File(
                            label=phrases.label("export"), visible=True, elem_id="exported", interactive=False
                        )
                    with gr.Column(scale=2):
                        gr.Markdown(phrases.label("sources"))
                        sources = gr.HTML(turns_panel([]), elem_id="sources")
                        gr.Markdown(phrases.label("original"))
                        original_where = gr.Markdown(phrases.label("original_hint"), elem_id="original-where")
                        original_page = gr.Image(
                            visible=False, show_label=False, elem_id="original-page", interactive=False
                        )
                        opening = gr.Textbox(elem_id="open-request", elem_classes=["hidden-control"], show_label=False)
                        open_button = gr.Button("open", elem_id="open-button", elem_classes=["hidden-control"])
                inputs = [question, chat, answers, k, mode]
                outputs = [chat, answers, sources, question, saved]
                # Extractive answers take milliseconds; language-model ones are bounded apart (answers.LLM_SLOTS).
                for trigger in (send.click, question.submit):
                    trigger(self.respond, inputs, outputs, concurrency_limit=8, concurrency_id="ask").then(
                        self.citation_choices, answers, wrong_citation
                    )
                for button, helpful in ((useful, True), (wrong, False)):
                    button.click(
                        self.judge(helpful),
                        [answers, comment, wrong_citation],
                        [feedback_note, comment],
                    )
                clear.click(
                    self.clear,
                    None,
                    [chat, answers, sources, saved, exported],
                )
                export_md.click(self.conversation_exporter("md"), answers, exported)
                export_json.click(self.conversation_exporter("json"), answers, exported)
                open_button.click(self.open_original, opening, [original_page, original_where])
                demo.load(self.restore, saved, [chat, answers, sources])
                demo.load(self.open_linked, None, [original_page, original_where])
            with gr.Tab(phrases.label("tab_documents")):
                rows, names = _documents(self.settings)
                table = gr.Dataframe(
                    rows,
                    interactive=False,
                    wrap=True,
                    column_widths=["22%", "32%", "8%", "8%", "10%", "20%"],  # every column shown, État included
                    elem_id="documents",
                )
                status_line = gr.Markdown(self.index_status(), elem_id="index-status")
                if self.read_only:
                    gr.Markdown(phrases.label("read_only"), elem_id="status")
                    demo.load(self.documents_table, None, table)
                else:
                    self._corpus_controls(demo, table, names)
                # The index's state, every two seconds; the table again only when a build has swapped the index.
                seen_generation = gr.State(index_overview(settings=self.settings).generation)
                gr.Timer(2.0).tick(self.tick, seen_generation, [status_line, table, seen_generation], queue=False)
            if not (self.read_only and not self.settings.auth):  # what people asked is not for anyone's eyes
                with gr.Tab(phrases.label("tab_gaps")):
                    gr.Markdown(phrases.label("gaps_intro"))
                    with gr.Row():
                        refresh_gaps = gr.Button(phrases.label("refresh"), size="sm", elem_id="gaps-refresh")
                        gaps_csv = gr.Button(phrases.label("export_csv"), size="sm", elem_id="gaps-csv")
                        gaps_md = gr.Button(phrases.label("export_markdown"), size="sm", elem_id="gaps-md")
                    gaps_file = gr.File(label=phrases.label("export"), interactive=False, elem_id="gaps-file")
                    report = gr.Markdown("", elem_id="gaps")
                    refresh_gaps.click(self.gaps_report, None, report)
                    gaps_csv.click(self.exporter("csv"), None, gaps_file)
                    gaps_md.click(self.exporter("md"), None, gaps_file)
        demo.queue(default_concurrency_limit=2, max_size=64)
        return demo


def _saved(history: list, answers: list) -> dict:
    """What the browser keeps of a conversation, so that a reload does not lose it."""
    return {"history": history, "answers": answers}


def discard_upload(path: Path) -> None:
    """Remove an upload from Gradio's cache once it is copied (or refused): no copy stays downloadable there."""
    from gradio.utils import get_upload_folder

    cache = Path(get_upload_folder()).resolve()
    path = Path(path).resolve()
    if cache in path.parents:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # Gradio keeps each upload in a folder of its own


def discard_rendered(source: str, exports: str) -> None:
    """A deleted document's rendered pages leave this app's folder and Gradio's cache: none stays downloadable."""
    from gradio.utils import get_upload_folder

    discard_page_images(source, exports, get_upload_folder())


def _placed(answer) -> str:
    """The answer's text as the page shows it: where an answer not found says its closest passages are listed, the
    page says they are on the right, where it shows them."""
    listed = PHRASES[answer.language]["closest"]
    if answer.abstained and answer.passages and answer.text.endswith(listed):
        return answer.text[: -len(listed)] + phrases.text("closest_right", answer.language)
    return answer.text


def build_app(settings: Settings | None = None) -> gr.Blocks:
    return App(settings).blocks()


def server_app(app: App, host: str = "127.0.0.1"):
    """One web application: the page at /, and beside it the REST API (/api/v1), the OpenAI-compatible endpoint
    (/v1) and the MCP server (/mcp), with the same settings, index and read-only rule (assistant.service)."""
    demo = app.blocks()
    api = create_api(Service(app.settings, app.read_only, app.limiter), host)
    blocked = [str(Path(app.settings.corpus_dir).resolve()), str(Path(app.settings.index_dir).resolve())]
    login = {}
    if app.settings.auth:
        login = {"auth": load_users(app.settings.auth), "auth_message": "Assistant documentaire : connectez-vous."}
    api.add_middleware(PageGuard, read_only=app.read_only, step=app.settings.login_delay)
    return gr.mount_gradio_app(
        api,
        demo,
        path="/",
        server_name=host,
        i18n=phrases.I18N,
        css=CSS,
        head=HEAD,
        blocked_paths=blocked,
        max_file_size=f"{int(app.settings.max_file_mb)}mb",
        footer_links=[],
        **login,
    )


def launch(app: App, host: str | None = None, port: int | None = None, block: bool = True) -> Running:
    """Serve the app and its HTTP doors; binds to 127.0.0.1 unless told otherwise; the corpus and index are never
    served. ``block=False`` returns once the server listens (``close()`` stops it)."""
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = port or int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
    app.read_only = is_read_only(app.settings.read_only, host)
    if not is_loopback(host) and not app.settings.auth:
        warning = (
            f"⚠️  Listening on {host} without a login: anyone who can reach this machine can read every document."
            " Set ASSISTANT_AUTH (a users file) and ASSISTANT_API_KEYS, or listen on 127.0.0.1."
        )
        log.warning(warning)
        print(warning, flush=True)
    running = Running(server_app(app, host), host, port)
    if block:
        print(f"Page, API et MCP sur http://{host}:{port}/ (Ctrl+C pour arrêter)", flush=True)
        running.run()
        return running
    return running.start()


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Refresh the index, then serve the app until interrupted (what ``python app.py`` runs)."""
    app = App(settings)
    running = launch(app, host, port, block=False)  # the page opens at once and shows the build's progress
    print(f"Page, API et MCP sur {running.url} (Ctrl+C pour arrêter)", flush=True)
    print("Mise à jour de l'index…", flush=True)
    print(app.refresh_index(), flush=True)
    open_retriever(app.settings).embedder.embed_query("échauffement")  # load the model before the first question
    app.start_watching()
    try:
        while running.thread.is_alive():
            running.thread.join(timeout=1.0)
    except KeyboardInterrupt:
        running.close()
