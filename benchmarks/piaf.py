"""French retrieval benchmark on PIAF's Service-Public.fr set (530 fiches, 105 questions with known answers).

    python benchmarks/piaf.py [--int8]

Prints, side by side and in one run: plain BM25 (lower-cased words, no stemming: a search engine's default),
dense MiniLM alone (a typical tutorial pipeline), our French-aware BM25 alone, and our hybrid. With --int8,
also the hybrid with the embedding model's linear layers quantized to int8 (speed and quality).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace

import numpy as np
from common import CACHE, ROOT, SHARED, Timer, machine, need, table

from assistant.api import build_index
from assistant.evaluation import normalize
from assistant.index import load_index, make_dense_index
from assistant.keywords import KeywordIndex, plain_tokens
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


def quantized_run(index, retriever, questions, rows, settings):
    """The same index re-embedded with the int8 model: encoding speed, drift from fp32, and retrieval quality."""
    from assistant.embeddings import Embedder

    texts = [c.indexed_text() for c in index.chunks]
    int8 = Embedder(retriever.embedder.model_name, "", "", settings.batch_size, quantize="int8")
    sample = texts[:400]
    retriever.embedder.embed_documents(sample[:16])
    int8.embed_documents(sample[:16])
    with Timer() as fp32_time:
        reference = retriever.embedder.embed_documents(sample)
    with Timer() as int8_time:
        moved = int8.embed_documents(sample)
    cosine = float(np.mean(np.sum(reference * moved, axis=1)))
    vectors = int8.embed_documents(texts)
    int8_index = replace(index, vectors=vectors, dense=make_dense_index(vectors, settings.approximate_above))
    int8_index.manifest = {**index.manifest, "quantization": "int8"}
    int8_retriever = Retriever(int8_index, settings, int8)
    rows.append(["dense MiniLM int8 alone", *score(ours(int8_retriever, questions, 0.0), questions)])
    run = ours(int8_retriever, questions, settings.keyword_weight, settings.document_weight)
    rows.append(["ours (defaults) with the int8 model", *score(run, questions)])
    return fp32_time.seconds / int8_time.seconds, cosine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--int8", action="store_true", help="also measure the int8-quantized model")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    corpus, questions = load_questions()
    settings = Settings(corpus_dir=corpus, index_dir=CACHE / "piaf" / "index")
    started = time.perf_counter()
    report = build_index(settings=settings)
    index = load_index(settings.index_dir)
    retriever = Retriever(index, settings)
    print(
        f"Machine: {machine()}. {len(questions)} questions, {len(index.manifest['sources'])} fiches,"
        f" {len(index.chunks)} chunks (build {report.seconds:.0f} s, {report.embedded} embedded).\n"
    )
    kw, dw = settings.keyword_weight, settings.document_weight
    rows = [
        ["plain BM25 (no stemming)", *score(plain_bm25(index, questions), questions)],
        ["dense MiniLM alone", *score(ours(retriever, questions, 0.0), questions)],
        ["French-aware BM25 alone", *score(ours(retriever, questions, 1.0), questions)],
        [
            f"hybrid ({kw} keyword / {1 - kw:.1f} dense), no document prior",
            *score(ours(retriever, questions, kw), questions),
        ],
        [f"**ours: hybrid + document prior {dw} (defaults)**", *score(ours(retriever, questions, kw, dw), questions)],
    ]
    for weight in (0.5, 0.7, 0.8):
        rows.append([f"variant: keyword weight {weight}", *score(ours(retriever, questions, weight, dw), questions)])
    for document_weight in (0.1, 0.3, 0.5):
        run = ours(retriever, questions, kw, document_weight)
        rows.append([f"variant: document prior {document_weight}", *score(run, questions)])
    note = ""
    if args.int8:
        speed, cosine = quantized_run(index, retriever, questions, rows, settings)
        note = f"\nint8 dynamic quantization: {speed:.2f}x the fp32 encoding speed, mean cosine to fp32 {cosine:.3f}."
    print(table(["method", "fiche hit@1", "hit@5", "hit@10", "MRR", "span in passage@1", "span@5"], rows))
    print(note)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
