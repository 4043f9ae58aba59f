"""BM25 as the index scores it (from stored term counts, when a question is asked), against bm25s's scores
computed when an index is built, on the same chunks.

    python benchmarks/change_at_scale.py --chunks 100000    # once: the corpus and index this reads
    python benchmarks/bm25_at_question_time.py [--chunks N]

The index's chunk terms live in segments that generations share (assistant/postings.py): a one-file build writes its
file's share, and idf and mean length are computed when the index is loaded. This loads the change-at-scale index
(its first ``--chunks`` chunks only, if given, as a generation of those), times the statistics made at load and the
scoring of 8 questions, builds bm25s's index of the same terms (its public API), and prints both, with the largest
difference of scores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from common import CACHE, ROOT, machine, need, table

sys.path.insert(0, str(ROOT))

from assistant.index import load_index  # noqa: E402
from assistant.keywords import KeywordIndex, analyze  # noqa: E402
from assistant.postings import Keywords, TermRows  # noqa: E402

QUESTIONS = [
    "Quelles sont les actions de la fiche sur l'innovation publique ?",
    "Comment recruter un développeur dans une startup d'État ?",
    "Quel est le budget de la phase d'investigation ?",
    "Qui finance les produits numériques de l'administration ?",
    "Combien de temps dure la phase d'accélération ?",
    "Comment mesurer l'impact d'un service public numérique ?",
    "Quelle est la politique de confidentialité des données personnelles ?",
    "Comment organiser un comité d'investissement ?",
]


def latency(score, queries) -> tuple[float, float]:
    for query in queries:  # warm
        score(query)
    times = []
    for _ in range(5):
        for query in queries:
            start = time.perf_counter()
            score(query)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, max(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=0, help="only the first N chunks (0: all)")
    args = parser.parse_args()
    loaded = load_index(need(CACHE / "change-at-scale" / "index"), searchable=False)
    terms = loaded.keyword.terms
    if args.chunks:
        terms = TermRows(terms.segments, terms.files, terms.rows[: args.chunks], terms.vocabulary)
    queries = [analyze(question) for question in QUESTIONS]
    start = time.perf_counter()
    ours = Keywords(terms)
    ours.prepare()
    preparing = time.perf_counter() - start
    stored = sum(part.rows.nbytes + part.frequencies.nbytes + part.columns.nbytes for part in terms.segments)
    starts, ids, counts = terms.gather(np.arange(len(terms)))
    vocabulary = np.asarray(terms.vocabulary, dtype=object)
    lists = [
        list(np.repeat(vocabulary[ids[begin:end]], counts[begin:end]))
        for begin, end in zip(starts[:-1].tolist(), starts[1:].tolist())
    ]
    del starts, ids, counts
    start = time.perf_counter()
    built = KeywordIndex.build(lists)
    building = time.perf_counter() - start
    del lists
    arrays = built._retriever.scores
    difference = max(float(np.abs(ours.scores(q) - built.scores(q)).max()) for q in queries)
    rows = [
        [
            "bm25s, scores computed when built",
            *latency(built.scores, queries),
            sum(np.asarray(arrays[k]).nbytes for k in ("data", "indices", "indptr")) / 1e6,
            "-",
            f"{building:.1f} (built)",
        ],
        [
            "the index: raw counts in segments, scored when asked",
            *latency(ours.scores, queries),
            stored / 1e6,
            f"{difference:.1e}",
            f"{preparing:.2f} (statistics at load)",
        ],
    ]
    print(f"Machine: {machine()}\n")
    print(f"{len(terms):,} chunks, {len(terms.vocabulary):,} terms, {len(terms.segments)} segment(s)\n")
    print(table(["keyword index", "p50 ms", "max ms", "term-major arrays MB", "largest score difference", "s"], rows))


if __name__ == "__main__":
    main()
