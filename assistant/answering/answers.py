"""Answers with citations: extractive by default (verbatim quotes), generative with a language model if configured.

Document text and model output reach the page as inert Markdown (``assistant.markup``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.answering.candidates import KIND, Candidate, candidates, term_weights
from assistant.answering.claims import check_claim
from assistant.answering.evidence import Evidence
from assistant.answering.history import user_questions
from assistant.answering.language import PHRASES, core_question, courtesy, detect_language, restore_names
from assistant.answering.lexicon import ANAPHORA, FOLLOW_UP_START, INVERSION, SECOND_ASK
from assistant.answering.support import question_needs
from assistant.chunking import split_sentences
from assistant.errors import LLMError
from assistant.keywords import analyze
from assistant.markup import escape_markdown, inert
from assistant.records import Answer, Citation, Passage
from assistant.retrieval import Retriever, check_query, open_retriever
from assistant.settings import Settings

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 600  # a closed question's answer; an open one may quote up to twice as much
MAX_QUOTES = 3
MAX_QUOTES_OPEN = 5
RELATIVE_CUTOFF = 0.8  # a quote's support must reach this share of the best one's

_MARKER = re.compile(r"\s*\[(\d+)\]")  # a marker, with the space before it: taken out together


def leaning(question: str, history: list | None) -> tuple[str, str]:
    """Whether a question may lean on the conversation, and on what: ("", "") when it stands alone; else the
    previous question, and "follow-up" when it opens like one ("Et combien ... ?") or says nothing but a verb and a
    pronoun ("Que récompense-t-il ?"); "short" when it says one thing at most and names nothing ("Quel budget ?"),
    or points back with a pronoun in few words ("Qui en sont les membres ?"): either reading may answer those. A
    question that names what it asks about ("Qu'est-ce que FP21 ?") stands alone; in a longer question an inverted
    subject ("le groupe a-t-il") points back to nothing; a greeting or thanks is no question to lean on.

    >>> history = [{"role": "user", "content": "Qu'est-ce que le Forum des Jeunes au Québec ?"}]
    >>> leaning("Et combien de membres compte-t-il ?", history)[1], leaning("Que récompense-t-il ?", history)[1]
    ('follow-up', 'follow-up')
    >>> leaning("Quel budget ?", history)[1], leaning("Qui en sont les membres fondateurs ?", history)[1]
    ('short', 'short')
    >>> leaning("Qu'est-ce que FP21 ?", history), leaning("What are the symptoms of a cold?", history)
    (('', ''), ('', ''))
    >>> leaning("Combien d'agents ont participé au barcamp Futurs Publics en 2016 ?", history)
    ('', '')
    >>> leaning("Quel budget ?", ["Bonjour", "Merci !"])
    ('', '')
    """
    previous = [asked for asked in user_questions(history) if courtesy(asked) is None]
    if not previous:
        return "", ""
    if FOLLOW_UP_START.search(question.strip()):
        return core_question(previous[-1]), "follow-up"
    if question_needs(question).entities:
        return "", ""
    terms = analyze(question)
    if len(terms) <= 1 and (ANAPHORA.search(question) or INVERSION.search(question)):
        return core_question(previous[-1]), "follow-up"  # "Que récompense-t-il ?": a pronoun, and nothing else named
    stripped = INVERSION.sub(" ", question)
    if len(terms) <= 1 or (ANAPHORA.search(stripped) and len(terms) <= 4):
        return core_question(previous[-1]), "short"
    return "", ""


def _pick(ranked: list[Candidate], bar: float, open_question: bool) -> list[Candidate]:
    """The quotes: supported sentences, best first, close to the best one, within the length budget."""
    most, budget = (MAX_QUOTES_OPEN, 2 * MAX_ANSWER_CHARS) if open_question else (MAX_QUOTES, MAX_ANSWER_CHARS)
    chosen: list[Candidate] = []
    length = 0
    for candidate in ranked:
        if len(chosen) == most or candidate.support < bar or candidate.support < RELATIVE_CUTOFF * ranked[0].support:
            break
        if chosen and (length + len(candidate.text) > budget or not candidate.features[KIND]):
            continue  # a further quote must hold the kind of answer asked for too: a number for "combien", ...
        chosen.append(candidate)
        length += len(candidate.text)
    return chosen


def _number_citations(chosen: list[tuple[Passage, str]]) -> list[Citation]:
    """Citations numbered by first use; the same passage keeps one number."""
    numbers: dict[str, int] = {}
    citations = []
    for passage, quote in chosen:
        number = numbers.setdefault(passage.id, len(numbers) + 1)
        citations.append(Citation(number, passage, quote))
    return citations


def split_question(question: str) -> list[str]:
    """The separate asks of a question: "Qui organise le barcamp et combien de participants ?" gives two.

    >>> split_question("Qui organise le barcamp et combien de participants y viennent ?")
    ['Qui organise le barcamp', 'combien de participants y viennent ?']
    >>> split_question("Quelles sont les dates et les lieux ?")
    ['Quelles sont les dates et les lieux ?']
    """
    parts = [part.strip() for part in SECOND_ASK.split(question)]
    return [part for part in parts if len(analyze(part)) >= 1] or [question]


def _answer_lines(citations: list[Citation]) -> str:
    return "\n>\n".join(f"> {escape_markdown(c.quote)} [{c.number}]" for c in citations)


def extractive_answer(
    retriever: Evidence, question: str, passages: list[Passage], language: str, asks: list[str] | None = None
) -> Answer:
    """Quote the sentences that answer the question, or abstain; ``asks`` are its separate parts, if any.

    When some asks find supported sentences and others none, the answer is partial and says which part the
    documents leave open.
    """
    phrases = PHRASES[language]
    profile = retriever.profile
    not_found = Answer(question, f"{phrases['not_found']} {phrases['closest']}", [], True, passages, language)
    if not passages:
        return replace(not_found, text=phrases["not_found"])
    best_dense = max(p.dense_score for p in passages)
    if best_dense < (profile.min_dense_en if language == "en" else profile.min_dense):
        return not_found  # nothing in the documents is even about the question
    weights = term_weights(retriever)
    chosen: list[Candidate] = []
    unanswered: list[str] = []
    min_known = profile.min_known_en if language == "en" else profile.min_known
    for ask_text in asks or [question]:
        needs = question_needs(ask_text)
        if weights.known_share(needs.terms) < min_known:
            picked = []  # the question's words are mostly unknown to the documents
        else:
            picked = _pick(candidates(retriever, ask_text, passages, needs), profile.support.bar, needs.open)
        if not picked:
            unanswered.append(ask_text)
        quoted = {c.text for c in chosen}
        chosen += [c for c in picked if c.text not in quoted]
    if not chosen:
        return not_found
    citations = _number_citations([(c.passage, c.text) for c in chosen])
    for candidate in chosen:  # a list's items may come from the chunk after a retrieved passage
        if all(candidate.passage.id != passage.id for passage in passages):
            passages = passages + [candidate.passage]
    text = phrases["intro"] + "\n\n" + _answer_lines(citations)
    if unanswered:
        text += "\n\n" + phrases["partial"].format(missing=", ".join(f"« {escape_markdown(a)} »" for a in unanswered))
    status = "partial" if unanswered else "answered"
    best = max(c.support for c in chosen)
    return Answer(question, text, citations, False, passages, language, status=status, support=best)


def _quote_for(passage: Passage, claim: str) -> str:
    """The sentence of ``passage`` that shares most terms with ``claim`` (verbatim)."""
    terms = set(analyze(claim))
    spans = split_sentences(passage.text) or [(0, len(passage.text))]
    best = max(spans, key=lambda span: len(terms & set(analyze(passage.text[span[0] : span[1]]))))
    return passage.text[best[0] : best[1]]


def claim_support(retriever: Evidence, claim: str, passage: Passage) -> float:
    """How much a passage resembles a generated claim: the claim's best cosine to one of the passage's sentences
    plus the idf-weighted share of its terms found in the passage (0 to 2). Likeness only: the check of a profile
    without a fitted claim model (``claim_checker``)."""
    found = retriever.sentences(passage)
    if found is None:
        return 0.0
    vector = retriever.embed_document(claim)
    stored = np.asarray(found[2], dtype=np.float32)
    cosine = float((stored @ vector).max()) if len(stored) else 0.0
    context = set(analyze(f"{passage.title} {passage.heading} {passage.text}"))
    return cosine + term_weights(retriever).coverage(analyze(claim), context)


def claim_checker(retriever: Evidence) -> Callable[[str, Passage], str | None]:
    """A test of whether a passage states a claim, giving the sentence that does (its quote) or None.

    With the profile's claim model (``assistant.answering.claims``), the passage must state it: likeness, and its
    numbers, months, names and negation agreeing with a sentence. Without one, likeness at ``min_claim``.
    """
    profile = retriever.profile
    if profile.claim is None:

        def alike(claim: str, passage: Passage) -> str | None:
            if claim_support(retriever, claim, passage) < profile.min_claim:
                return None
            return _quote_for(passage, claim)

        return alike

    def stated(claim: str, passage: Passage) -> str | None:
        checked = check_claim(retriever, claim, passage, profile.claim)
        return checked.quote if checked.quote and checked.support >= profile.claim.bar else None

    return stated


_CITED_END = re.compile(r"\[\d+\][.!?…]\s+(?=\S)")  # a marker, its full stop: the claim ends there


def _claims(text: str) -> list[str]:
    """The sentences of a generated text, each ending where a marker and its full stop do, whatever follows
    ("... lyrique [1]. ![](...)" is two claims, not one)."""
    claims = []
    for start, end in split_sentences(text):
        sentence, cut = text[start:end], 0
        for match in _CITED_END.finditer(sentence):
            claims.append(sentence[cut : match.end()].strip())
            cut = match.end()
        claims.append(sentence[cut:].strip())
    return [claim for claim in claims if claim]


def _tidy(text: str) -> str:
    """Spaces doubled, or left before a full stop or a comma, removed; the space French puts before ; : ! ? stays.

    >>> _tidy(_without_markers("Le barcamp s'est tenu à Paris [1] , le 17 novembre [4] ? Oui [2]."))
    "Le barcamp s'est tenu à Paris, le 17 novembre ? Oui."
    """
    return re.sub(r"\s+([.,])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


def _without_markers(text: str, keep: Callable[[int], bool] = lambda number: False) -> str:
    """The text without its markers but those of the numbers to ``keep``, each taken out with the space before it."""
    return _MARKER.sub(lambda m: m.group(0) if keep(int(m.group(1))) else "", text)


_MARKER_AFTER_STOP = re.compile(r"([.!?…])((?:\s*\[\d+\])+)")


def check_generated(
    text: str, passages: list[Passage], language: str, supported: Callable[[str, Passage], str | None] | None = None
) -> tuple[str, list[Citation], list[str]]:
    """Keep markers that point to a passage, drop the others, and flag sentences that cite nothing valid.

    With ``supported`` (``claim_checker``), a sentence is kept as supported only when one of the passages it cites
    states it: its marker then points to the sentence that does. A sentence none of its passages states loses its
    markers and is flagged where it stands; the warnings say so.
    """
    phrases = PHRASES[language]
    warnings: list[str] = []
    quotes: dict[int, list[str]] = {}
    out = []
    text = _MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)  # "novembre. [1]" cites the sentence
    for sentence in _claims(text):
        valid = []
        for match in _MARKER.finditer(sentence):
            number = int(match.group(1))
            if 1 <= number <= len(passages):
                valid.append(number)
            elif phrases["invalid_marker"].format(number=number) not in warnings:
                warnings.append(phrases["invalid_marker"].format(number=number))
        cleaned = _tidy(_without_markers(sentence, lambda number: 1 <= number <= len(passages)))
        claim = _tidy(_without_markers(cleaned))
        if not valid:
            if len(analyze(claim)) >= 3:
                warnings.append(f"« {claim[:80]} » : {phrases['unsupported']}")
                cleaned = f"{inert(cleaned)} *({phrases['unsupported']})*"
            else:
                cleaned = inert(cleaned)
            out.append(cleaned)
            continue
        if supported is None:
            backing = {number: _quote_for(passages[number - 1], claim) for number in valid}
        else:
            backing = {n: q for n in dict.fromkeys(valid) if (q := supported(claim, passages[n - 1])) is not None}
        if not backing:  # no cited passage states it: no marker points to a sentence that does not say it
            warnings.append(f"« {claim[:80]} » : {phrases['unsupported_cited']}")
            out.append(f"{inert(claim)} *({phrases['unsupported_cited']})*")
            continue
        kept = set(backing)
        cleaned = _tidy(_without_markers(cleaned, kept.__contains__))
        for number, quote in backing.items():
            if quote not in quotes.setdefault(number, []):
                quotes[number].append(quote)
        out.append(inert(cleaned))
    citations = [Citation(number, passages[number - 1], quote) for number in sorted(quotes) for quote in quotes[number]]
    return " ".join(out), citations, warnings


def _generated_answer(
    question: str, text: str, passages: list[Passage], language: str, retriever: Evidence, notice: str = ""
) -> Answer:
    """The checked answer of a language model's ``text``: "partial", with the reason first, when a sentence of it is
    not stated by its sources or the reply was cut (``notice``); "not_found" when nothing in it is backed."""
    checked, citations, warnings = check_generated(text, passages, language, claim_checker(retriever))
    flags = (PHRASES[language]["unsupported"], PHRASES[language]["unsupported_cited"])
    unsupported = any(flag in warning for warning in warnings for flag in flags)
    reasons = ([notice] if notice else []) + ([PHRASES[language]["unsupported_status"]] if unsupported else [])
    status = "not_found" if not citations else "partial" if reasons else "answered"
    if notice:
        checked = f"{checked}\n\n*{notice}*"
    return Answer(question, checked, citations, not citations, passages, language, "llm", reasons + warnings, status)


def _resolve_mode(mode: str | None, settings: Settings) -> str:
    mode = mode or ("llm" if settings.llm_url else "extractive")
    if mode not in ("extractive", "llm"):
        raise ValueError(f"mode must be 'extractive' or 'llm', got {mode!r}")
    if mode == "llm":
        if not settings.llm_url:
            raise ValueError("mode 'llm' needs a language-model endpoint: set ASSISTANT_LLM_URL")
        from assistant.answering.llm import check_url

        try:
            check_url(settings.llm_url)
        except LLMError as exc:
            raise ValueError(str(exc)) from None
    return mode


def answer_stream(
    question: str,
    k: int = 5,
    index_dir: str | Path | None = None,
    *,
    corpus_dir: str | Path | None = None,
    history: list | None = None,
    mode: str | None = None,
    settings: Settings | None = None,
    retriever: Retriever | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[Answer]:
    """Yield the answer as it grows; the last one yielded is complete, with checked citations. ``cancelled`` says
    when the asker has gone: a language model's reply is then dropped at its next piece (closing the connection)."""
    check_query(question, k, what="question")
    if history is not None and not isinstance(history, list):
        raise ValueError(f"history must be a list of messages, got {type(history).__name__}")
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir, corpus_dir=corpus_dir)
    mode = _resolve_mode(mode, settings)
    if (courteous := courtesy(question)) is not None:  # "Bonjour !", "Merci" ask the documents nothing
        language, said = courteous
        yield Answer(question, PHRASES[language][said], [], False, [], language, status="courtesy")
        return
    retriever = retriever or open_retriever(settings)
    asked = core_question(question)  # "Bonjour, pourriez-vous me dire qui ..." asks "Qui ..."
    previous, lean = leaning(asked, history)
    extractive = _reading(retriever, asked, "", k)
    if previous:  # both readings, alone and with the conversation: the evidence decides
        joined = _reading(retriever, asked, previous, k)
        extractive = _better(extractive, joined, lean)
    extractive = replace(extractive, question=question)
    if mode == "extractive" or extractive.abstained:
        yield extractive
        return
    passages, language = extractive.passages, extractive.language
    yield from _generate(question, passages, history, settings, language, extractive, retriever, cancelled)


