"""French retrieval benchmark on PIAF's Service-Public.fr set (530 fiches, 105 questions with known answers).

    python benchmarks/piaf.py [--sweep]

Prints, side by side and in one run: plain BM25 (lower-cased words, no stemming: a search engine's default),
our French-aware BM25 alone, each model's dense side alone (MiniLM, a typical tutorial pipeline, and the default
multilingual-e5-small), and each model's hybrid with its own weights. Then retrieve() and ask() latency at this
size (about 5,000 chunks) for both models. With --sweep, also other fusion weights for the default model and
chunk vectors derived from sentence vectors instead of embedded (the alternative to storing both).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import replace

import numpy as np
from common import CACHE, ROOT, SHARED, machine, need, percentile, table

from assistant.answering.answers import ask
from assistant.api import build_index
from assistant.dense import PROBE_SHARE, dense_for, trained
from assistant.evaluation import normalize
from assistant.index import load_index
from assistant.keywords import KeywordIndex, fold_accents, plain_tokens
from assistant.profiles import MINILM
from assistant.retrieval import Retriever
from assistant.settings import Settings

DEPTH = 50


def load_questions():
    data = json.loads(need(SHARED / "bench" / "piaf-spf" / "spf_qr_test.json").read_text(encoding="utf-8"))["data"]
    corpus = CACHE / "piaf" / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    for fiche in data:
        text = "\n\n".join(p["context"] for p in fiche["paragraphs"])
        path = corpus / f"{fiche['title']}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        for paragraph in fiche["paragraphs"]:
            for qa in paragraph.get("qas", []):
                if qa.get("answers"):
                    questions.append((qa["question"], f"{fiche['title']}.txt", qa["answers"][0]["text"]))
    return corpus, questions


def score(rankings, questions):
    """rankings: for each question, its passages best first (source, text)."""
    hits = {1: 0, 5: 0, 10: 0}
    mrr = span1 = span5 = 0.0
    for passages, (_, source, answer) in zip(rankings, questions):
        fiches = list(dict.fromkeys(s for s, _ in passages))
        if source in fiches:
            rank = fiches.index(source) + 1
            mrr += 1 / rank
            for n in hits:
                hits[n] += rank <= n
        wanted = normalize(answer)
        span1 += any(wanted in normalize(t) for _, t in passages[:1])
        span5 += any(wanted in normalize(t) for _, t in passages[:5])
    n = len(questions)
    return [hits[1] / n, hits[5] / n, hits[10] / n, mrr / n, span1 / n, span5 / n]


def plain_bm25(index, questions):
    keyword = KeywordIndex.build([plain_tokens(c.text) for c in index.chunks])
    out = []
    for question, _, _ in questions:
        scores = keyword.scores(plain_tokens(question))
        top = np.argsort(-scores)[:DEPTH]
        out.append([(index.chunks[i].source, index.chunks[i].text) for i in top])
    return out


def ours(retriever, questions, weight, document_weight=0.0):
    return [
        [
            (p.source, p.text)
            for p in retriever.search(q, k=DEPTH, keyword_weight=weight, document_weight=document_weight)
        ]
        for q, _, _ in questions
    ]


def cold_latency(retriever, settings, questions) -> list[float]:
    """retrieve() and ask() p50 / p95 in ms, each question's vector computed afresh (no query cache)."""
    retriever.search("échauffement", k=5)
    retrieve_ms, ask_ms = [], []
    for question, _, _ in questions:
        retriever.embedder.forget_queries()
        started = time.perf_counter()
        retriever.search(question, k=5)
        retrieve_ms.append(1000 * (time.perf_counter() - started))
        retriever.embedder.forget_queries()
        started = time.perf_counter()
        ask(question, settings=settings, retriever=retriever, mode="extractive")
        ask_ms.append(1000 * (time.perf_counter() - started))
    r50, a50 = statistics.median(retrieve_ms), statistics.median(ask_ms)
    return [r50, percentile(retrieve_ms, 0.95), a50, percentile(ask_ms, 0.95), f"{a50 / r50:.2f}x"]


def answered(retriever, settings, questions) -> list:
    """ask() on every question (all answerable): the share that abstains, that quotes the answer span, that cites
    the right fiche."""
    abstained = span = right = 0
    for question, source, answer in questions:
        reply = ask(question, settings=settings, retriever=retriever, mode="extractive")
        abstained += reply.abstained
        span += normalize(answer) in normalize(reply.text)
        right += any(c.passage.source == source for c in reply.citations)
    return [abstained / len(questions), span / len(questions), right / len(questions)]


