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
from assistant.answering.provenance import answer_from_dict, answer_to_dict, stale_citations, to_json, to_markdown
from assistant.api import log_answer, record_feedback, unanswered
from assistant.corpus import add_file, delete_file, list_documents, list_trash, purge_trash, restore_file
from assistant.errors import AssistantError
from assistant.feedback import gaps
from assistant.feedback.store import MAX_COMMENT_CHARS
from assistant.index import cached_index, current_generation, current_manifest
from assistant.limits import RateLimiter
from assistant.markup import escape_markdown
from assistant.readers.documents import SUPPORTED, read_document
from assistant.readers.isolated import render_page_isolated
from assistant.records import content_hash
from assistant.retrieval import MAX_QUERY_CHARS, open_retriever
from assistant.service import Service, create_api
from assistant.service.server import Running
from assistant.settings import Settings
from assistant.ui import phrases
from assistant.ui.guards import MAX_TEXT_CHARS, PageGuard
from assistant.ui.render import CSS, HEAD, link_markers, render_sources, source_line, status_badge, turns_panel
from assistant.watch import IndexState, Watcher, build_now

log = logging.getLogger(__name__)

NO_CITATION = "aucune"

EXAMPLES = [
    "Combien de propositions le groupe de travail sur l'innovation participative a-t-il formulées ?",
    "Où s'est tenu le barcamp Futurs Publics en 2016 ?",
    "Quelles sont les recommandations de la conférence de l'ENAP ?",
    "À quoi sert la semaine de l'innovation publique ?",
]


