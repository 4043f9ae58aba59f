"""Answers with citations: extractive by default (verbatim quotes), generative with a language model if configured.

>>> escape_markdown("<img src=x onerror=alert(1)> **gras** [lien](http://x)")
'&lt;img src=x onerror=alert(1)&gt; \\\\*\\\\*gras\\\\*\\\\* \\\\[lien\\\\](http://x)'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.api import open_retriever
from assistant.chunking import split_sentences
from assistant.errors import LLMError
from assistant.history import user_questions
from assistant.keywords import analyze
from assistant.language import PHRASES, detect_language
from assistant.records import Answer, Citation, Passage
from assistant.retrieval import Retriever, check_query
from assistant.settings import Settings

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 600
MAX_QUOTES = 3
# Quotes come from the best passages only: same gold-set quality as all five, about 18% faster ask().
QUOTE_PASSAGES = 3
# Abstention thresholds, calibrated on the gold set (docs/benchmarks.md). French questions: the idf-weighted
# share of their terms found in the best passage plus its cosine. English questions on French documents share
# few terms with them, so only the cosine counts.
MIN_EVIDENCE_FR = 0.76
MIN_DENSE_EN = 0.37

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#+!|~])")
_MARKER = re.compile(r"\[(\d+)\]")
_FOLLOW_UP_START = re.compile(r"^(et|mais|puis|aussi|alors|and|but|also|what about|et si)\b", re.I)
_ANAPHORA = re.compile(
    r"\b(il|elle|ils|elles|lui|leur|leurs|celui|celle|ceux|celles|ce dernier|cette dernière|y|en|"
    r"it|they|them|their|its|this one|that one)\b",
    re.I,
)


def escape_markdown(text: str) -> str:
    """Document text made inert inside Markdown: HTML escaped, Markdown punctuation backslashed."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def contextualize(question: str, history: list | None) -> str:
    """The query to retrieve with: a follow-up question ("Et combien de membres ?") borrows the previous one."""
    previous = user_questions(history)
    if not previous:
        return question
    terms = analyze(question)
    if _FOLLOW_UP_START.search(question.strip()) or (_ANAPHORA.search(question) and len(terms) <= 4) or len(terms) <= 2:
        return f"{previous[-1]} {question}"
    return question


@dataclass(frozen=True)
class _Sentence:
    passage: int
    text: str
    score: float


class _TermWeights:
    """Inverse document frequencies of index terms, for idf-weighted query coverage."""

    def __init__(self, retriever: Retriever) -> None:
        keyword = retriever.index.keyword
        self.total = max(1, keyword.size)
        self.df = keyword.document_frequencies()

    def idf(self, term: str) -> float:
        return float(np.log(1 + (self.total - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5)))

    def coverage(self, query_terms: list[str], text_terms: set[str]) -> float:
        weights = {t: self.idf(t) for t in set(query_terms)}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in text_terms) / total if total else 0.0


_weights_cache: dict[tuple, _TermWeights] = {}


def _weights(retriever: Retriever) -> _TermWeights:
    key = (str(retriever.index.directory), retriever.index.generation)
    if key not in _weights_cache:
        _weights_cache.clear()
        _weights_cache[key] = _TermWeights(retriever)
    return _weights_cache[key]


def relevance(retriever: Retriever, question: str, passages: list[Passage]) -> tuple[float, float]:
    """(best idf-weighted share of the question's terms found in one passage, best cosine): the abstention signal."""
    if not passages:
        return 0.0, 0.0
    weights = _weights(retriever)
    terms = analyze(question)
    coverage = max(weights.coverage(terms, set(analyze(f"{p.title} {p.heading} {p.text}"))) for p in passages)
    return coverage, max(p.dense_score for p in passages)


def select_sentences(retriever: Retriever, question: str, passages: list[Passage]) -> list[_Sentence]:
    """The sentences of the passages that best answer the question, best first."""
    candidates: list[tuple[int, str]] = []
    seen: set[str] = set()
    for number, passage in enumerate(passages):
        labels = {" ".join(passage.title.split()), " ".join(passage.heading.split())}
        for start, end in split_sentences(passage.text):
            sentence = passage.text[start:end]
            folded = " ".join(sentence.split())
            if folded in seen or folded in labels:
                continue  # overlap between chunks repeats sentences; titles are no answers
            seen.add(folded)
            if 20 <= len(sentence) <= MAX_ANSWER_CHARS and len(sentence.split()) >= 4:
                candidates.append((number, sentence))
    if not candidates:
        return []
    weights = _weights(retriever)
    terms = analyze(question)
    query_vector = retriever.embedder.embed_query(question)
    vectors = retriever.embedder.embed_documents([text for _, text in candidates])
    dense = vectors @ query_vector
    best_passage = max(p.score for p in passages) or 1.0
    scored = []
    for (number, text), similarity in zip(candidates, dense):
        coverage = weights.coverage(terms, set(analyze(text)))
        prior = passages[number].score / best_passage
        scored.append(_Sentence(number, text, 0.35 * float(similarity) + 0.35 * coverage + 0.3 * prior))
    return sorted(scored, key=lambda s: -s.score)


def _pick(sentences: list[_Sentence]) -> list[_Sentence]:
    chosen: list[_Sentence] = []
    length = 0
    for sentence in sentences:
        if len(chosen) == MAX_QUOTES or sentence.score < 0.8 * sentences[0].score:
            break
        if chosen and length + len(sentence.text) > MAX_ANSWER_CHARS:
            continue
        chosen.append(sentence)
        length += len(sentence.text)
    return chosen