def _reading(retriever: Retriever, asked: str, previous: str, k: int) -> Answer:
    """The extractive answer to ``asked``, read alone or, with ``previous``, after the question it may lean on: the
    question asked first (its asking words say what kind of answer it wants), the previous one after it (what it is
    about)."""
    query = f"{asked} {previous}" if previous else asked
    passages = retriever.search(query, k=k)
    # a question typed in lower case is read with the names written as the passages found write them
    if (named := restore_names(asked, [passage.text for passage in passages])) != asked:
        asked = named
        query = f"{asked} {previous}" if previous else asked
        passages = retriever.search(query, k=k)
    language = detect_language(asked)  # "québec" in lower case is a French word, "Québec" a name
    asks = None if previous else split_question(asked)  # read with its context, a follow-up is one ask
    answer = extractive_answer(retriever, query, passages, language, asks)
    if not previous:
        return answer
    said = {"question": escape_markdown(asked), "previous": escape_markdown(previous)}
    note = PHRASES[language]["understood_as"].format(**said)
    return replace(answer, understood_as=query, text=f"*{note}*\n\n{answer.text}")


def _better(alone: Answer, joined: Answer, lean: str) -> Answer:
    """The reading to answer with. A follow-up ("Et combien ... ?") is read with the conversation unless only
    alone do the documents answer it; a short question, by whichever reading the documents support better."""
    if alone.abstained != joined.abstained:
        return joined if alone.abstained else alone
    if alone.abstained:  # neither reading is answered: say so of the question as asked, unless it opens as a follow-up
        return joined if lean == "follow-up" else alone
    if lean == "follow-up":
        return joined
    return joined if joined.support > alone.support else alone


