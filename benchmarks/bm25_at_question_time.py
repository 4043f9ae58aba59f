"""BM25 scored at question time from raw term counts, against bm25s's scores computed when the index is built.

    python benchmarks/change_at_scale.py --chunks 100000    # once: the corpus and index this reads
    python benchmarks/bm25_at_question_time.py [--copies 7]

A design question for sharing the keyword index between generations, as vectors are shared: postings of raw counts
that a one-file build would not rewrite (each segment's are never changed), scored at question time with the index's
idf and mean length, instead of BM25 values that depend on every chunk and are written again by each build. The
chunks' counted terms of the change-at-scale index are repeated ``--copies`` times (about a million chunks at 7),
then scored both ways for the same questions: latency, memory of the arrays, and the largest difference of scores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
from common import CACHE, ROOT, machine, need, table

sys.path.insert(0, str(ROOT))

from assistant.keywords import KeywordIndex, Terms, analyze, lucene_idf, lucene_norm  # noqa: E402

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


class CountPostings:
    """Raw counts by term in ``segments`` runs of entries (a CSC matrix each), scored at question time."""

    def __init__(self, terms: Terms, segments: int, k1: float = 1.2, b: float = 0.75) -> None:
        import scipy.sparse as sp

        count = len(terms.starts) - 1
        lengths = np.maximum(terms.lengths(), 1)
        self.count, self.norm = count, lucene_norm(lengths, lengths.mean(), k1, b).astype(np.float32)
        self.vocabulary = {term: i for i, term in enumerate(terms.vocabulary)}
        self.segments = []
        bounds = np.linspace(0, count, segments + 1).astype(np.int64)
        for first, end in zip(bounds[:-1], bounds[1:]):
            begin, stop = terms.starts[first], terms.starts[end]
            matrix = sp.csr_matrix(
                (
                    np.asarray(terms.counts[begin:stop], np.uint16),
                    terms.ids[begin:stop],
                    terms.starts[first : end + 1] - begin,
                ),
                shape=(end - first, len(self.vocabulary)),
            ).tocsc()
            self.segments.append(
                (int(first), matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data)
            )

    def nbytes(self) -> int:
        return sum(p.nbytes + i.nbytes + d.nbytes for _, p, i, d in self.segments)

    def scores(self, tokens: list[str]) -> np.ndarray:
        scores = np.zeros(self.count, np.float32)
        for token in tokens:
            column = self.vocabulary.get(token)
            if column is None:
                continue
            found = [
                (first + rows[p[column] : p[column + 1]], tf[p[column] : p[column + 1]])
                for first, p, rows, tf in self.segments
            ]
            idf = float(lucene_idf(self.count, sum(len(rows) for rows, _ in found)))
            for rows, tf in found:
                tf = tf.astype(np.float32)
                scores[rows] += idf * tf / (self.norm[rows] + tf)
        return scores


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
    parser.add_argument("--copies", type=int, default=7)
    args = parser.parse_args()
    index = need(CACHE / "change-at-scale" / "index")
    generation = index / (index / "CURRENT").read_text(encoding="utf-8").strip()
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    stored = Terms.load(generation / "terms", manifest["chunk_count"])
    lengths = np.diff(stored.starts)
    terms = Terms(
        stored.vocabulary,
        np.tile(np.asarray(stored.ids), args.copies),
        np.tile(np.asarray(stored.counts), args.copies),
        np.concatenate([[0], np.cumsum(np.tile(lengths, args.copies))]).astype(np.int64),
    )
    queries = [analyze(question) for question in QUESTIONS]
    start = time.perf_counter()
    built = KeywordIndex.from_terms(terms)
    building = time.perf_counter() - start
    arrays = built._retriever.scores
    rows = [
        [
            "bm25s, computed when built",
            *latency(built.scores, queries),
            sum(np.asarray(arrays[k]).nbytes for k in ("data", "indices", "indptr")) / 1e6,
            "-",
            building,
        ]
    ]
    for segments in (1, 8):
        start = time.perf_counter()
        postings = CountPostings(terms, segments)
        making = time.perf_counter() - start
        difference = max(float(np.abs(postings.scores(q) - built.scores(q)).max()) for q in queries)
        rows.append(
            [
                f"raw counts, {segments} segment(s), scored when asked",
                *latency(postings.scores, queries),
                postings.nbytes() / 1e6,
                f"{difference:.1e}",
                making,
            ]
        )
    print(f"Machine: {machine()}\n")
    print(
        f"{len(terms.starts) - 1:,} chunks, {len(terms.ids):,} (chunk, term) pairs, {len(terms.vocabulary):,} terms\n"
    )
    print(table(["keyword index", "p50 ms", "max ms", "arrays MB", "largest score difference", "made in (s)"], rows))


if __name__ == "__main__":
    main()