def _number_citations(chosen: list[tuple[Passage, str]]) -> list[Citation]:
    """Citations numbered by first use; the same passage keeps one number."""
    numbers: dict[str, int] = {}
    citations = []
    for passage, quote in chosen:
        number = numbers.setdefault(passage.id, len(numbers) + 1)
        citations.append(Citation(number, passage, quote))
    return citations


def extractive_answer(retriever: Retriever, question: str, passages: list[Passage], language: str) -> Answer:
    phrases = PHRASES[language]
    coverage, dense = relevance(retriever, question, passages)
    weak = dense < MIN_DENSE_EN if language == "en" else coverage + dense < MIN_EVIDENCE_FR
    if not passages or weak:
        text = f"{phrases['not_found']} {phrases['closest'] if passages else ''}".strip()
        return Answer(question, text, [], True, passages, language)
    chosen = _pick(select_sentences(retriever, question, passages[:QUOTE_PASSAGES]))
    if not chosen:
        return Answer(question, f"{phrases['not_found']} {phrases['closest']}", [], True, passages, language)
    citations = _number_citations([(passages[s.passage], s.text) for s in chosen])
    lines = [f"> {escape_markdown(c.quote)} [{c.number}]" for c in citations]
    text = phrases["intro"] + "\n\n" + "\n>\n".join(lines)
    return Answer(question, text, citations, False, passages, language)


def _quote_for(passage: Passage, claim: str) -> str:
    """The sentence of ``passage`` that shares most terms with ``claim`` (verbatim)."""
    terms = set(analyze(claim))
    spans = split_sentences(passage.text) or [(0, len(passage.text))]
    best = max(spans, key=lambda span: len(terms & set(analyze(passage.text[span[0] : span[1]]))))
    return passage.text[best[0] : best[1]]


def check_generated(text: str, passages: list[Passage], language: str) -> tuple[str, list[Citation], list[str]]:
    """Keep markers that point to a passage, drop the others, and flag sentences that cite nothing valid."""
    phrases = PHRASES[language]
    warnings: list[str] = []
    claims: dict[int, list[str]] = {}
    out = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        valid = []
        for match in _MARKER.finditer(sentence):
            number = int(match.group(1))
            if 1 <= number <= len(passages):
                valid.append(number)
            elif phrases["invalid_marker"].format(number=number) not in warnings:
                warnings.append(phrases["invalid_marker"].format(number=number))
        cleaned = _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(passages) else "", sentence)
        cleaned = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
        claim = _MARKER.sub("", cleaned)
        for number in valid:
            claims.setdefault(number, []).append(claim)
        if not valid and len(analyze(claim)) >= 3:
            warnings.append(f"« {claim[:80]} » : {phrases['unsupported']}")
            cleaned += f" *({phrases['unsupported']})*"
        out.append(cleaned)
    citations = [
        Citation(number, passages[number - 1], _quote_for(passages[number - 1], " ".join(claims[number])))
        for number in sorted(claims)
    ]
    return " ".join(out), citations, warnings


def _resolve_mode(mode: str | None, settings: Settings) -> str:
    mode = mode or ("llm" if settings.llm_url else "extractive")
    if mode not in ("extractive", "llm"):
        raise ValueError(f"mode must be 'extractive' or 'llm', got {mode!r}")
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
) -> Iterator[Answer]:
    """Yield the answer as it grows; the last one yielded is complete, with checked citations."""
    check_query(question, k, what="question")
    settings = (settings or Settings.from_env()).with_(index_dir=index_dir, corpus_dir=corpus_dir)
    mode = _resolve_mode(mode, settings)
    retriever = retriever or open_retriever(settings)
    language = detect_language(question)
    query = contextualize(question, history)
    passages = retriever.search(query, k=k)
    extractive = extractive_answer(retriever, query, passages, language)
    extractive = replace(extractive, question=question)
    if mode == "extractive" or extractive.abstained:
        yield extractive
        return
    yield from _generate(question, passages, history, settings, language, extractive)


def _generate(question, passages, history, settings, language, fallback: Answer) -> Iterator[Answer]:
    from assistant.llm import build_messages, stream_chat

    text = ""
    try:
        for piece in stream_chat(
            settings.llm_url,
            settings.llm_model,
            build_messages(question, passages, history),
            settings.llm_api_key,
            settings.llm_timeout,
        ):
            text += piece
            yield Answer(question, text, [], False, passages, language, "llm")
    except LLMError as exc:
        log.warning("language model unavailable: %s", exc)
        notice = PHRASES[language]["llm_down"].format(error=exc)
        yield replace(fallback, text=f"*{notice}*\n\n{fallback.text}", warnings=[notice])
        return
    checked, citations, warnings = check_generated(text, passages, language)
    yield Answer(question, checked, citations, not citations, passages, language, "llm", warnings)


def ask(question: str, k: int = 5, index_dir: str | Path | None = None, **options) -> Answer:
    """Answer ``question`` from the documents, every sentence backed by a numbered citation.

    >>> answer = ask("Combien de propositions le groupe de travail a-t-il formulées ?")   # doctest: +SKIP
    >>> answer.text, [c.quote for c in answer.citations], answer.abstained                # doctest: +SKIP
    """
    *_, answer = answer_stream(question, k, index_dir, **options)
    return answer