# Language-model answers at once, process-wide: they take seconds, and must not hold up extractive ones.
LLM_SLOTS = threading.BoundedSemaphore(2)
LLM_WAIT = 5.0  # seconds to wait for a slot before answering extractively


def _generate(
    question, passages, history, settings, language, fallback: Answer, retriever, cancelled=None
) -> Iterator[Answer]:

    if not LLM_SLOTS.acquire(timeout=LLM_WAIT):
        notice = PHRASES[language]["llm_busy"]
        yield replace(fallback, text=f"*{notice}*\n\n{fallback.text}", warnings=[notice])
        return
    try:
        yield from _stream(question, passages, history, settings, language, fallback, retriever, cancelled)
    finally:
        LLM_SLOTS.release()


def _stream(
    question, passages, history, settings, language, fallback: Answer, retriever, cancelled
) -> Iterator[Answer]:
    from assistant.answering.llm import build_messages, stream_chat

    text = ""
    messages = build_messages(question, passages, history)
    pieces = stream_chat(settings.llm_url, settings.llm_model, messages, settings.llm_api_key, settings.llm_timeout)
    try:
        for piece in pieces:
            if cancelled is not None and cancelled():
                log.info("the asker has gone: the language model's reply is dropped")
                yield fallback  # the last answer yielded is always a checked one
                return
            text += piece
            yield Answer(question, inert(text), [], False, passages, language, "llm")
    except LLMError as exc:
        log.warning("language model unavailable: %s", exc)
        if text.strip():  # what came before the cut is kept, checked like a whole answer, and said to be cut
            notice = PHRASES[language]["llm_cut"].format(error=exc)
            cut = _generated_answer(question, text, passages, language, retriever, notice)
            if cut.citations:
                yield cut
                return
        else:
            notice = PHRASES[language]["llm_down"].format(error=exc)
        yield replace(fallback, text=f"*{notice}*\n\n{fallback.text}", warnings=[notice])
        return
    finally:
        pieces.close()  # the connection to the model closes now, not when the generator is collected
    yield _generated_answer(question, text, passages, language, retriever)


def ask(question: str, k: int = 5, index_dir: str | Path | None = None, **options) -> Answer:
    """Answer ``question`` from the documents, every sentence backed by a numbered citation.

    >>> answer = ask("Combien de propositions le groupe de travail a-t-il formulées ?")   # doctest: +SKIP
    >>> answer.text, [c.quote for c in answer.citations], answer.abstained                # doctest: +SKIP
    """
    *_, answer = answer_stream(question, k, index_dir, **options)
    return answer