def _documents(settings: Settings) -> tuple[list[list], list[str]]:
    """The documents table and the names for the delete list, from one look at the corpus and the manifest."""
    rows = []
    entries = list_documents(settings.corpus_dir, settings.index_dir)
    for entry in entries:
        status = phrases.state(entry.status) + (f" : {phrases.say(entry.reason)}" if entry.status == "failed" else "")
        rows.append([entry.source, entry.title, entry.kind, entry.pages or "", entry.chunks, status])
    return rows, [entry.source for entry in entries]


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

    def index_status(self) -> str:
        """The index's state, for the status line: documents, passages, last build, a build in progress, files
        left out with their reason."""
        manifest, state = current_manifest(self.settings.index_dir), self.state
        built = manifest.get("built_at", "")
        lines = [
            f"**Index** : {len(manifest.get('sources', {}))} documents, {manifest.get('chunk_count', 0)} passages"
            + (f", construit le {built[:10]} à {built[11:16]}" if built else "")
        ]
        if state.building:
            lines.append(f"⏳ Mise à jour en cours : {self.stage()}")
        if state.last_error:
            lines.append(f"❌ Dernière construction : {escape_markdown(phrases.say(state.last_error))}")
        failed = manifest.get("failed", {})
        if failed:
            lines.append(f"⚠️ {len(failed)} fichier(s) écarté(s) :")
            for source, entry in sorted(failed.items())[:20]:
                lines.append(f"- {escape_markdown(source)} : {escape_markdown(entry.get('reason', ''))}")
        return "\n".join(lines)

    def stage(self) -> str:
        """The build's stage and progress, in French."""
        state = self.state
        progress = f" ({state.done}/{state.total})" if state.total else ""
        return escape_markdown(phrases.stage(state.stage)) + progress

    def first_build(self) -> str:
        """While the very first index is being built, what the Questions tab says instead of answering."""
        if not self.state.building or current_generation(self.settings.index_dir) is not None:
            return ""
        return f"⏳ Première construction de l'index : {self.stage()}. Posez vos questions dès qu'elle finit."

    # --- events -------------------------------------------------------------------------------------------
    def respond(self, question: str, history: list, answers: list, k: int, mode: str, request: gr.Request = None):
        """Answer one question. Yields (chat, answers, sources panel, question box, conversation to keep in the
        browser); ``answers`` are the conversation's Answers as dicts, the provenance exports are made from."""
        history = list(history or [])
        answers = list(answers or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("Écrivez d'abord une question.")
            yield history, answers, self.sources_panel(answers), "", _saved(history, answers)
            return
        address = request.client.host if request is not None and request.client else ""
        if wait := self.limiter.wait(address):
            refusal = f"⏳ Trop de questions à la suite : posez la suivante dans {wait:g} s."
            history = history + [{"role": "user", "content": question}, {"role": "assistant", "content": refusal}]
            yield history, answers, self.sources_panel(answers), question, _saved(history, answers)
            return
        if len(question) > MAX_QUERY_CHARS:  # refused before any work, in the page's language
            typed, read = (f"{number:,}".replace(",", " ") for number in (len(question), MAX_QUERY_CHARS))
            refusal = f"⚠️ La question est trop longue : {typed} caractères, au plus {read} sont lus. Raccourcissez-la."
            turn = [{"role": "user", "content": question[:200] + "…"}, {"role": "assistant", "content": refusal}]
            history = history + turn
            yield history, answers, self.sources_panel(answers), "", _saved(history, answers)
            return
        if waiting := self.first_build():
            history = history + [{"role": "user", "content": question}, {"role": "assistant", "content": waiting}]
            yield history, answers, self.sources_panel(answers), "", _saved(history, answers)
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
            message = phrases.say(str(exc)) or type(exc).__name__
            history[-1] = {"role": "assistant", "content": f"⚠️ {escape_markdown(message)}"}
            yield history, answers, self.sources_panel(answers), "", _saved(history, answers)
            return
        content = status_badge(answer) + link_markers(answer.text, turn) + source_line(answer, turn)
        if answer.abstained:
            content += (
                "\n\n*ℹ️ "
                + (
                    "Réponse non trouvée : les passages les plus proches sont à droite."
                    if answer.language == "fr"
                    else "No answer found: the closest passages are on the right."
                )
                + "*"
            )
        if answer.warnings:
            content += "\n\n" + "\n".join(f"- ⚠️ {escape_markdown(w)}" for w in answer.warnings)
        history[-1] = {"role": "assistant", "content": content}
        if self.settings.log_questions == "1":
            answer = self._logged(answer, retriever)
        answers = answers + [answer_to_dict(answer)]
        yield history, answers, self.sources_panel(answers), "", _saved(history, answers)

    def _logged(self, answer, retriever):
        """The answer as logged for feedback and the gaps report (unchanged if the log cannot be written)."""
        try:
            return log_answer(answer, self.settings, retriever)
        except Exception:  # noqa: BLE001 - a log that fails must not cost the reader the answer
            log.exception("the answer could not be logged")
            return answer

    def citation_choices(self, answers: list[dict]):
        """The citations of the last answer, for "which citation is wrong"."""
        numbers = sorted({c["number"] for c in answers[-1]["citations"]}) if answers else []
        return gr.update(choices=[NO_CITATION] + [f"[{n}]" for n in numbers], value=NO_CITATION)

    def give_feedback(self, answers: list[dict], helpful: bool, comment: str, wrong: str):
        """Record the reader's judgement of the last answer; (note, comment box)."""
        if not answers:
            return "Posez d'abord une question.", comment
        answer = answer_from_dict(answers[-1])
        number = int(wrong.strip("[]")) if wrong and wrong != NO_CITATION else None
        try:
            record_feedback(answer, helpful, comment or "", wrong_citation=number, settings=self.settings)
        except ValueError as exc:
            return f"⚠️ {escape_markdown(phrases.say(str(exc)))}", comment
        thanks = "Merci : votre avis est enregistré." if helpful else "Merci : la réponse est signalée comme fausse."
        return thanks, ""

    def gaps_report(self) -> str:
        """The report of questions the documents do not answer, in Markdown (question and document text inert)."""
        try:
            return gaps.to_markdown(unanswered(settings=self.settings), escape_markdown)
        except AssistantError as exc:
            return f"⚠️ {escape_markdown(phrases.say(str(exc)))}"

    def export_gaps(self, kind: str) -> str:
        report = unanswered(settings=self.settings)
        folder = Path(tempfile.mkdtemp(prefix="gaps-", dir=self.exports))
        path = folder / f"questions-sans-reponse.{'csv' if kind == 'csv' else 'md'}"
        path.write_text(gaps.to_csv(report) if kind == "csv" else gaps.to_markdown(report), encoding="utf-8")
        return str(path)

    def sources_panel(self, answers: list[dict]) -> str:
        """The sources of every answer, newest open, with a warning where a cited document changed since."""
        parsed = [answer_from_dict(a) for a in answers]
        turns = []
        for turn, answer in enumerate(parsed):
            stale = stale_citations(answer, settings=self.settings)
            warning = ""
            if stale:
                names = ", ".join(sorted({f"[{c.number}] {html.escape(c.passage.source)}" for c in stale}))
                warning = f'<p class="stale">⚠️ Source modifiée depuis la réponse : {names}</p>'
            turns.append(warning + render_sources(answer, turn))
        return turns_panel(turns)

    def export(self, answers: list[dict], kind: str) -> str | None:
        """The conversation written to a file for download: Markdown or JSON (docs/export.md)."""
        if not answers:
            return None
        parsed = [answer_from_dict(a) for a in answers]
        folder = Path(tempfile.mkdtemp(prefix="export-", dir=self.exports))
        path = folder / f"conversation.{'md' if kind == 'md' else 'json'}"
        path.write_text(to_markdown(parsed) if kind == "md" else to_json(parsed), encoding="utf-8")
        return str(path)

    def restore(self, saved: dict):
        """The conversation kept in the browser, back on the page after a reload."""
        saved = saved if isinstance(saved, dict) else {}
        history, answers = list(saved.get("history") or []), list(saved.get("answers") or [])
        try:
            panel = self.sources_panel(answers)
        except (KeyError, TypeError, ValueError):  # kept by another version of the app: start afresh
            history, answers, panel = [], [], self.sources_panel([])
        return history, answers, panel

    def open_original(self, passage_id: str):
        """The original document at a cited passage: the PDF page as an image, other formats' text around it.

        Only documents of the index are shown, found by the passage's id, never by a path from the page.
        """
        try:
            index = cached_index(self.settings.index_dir)
        except AssistantError as exc:
            return gr.update(value=None, visible=False), f"❌ {escape_markdown(phrases.say(str(exc)))}"
        passage_id, _, quoted = (passage_id or "").strip().partition("#")  # "<id>#<start>-<end>" of the quote
        row = index.chunk_row.get(passage_id)
        if row is None:
            return gr.update(value=None, visible=False), "Ce passage n'est plus dans l'index."
        chunk = index.chunks[row]
        path = Path(self.settings.corpus_dir) / chunk.source
        where = escape_markdown(chunk.source) + (f", page {chunk.page}" if chunk.page else "")
        try:
            if path.suffix.lower() == ".pdf" and chunk.page:
                version = index.manifest["sources"].get(chunk.source, {}).get("hash", "")[:12]
                out = Path(self.exports) / f"{rendered_prefix(chunk.source)}{chunk.page}-{version}.png"
                if not out.exists():  # a page is rendered once per version of its document
                    limits = self.settings.parse_timeout, self.settings.parse_memory_mb
                    render_page_isolated(path, chunk.page, out, *limits)
                return gr.update(value=str(out), visible=True), f"**{where}**"
            document = read_document(path, chunk.source, self.settings)
        except AssistantError as exc:
            return gr.update(value=None, visible=False), f"❌ {escape_markdown(phrases.say(str(exc)))}"
        start, end = chunk.start, chunk.end
        first, last = _quote_span(quoted, end - start)  # within the passage; the whole passage without a quote
        before = document.text[max(0, start - CONTEXT_CHARS) : start + first]
        after = document.text[start + last : end + CONTEXT_CHARS]
        text = (
            f'<div class="original"><span class="context">{html.escape(before)}</span>'
            f"<mark>{html.escape(document.text[start + first : start + last])}</mark>"
            f'<span class="context">{html.escape(after)}</span></div>'
        )
        return gr.update(value=None, visible=False), f"**{where}**\n\n{text}"

    def open_linked(self, request: gr.Request):
        """A link to a passage (``/?passage=<id>``, as the API's sources give) opens it on arrival."""
        passage = request.query_params.get("passage", "") if request else ""
        if not passage:
            return gr.update(), gr.update()
        return self.open_original(passage)

    def upload(self, files):
        messages = []
        for item in files or []:
            path = Path(item if isinstance(item, str) else item.name)
            original = getattr(item, "orig_name", None) or path.name
            try:
                added = add_file(self.settings.corpus_dir, path, original, self.settings.max_file_mb)
                messages.append(f"✅ {added}")
            except AssistantError as exc:
                messages.append(f"❌ {phrases.say(str(exc))}")
            finally:
                discard_upload(path)
        note = "\n".join(messages) or "Aucun fichier."
        if any(m.startswith("✅") for m in messages):
            note += "\n\n" + self.next_step("interroger les nouveaux documents")
        table, sources = _documents(self.settings)
        return note, table, gr.update(choices=sources), None

    def ask_delete(self, source: str):
        """The confirmation asked before a delete, naming the file."""
        if not source:
            return gr.update(visible=False), "Choisissez d'abord un document."
        days = f"{self.settings.trash_days:g}"
        question = f"Supprimer **{escape_markdown(source)}** ? Il ira dans la corbeille, restaurable {days} jours."
        return gr.update(visible=True), question

    def delete(self, source: str):
        """Move a document to the trash (what the confirmation button does)."""
        if not source:
            return "Choisissez un document.", _documents(self.settings)[0], gr.update(), gr.update(), gr.update()
        try:
            delete_file(self.settings.corpus_dir, source, self.settings.trash_dir)
            discard_rendered(source, self.exports)
            note = f"🗑️ {source} mis à la corbeille. " + self.next_step("le retirer des réponses")
        except AssistantError as exc:
            note = f"❌ {phrases.say(str(exc))}"
        table, sources = _documents(self.settings)
        return note, table, gr.update(choices=sources, value=None), self.trash_choices(), gr.update(visible=False)

    def trash_choices(self):
        purge_trash(self.settings.trash_dir, self.settings.trash_days)
        entries = list_trash(self.settings.trash_dir)
        when = lambda entry: time.strftime("%d/%m %H:%M", time.localtime(entry.deleted_at))  # noqa: E731
        return gr.update(choices=[(f"{e.source} (supprimé le {when(e)})", e.id) for e in entries], value=None)

    def restore_deleted(self, entry_id: str):
        """Put a document of the trash back in the corpus."""
        if not entry_id:
            return "Choisissez un document de la corbeille.", gr.update(), gr.update(), gr.update()
        try:
            source = restore_file(self.settings.corpus_dir, self.settings.trash_dir, entry_id)
            note = f"♻️ {source} restauré. " + self.next_step("l'interroger à nouveau")
        except AssistantError as exc:
            note = f"❌ {phrases.say(str(exc))}"
        table, sources = _documents(self.settings)
        return note, table, gr.update(choices=sources, value=None), self.trash_choices()

    def next_step(self, purpose: str) -> str:
        """What makes a change of the corpus reach the answers: the folder watcher, or a rebuild."""
        if self.watcher is not None:
            return f"L'index se met à jour de lui-même dans quelques secondes pour {purpose}."
        return f"Reconstruisez l'index pour {purpose}."

    def tick(self, seen_generation: str | None):
        """The status line, and the documents table when the index changed since this page last looked."""
        generation = current_generation(self.settings.index_dir)
        table = _documents(self.settings)[0] if generation != seen_generation else gr.update()
        return self.index_status(), table, generation

    def documents(self):
        """The documents table and the delete list, fresh (on page load)."""
        table, sources = _documents(self.settings)
        return table, gr.update(choices=sources)

    def rebuild(self, progress=gr.Progress()):  # noqa: B008 - how Gradio asks for a progress bar
        def report_progress(stage: str, done: int, total: int) -> None:
            progress((done, total) if total else None, desc=phrases.stage(stage))

        report = build_now(self.settings, self.state, progress=report_progress)
        if report is None:
            note = (
                f"❌ {phrases.say(self.state.last_error)}"
                if self.state.last_error
                else "Une reconstruction est déjà en cours."
            )
            return note, _documents(self.settings)[0]
        return f"```\n{phrases.summary(report)}\n```", _documents(self.settings)[0]

    # --- layout -------------------------------------------------------------------------------------------
    def _corpus_controls(self, demo: gr.Blocks, table: gr.Dataframe, names: list[str]) -> None:
        """Upload, delete and rebuild, with their events: only when the app may change the corpus."""
        with gr.Row():
            with gr.Column():
                files = gr.File(
                    label="Ajouter des documents (txt, md, pdf, html, docx)",
                    file_count="multiple",
                    file_types=list(SUPPORTED),
                    elem_id="upload",
                )
                upload = gr.Button("Ajouter au corpus", elem_id="add")
            with gr.Column():
                chosen = gr.Dropdown(
                    names, value=None, label="Document à supprimer", elem_id="chosen", allow_custom_value=True
                )
                remove = gr.Button("Supprimer…", variant="stop", elem_id="delete")
                with gr.Group(visible=False, elem_id="confirm-delete") as confirming:
                    question = gr.Markdown(elem_id="confirm-question")
                    with gr.Row():
                        confirm = gr.Button("Confirmer la suppression", variant="stop", elem_id="confirm")
                        cancel = gr.Button("Annuler", elem_id="cancel")
            with gr.Column():
                trash = gr.Dropdown([], value=None, label="Corbeille", elem_id="trash")
                restore = gr.Button("Restaurer", elem_id="restore")
        rebuild = gr.Button("Reconstruire l'index", variant="primary", elem_id="rebuild")
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
            gr.Markdown(
                "## Assistant documentaire — innovation publique\n"
                "Posez une question : chaque réponse cite ses sources, que vous pouvez vérifier."
            )
            with gr.Tab("Questions"):
                building = gr.Markdown(self.first_build(), elem_id="first-build")
                # a timer of this tab: one in a hidden tab does not tick
                gr.Timer(1.0).tick(self.first_build, None, building, queue=False)
                answers = gr.State([])
                saved = gr.BrowserState({"history": [], "answers": []}, storage_key="assistant-conversation")
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(
                            label="Conversation", height=480, elem_id="chat", feedback_options=None, buttons=["copy"]
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder="Votre question…",
                                show_label=False,
                                max_length=MAX_TEXT_CHARS,  # past MAX_QUERY_CHARS the answer says it is too long
                                scale=5,
                                elem_id="question",
                                autofocus=True,
                            )
                            send = gr.Button("Demander", variant="primary", scale=1, elem_id="ask")
                        with gr.Group(elem_id="feedback"):
                            gr.Markdown("**Votre avis sur la dernière réponse**")
                            with gr.Row():
                                wrong_citation = gr.Radio(
                                    [NO_CITATION], value=NO_CITATION, label="Citation fausse", elem_id="wrong-citation"
                                )
                                comment = gr.Textbox(
                                    label="Commentaire (facultatif)",
                                    max_length=MAX_COMMENT_CHARS,
                                    elem_id="feedback-comment",
                                    scale=3,
                                )
                            with gr.Row():
                                useful = gr.Button("👍 Réponse utile", size="sm", elem_id="feedback-up")
                                wrong = gr.Button("👎 Réponse fausse", size="sm", elem_id="feedback-down")
                            feedback_note = gr.Markdown("", elem_id="feedback-note")
                        gr.Examples(EXAMPLES, inputs=question, label="Exemples")
                        with gr.Accordion("Réglages", open=False):
                            k = gr.Slider(1, 10, value=5, step=1, label="Nombre de passages lus")
                            mode = gr.Radio(
                                ["extractive", "llm"] if llm else ["extractive"],
                                value="llm" if llm else "extractive",
                                label="Mode de réponse" + ("" if llm else " (modèle de langue : non configuré)"),
                            )
                        with gr.Row():
                            clear = gr.Button("Nouvelle conversation", size="sm", elem_id="clear")
                            export_md = gr.Button("Exporter (Markdown)", size="sm", elem_id="export-md")
                            export_json = gr.Button("Exporter (JSON)", size="sm", elem_id="export-json")
                        exported = gr.File(label="Export", visible=True, elem_id="exported", interactive=False)
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(turns_panel([]), elem_id="sources")
                        gr.Markdown("### Document original")
                        original_where = gr.Markdown(
                            "Cliquez « Ouvrir l'original » sous une source.", elem_id="original-where"
                        )
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
                        lambda a, c, w, helpful=helpful: self.give_feedback(a, helpful, c, w),
                        [answers, comment, wrong_citation],
                        [feedback_note, comment],
                    )
                clear.click(
                    lambda: ([], [], turns_panel([]), {"history": [], "answers": []}, None),
                    None,
                    [chat, answers, sources, saved, exported],
                )
                export_md.click(lambda a: self.export(a, "md"), answers, exported)
                export_json.click(lambda a: self.export(a, "json"), answers, exported)
                open_button.click(self.open_original, opening, [original_page, original_where])
                demo.load(self.restore, saved, [chat, answers, sources])
                demo.load(self.open_linked, None, [original_page, original_where])
            with gr.Tab("Documents"):
                rows, names = _documents(self.settings)
                table = gr.Dataframe(
                    rows,
                    headers=["Fichier", "Titre", "Type", "Pages", "Passages", "État"],
                    interactive=False,
                    wrap=True,
                    column_widths=["22%", "32%", "8%", "8%", "10%", "20%"],  # every column shown, État included
                    elem_id="documents",
                )
                status_line = gr.Markdown(self.index_status(), elem_id="index-status")
                if self.read_only:
                    gr.Markdown(
                        "Lecture seule : le corpus ne peut pas être modifié depuis cette page.", elem_id="status"
                    )
                    demo.load(lambda: _documents(self.settings)[0], None, table)
                else:
                    self._corpus_controls(demo, table, names)
                # The index's state, every two seconds; the table again only when a build has swapped the index.
                seen_generation = gr.State(current_generation(self.settings.index_dir))
                gr.Timer(2.0).tick(self.tick, seen_generation, [status_line, table, seen_generation], queue=False)
            if not (self.read_only and not self.settings.auth):  # what people asked is not for anyone's eyes
                with gr.Tab("Questions sans réponse"):
                    gr.Markdown(
                        "Les questions restées sans réponse, à réponse partielle ou signalées fausses, regroupées par"
                        " sujet, les plus posées d'abord. Un groupe est marqué répondu quand une construction de"
                        " l'index ultérieure répond à la plupart de ses questions."
                    )
                    with gr.Row():
                        refresh_gaps = gr.Button("Actualiser", size="sm", elem_id="gaps-refresh")
                        gaps_csv = gr.Button("Exporter (CSV)", size="sm", elem_id="gaps-csv")
                        gaps_md = gr.Button("Exporter (Markdown)", size="sm", elem_id="gaps-md")
                    gaps_file = gr.File(label="Export", interactive=False, elem_id="gaps-file")
                    report = gr.Markdown("", elem_id="gaps")
                    refresh_gaps.click(self.gaps_report, None, report)
                    gaps_csv.click(lambda: self.export_gaps("csv"), None, gaps_file)
                    gaps_md.click(lambda: self.export_gaps("md"), None, gaps_file)
        demo.queue(default_concurrency_limit=2, max_size=64)
        return demo


CONTEXT_CHARS = 1500  # text shown around a cited passage of a non-PDF original


def _quote_span(quoted: str, length: int) -> tuple[int, int]:
    """The quote's span in a passage of ``length`` characters, from "<start>-<end>"; the whole passage if none.

    >>> _quote_span("12-40", 100), _quote_span("", 100), _quote_span("90-140", 100), _quote_span("x-y", 100)
    ((12, 40), (0, 100), (0, 100), (0, 100))
    """
    first, _, last = quoted.partition("-")
    if first.isdigit() and last.isdigit() and int(first) < int(last) <= length:
        return int(first), int(last)
    return 0, length


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


def rendered_prefix(source: str) -> str:
    """The start of the name of every page image rendered from ``source``, so that they can be found again."""
    return f"original-{content_hash(source)}-p"


def discard_rendered(source: str, exports: str) -> None:
    """A deleted document's rendered pages leave this app's folder and Gradio's cache: none stays downloadable."""
    from gradio.utils import get_upload_folder

    for folder in (Path(exports), Path(get_upload_folder())):
        for path in folder.rglob(f"{rendered_prefix(source)}*.png"):
            path.unlink(missing_ok=True)


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