def build(corpus, model: str | None):
    name = (model or "default").replace("/", "_")
    settings = Settings.from_env(corpus_dir=corpus, index_dir=CACHE / "piaf" / f"index-{name}", embedding_model=model)
    report = build_index(settings=settings)
    index = load_index(settings.index_dir)
    return settings, report, index, Retriever(index, settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweep", action="store_true", help="also sweep the fusion weights of the default model")
    parser.add_argument("--answers", action="store_true", help="only the answers table")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    corpus, questions = load_questions()
    started = time.perf_counter()
    e5_settings, e5_report, index, e5 = build(corpus, None)
    mini_settings, mini_report, mini_index, minilm = build(corpus, MINILM)
    print(
        f"Machine: {machine()}. {len(questions)} questions, {len(index.manifest['sources'])} fiches,"
        f" {len(index.chunks)} chunks, {len(index.sentences)} sentences.\n"
    )
    print("## Answers: ask() on the 105 questions\n")
    # the same questions as many type them: without accents ("Ou declarer un enfant ne a l'etranger ?")
    unaccented = [(fold_accents(question), source, answer) for question, source, answer in questions]
    answers = [
        ["multilingual-e5-small (default)", *answered(e5, e5_settings, questions)],
        ["all-MiniLM-L6-v2", *answered(minilm, mini_settings, questions)],
        ["multilingual-e5-small, questions typed without accents", *answered(e5, e5_settings, unaccented)],
        ["all-MiniLM-L6-v2, questions typed without accents", *answered(minilm, mini_settings, unaccented)],
    ]
    print(table(["model", "abstained", "answer span quoted", "cites the right fiche"], answers))
    if args.answers:
        return
    print()
    kw, dw = e5.profile.keyword_weight, e5.profile.document_weight
    mkw, mdw = minilm.profile.keyword_weight, minilm.profile.document_weight
    rows = [
        ["plain BM25 (no stemming)", *score(plain_bm25(index, questions), questions)],
        ["French-aware BM25 alone", *score(ours(e5, questions, 1.0), questions)],
        ["dense MiniLM alone", *score(ours(minilm, questions, 0.0), questions)],
        ["dense multilingual-e5-small alone", *score(ours(e5, questions, 0.0), questions)],
        [f"hybrid MiniLM ({mkw} keyword, document prior {mdw})", *score(ours(minilm, questions, mkw, mdw), questions)],
        [
            f"**hybrid e5, the default ({kw} keyword, document prior {dw})**",
            *score(ours(e5, questions, kw, dw), questions),
        ],
        ["French-aware BM25 alone, questions typed without accents", *score(ours(e5, unaccented, 1.0), questions)],
        ["hybrid e5, the default, questions typed without accents", *score(ours(e5, unaccented, kw, dw), questions)],
    ]
    # What the approximate dense index (used past ASSISTANT_APPROXIMATE_ABOVE chunks) costs in quality, here.
    approximate = trained(np.asarray(index.vectors, dtype=np.float32))
    approximate_e5 = Retriever(replace(index, dense=approximate), e5_settings, e5.embedder)
    rows += [
        [
            f"dense e5 alone, inverted file ({approximate.index.nlist} lists, 1 in {PROBE_SHARE} searched)",
            *score(ours(approximate_e5, questions, 0.0), questions),
        ],
        [
            f"hybrid e5, the default, inverted file ({approximate.index.nlist} lists, 1 in {PROBE_SHARE} searched)",
            *score(ours(approximate_e5, questions, kw, dw), questions),
        ],
    ]
    if args.sweep:
        for weight, prior in ((0.0, 0.2), (0.05, 0.2), (0.2, 0.2), (0.3, 0.2), (0.1, 0.1), (0.1, 0.3), (0.2, 0.3)):
            rows.append(
                [f"variant e5: keyword {weight}, prior {prior}", *score(ours(e5, questions, weight, prior), questions)]
            )
        derived = np.stack(
            [
                np.asarray(index.sentence_vectors[r.start : r.stop], np.float32).mean(0)
                for r in map(index.sentence_rows, range(len(index.chunks)))
            ]
        )
        derived /= np.linalg.norm(derived, axis=1, keepdims=True)
        mean_index = replace(
            index,
            vectors=derived,
            dense=dense_for(derived, e5_settings.approximate_above),
        )
        mean = Retriever(mean_index, e5_settings, e5.embedder)
        rows.append(
            [
                "variant e5: chunk vector = mean of its sentence vectors",
                *score(ours(mean, questions, kw, dw), questions),
            ]
        )
    print(table(["method", "fiche hit@1", "hit@5", "hit@10", "MRR", "span in passage@1", "span@5"], rows))
    print("\n## Latency at this size (no query cache; ask() includes retrieve())\n")
    latency = [
        ["multilingual-e5-small (default)", len(index.chunks), *cold_latency(e5, e5_settings, questions)],
        ["all-MiniLM-L6-v2", len(mini_index.chunks), *cold_latency(minilm, mini_settings, questions)],
    ]
    print(table(["model", "chunks", "retrieve p50 ms", "p95", "ask p50 ms", "p95", "ask / retrieve"], latency))
    print(
        f"\nBuild (when not cached): e5 {e5_report.seconds:.0f} s, MiniLM {mini_report.seconds:.0f} s."
        f" (total {time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
