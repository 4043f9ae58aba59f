"""Scale: FAISS search latency, recall and memory at 10k, 100k and 1M chunks, and BM25 at the same sizes.

    python benchmarks/scale.py [--sizes 10000 100000 1000000] [--plot docs/latency.png]

Vectors are synthetic: unit vectors around 2,000 cluster centres (real embeddings are clustered; uniform random
vectors would make every approximate index look worse than it is). Queries are perturbed corpus vectors.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time

import numpy as np
from common import ROOT, Timer, machine, percentile, table

DIMENSION = 384
QUERIES = 200
SHARES = (16, 8, 4)  # one list in SHARE searched


def faiss_mb(index) -> float:
    import faiss

    return faiss.serialize_index(index).nbytes / 1e6


def bm25_mb(index) -> float:
    scores = index._retriever.scores
    return sum(np.asarray(scores[key]).nbytes for key in ("data", "indices", "indptr")) / 1e6


def clustered(n: int, rng) -> np.ndarray:
    centres = rng.standard_normal((2000, DIMENSION)).astype(np.float32)
    vectors = centres[rng.integers(0, 2000, n)] + 0.6 * rng.standard_normal((n, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


class Reranked:
    """The app's dense search (codes, then the exact vectors), with FAISS's search signature."""

    def __init__(self, dense) -> None:
        self.dense = dense

    def search(self, queries, k):
        return None, self.dense.search(queries[0], k)[None, :]


def search_times(index, queries, k=10):
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, rows = index.search(query[None, :], k)
        times.append(1000 * (time.perf_counter() - started))
        found.append(rows[0])
    return times, np.array(found)


def dense(sizes, rng):
    from assistant.dense import exact as exact_index
    from assistant.dense import trained

    rows = []
    for n in sizes:
        vectors = clustered(n, rng)
        queries = vectors[rng.integers(0, n, QUERIES)] + 0.05 * rng.standard_normal((QUERIES, DIMENSION)).astype(
            np.float32
        )
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        with Timer() as build:
            exact = exact_index(vectors).index
        exact_mb = faiss_mb(exact)
        exact_ms, truth = search_times(exact, queries)
        rows.append(
            [
                f"{n:,}",
                "exact (IndexFlatIP)",
                build.seconds,
                statistics.median(exact_ms),
                percentile(exact_ms, 0.95),
                1.0,
                exact_mb,
            ]
        )
        del exact
        with Timer() as build:
            approximate = trained(vectors)
        ivf_mb = faiss_mb(approximate.index)
        for share in SHARES:
            approximate.index.nprobe = probes = approximate.index.nlist // share
            ivf_ms, found = search_times(Reranked(approximate), queries)
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])
            rows.append(
                [
                    f"{n:,}",
                    f"IVF-SQ8 + re-rank ({approximate.index.nlist} lists, nprobe={probes}, 1/{share})",
                    build.seconds,
                    statistics.median(ivf_ms),
                    percentile(ivf_ms, 0.95),
                    float(recall),
                    ivf_mb,
                ]
            )
        del approximate, vectors
    return rows


def keyword(sizes, rng):
    from assistant.keywords import KeywordIndex

    vocabulary = np.array([f"t{i}" for i in range(60_000)])
    weights = 1 / np.arange(1, 60_001) ** 1.05
    weights /= weights.sum()
    rows = []
    for n in sizes:
        tokens = rng.choice(len(vocabulary), size=(n, 60), p=weights)
        documents = [list(vocabulary[row]) for row in tokens]
        with Timer() as build:
            index = KeywordIndex.build(documents)
        memory = bm25_mb(index)
        del documents
        times = []
        for _ in range(QUERIES // 4):
            query = list(vocabulary[rng.choice(len(vocabulary), size=6, p=weights)])
            started = time.perf_counter()
            index.scores(query)
            times.append(1000 * (time.perf_counter() - started))
        rows.append([f"{n:,}", build.seconds, statistics.median(times), percentile(times, 0.95), memory])
        del index
    return rows


def plot(dense_rows, keyword_rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for label in ("exact", *(f"1/{share})" for share in SHARES)):
        points = [
            (int(r[0].replace(",", "")), r[3]) for r in dense_rows if r[1].startswith(label) or r[1].endswith(label)
        ]
        name = "exact" if label == "exact" else f"inverted file, {label[:-1]} of lists"
        axis.plot(*zip(*points), marker="o", label=f"FAISS {name}")
    points = [(int(r[0].replace(",", "")), r[2]) for r in keyword_rows]
    axis.plot(*zip(*points), marker="s", label="BM25 (bm25s)")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("chunks")
    axis.set_ylabel("search latency p50 (ms)")
    axis.set_title("Search latency against corpus size (2 CPU cores)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--plot", default=None, help="write a PNG of latency against size")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(7)
    print(f"Machine: {machine()}\n")
    dense_rows = dense(args.sizes, rng)
    print(table(["chunks", "index", "build s", "search p50 ms", "p95 ms", "recall@10", "memory MB"], dense_rows))
    keyword_rows = keyword(args.sizes, rng)
    print()
    print(table(["chunks", "BM25 build s", "score p50 ms", "p95 ms", "memory MB"], keyword_rows))
    if args.plot:
        plot(dense_rows, keyword_rows, args.plot)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
