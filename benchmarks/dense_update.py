"""A one-file change at a million chunks: what the dense index costs to update, and what it finds.

    python benchmarks/dense_update.py [--size 1000000] [--file-chunks 20] [--hnsw] [--real]

Synthetic vectors: unit vectors around 2,000 cluster centres (see scale.py). Two query sets: "near", perturbed
chunk vectors, and "fresh", new draws from the same clusters (no chunk lies right next to them: harder). Recall@10
is measured against exact search on the same vectors, after the change.

Steps, as a build runs them: load the previous generation's dense index, update it (the file's old chunks out,
its new chunks in), write the new generation's dense files (vectors.npy included). The first, full build is timed
too, for comparison. ``--hnsw`` adds the other design the issue names: HNSW with additions and a deletion mask
(its graph built once, at the cost of scale.py's 216 s at 1M). ``--real`` checks recall on real embeddings: the
PIAF index built by piaf.py (multilingual-e5-small, 4,926 chunks) and its 105 questions.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import CACHE, ROOT, Timer, machine, percentile, table

DIMENSION = 384
QUERIES = 200
SHARES = (32, 16, 8, 4)  # one list in SHARE searched


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def draws(centres: np.ndarray, n: int, rng) -> np.ndarray:
    picked = centres[rng.integers(0, len(centres), n)]
    return unit(picked + 0.6 * rng.standard_normal((n, DIMENSION)).astype(np.float32))


def recall_rows(
    label: str, search, queries: dict[str, np.ndarray], truth: dict[str, np.ndarray], vectors
) -> list[list]:
    """Recall@10 counting ties: a row found scoring at least the 10th exact score is right (duplicated texts
    have equal vectors, and any of them is as near as the other)."""
    rows = []
    for name, batch in queries.items():
        times, found = [], []
        for query in batch:
            with Timer() as timer:
                rows_found = search(query)
            times.append(1000 * timer.seconds)
            found.append(rows_found[:10])
        recall = np.mean(
            [
                np.sum(vectors[a] @ query >= (vectors[b] @ query).min() - 1e-6) / 10
                for a, b, query in zip(found, truth[name], batch)
            ]
        )
        rows.append([label, name, float(recall), statistics.median(times), percentile(times, 0.95)])
    return rows


def rss_mb() -> float:
    """Resident memory now."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def synthetic(args) -> None:
    import faiss

    from assistant.dense import DenseIndex, trained, updated

    rng = np.random.default_rng(7)
    centres = rng.standard_normal((2000, DIMENSION)).astype(np.float32)
    vectors = draws(centres, args.size, rng)
    chunk_ids = [f"c{i}" for i in range(args.size)]
    # The changed file: its old chunks are the last rows; its new version has as many, with new text.
    changed = list(range(args.size - args.file_chunks, args.size))
    new_vectors = vectors.copy()
    new_vectors[changed] = draws(centres, args.file_chunks, rng)
    new_ids = chunk_ids[: changed[0]] + [f"new{i}" for i in range(args.file_chunks)]

    queries = {
        "near": unit(vectors[rng.integers(0, args.size, QUERIES)] + 0.05 * rng.standard_normal((QUERIES, DIMENSION))),
        "fresh": draws(centres, QUERIES, rng),
    }
    exact = faiss.IndexFlatIP(DIMENSION)
    exact.add(new_vectors)
    truth = {name: exact.search(batch, 10)[1] for name, batch in queries.items()}
    del exact

    folder = Path(tempfile.mkdtemp(prefix="dense-", dir=CACHE))
    steps = []
    with Timer() as full:
        dense = trained(vectors)
    steps.append(["first build: train the partition and file every vector", full.seconds])
    manifest = {"dense_index": "ivf", "dense_trained_on": dense.trained_on}
    with Timer() as write:
        np.save(folder / "vectors.npy", vectors, allow_pickle=False)
        dense.save(folder)
    steps.append(["first build: write vectors.npy and the dense files", write.seconds])
    del dense
    memory_before = rss_mb()
    with Timer() as load:
        previous = DenseIndex.load(folder, manifest, np.load(folder / "vectors.npy", mmap_mode="r"))
    memory = rss_mb() - memory_before
    with Timer() as update:
        rows = {chunk_id: row for row, chunk_id in enumerate(chunk_ids)}  # the loaded index's chunk_row
        old_rows = np.fromiter((rows.get(c, -1) for c in new_ids), dtype=np.int64, count=len(new_ids))
        dense = updated(previous, new_vectors, old_rows)
    with Timer() as rewrite:
        np.save(folder / "vectors.npy", new_vectors, allow_pickle=False)
        dense.save(folder)
    change = load.seconds + update.seconds + rewrite.seconds
    steps += [
        ["one-file change: load the previous dense index", load.seconds],
        [f"one-file change: update ({args.file_chunks} chunks out, {args.file_chunks} in)", update.seconds],
        ["one-file change: write vectors.npy and the dense files", rewrite.seconds],
        ["**one-file change, dense part in all**", change],
    ]
    print(f"{args.size:,} chunks, {dense.index.nlist} lists, one file = {args.file_chunks} chunks\n")
    print(table(["step", "seconds"], steps))
    print(f"\none-file change / first build: {change / (full.seconds + write.seconds):.3f}")
    on_disk = sum(f.stat().st_size for f in folder.iterdir() if f.name.startswith("dense")) / 1e6
    codes = args.size * (DIMENSION + 8 + 8) / 1e6  # 8-bit codes, an id in the lists, an id and a list per row
    print(f"memory: the inverted file holds {codes:,.0f} MB of codes and ids; resident memory grew {memory:,.0f} MB")
    print(f"  while loading it (vectors.npy pages read included); dense files besides vectors.npy: {on_disk:.1f} MB")

    rows = []
    for share in SHARES:
        dense.index.nprobe = max(1, dense.index.nlist // share)
        label = f"IVF-SQ8 + re-rank, nprobe {dense.index.nprobe} (1/{share} of lists)"
        rows += recall_rows(label, lambda q, d=dense: d.search(q, 10), queries, truth, new_vectors)
    del dense, previous
    if args.hnsw:
        rows += hnsw(vectors, new_vectors, changed, queries, truth)
    print()
    print(table(["index", "queries", "recall@10", "p50 ms", "p95 ms"], rows))
    shutil.rmtree(folder, ignore_errors=True)


def hnsw(vectors, new_vectors, changed, queries, truth) -> list[list]:
    """HNSW with additions and a deletion mask: the changed file's old entries masked, its new ones added."""
    import faiss

    index = faiss.IndexHNSWFlat(DIMENSION, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    with Timer() as build:
        index.add(vectors)
    with Timer() as add:
        index.add(new_vectors[changed])  # rows n .. n + len(changed): map back to the changed rows
    n = len(vectors)
    mask = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.asarray(changed, dtype=np.int64)))
    params = faiss.SearchParametersHNSW(sel=mask, efSearch=512)

    def search(query):
        found = index.search(query[None, :], 10, params=params)[1][0]
        return np.where(found >= n, np.asarray(changed)[np.clip(found - n, 0, len(changed) - 1)], found)

    print(f"\nHNSW: graph built in {build.seconds:.1f} s, {len(changed)} additions in {add.seconds:.3f} s")
    return recall_rows("HNSW + mask, efSearch 512", search, queries, truth, new_vectors)


def real() -> None:
    """Recall on real embeddings (multilingual-e5-small): every chunk and sentence vector of the PIAF and corpus-beta
    indexes built by piaf.py and watch_latency.py, less 500 sentences kept out as queries, with the 105 PIAF
    questions, searching the same shares of the lists as above."""
    from piaf import load_questions

    from assistant.dense import trained
    from assistant.embeddings import embedder_for
    from assistant.index import load_index
    from assistant.settings import Settings

    parts, model = [], None
    for folder in (CACHE / "piaf" / "index-default", CACHE / "watch-corpus-beta" / "index"):
        index = load_index(folder)
        model = index.model
        parts += [np.asarray(index.vectors, np.float32), np.asarray(index.sentence_vectors, np.float32)]
    pool = np.concatenate(parts)
    pool = unit(pool[np.abs(pool).sum(axis=1) > 0])  # sentences no answer can quote have no vector
    rng = np.random.default_rng(3)
    held = rng.choice(len(pool), 500, replace=False)
    vectors = np.delete(pool, held, axis=0)
    embedder = embedder_for(Settings(embedding_model=model))
    questions = [question for question, _, _ in load_questions()[1]]
    queries = {
        "PIAF questions": np.stack([embedder.embed_query(q) for q in questions]),
        "held-out sentences": pool[held],
    }
    truth = {name: np.argsort(-(vectors @ batch.T), axis=0)[:10].T for name, batch in queries.items()}
    dense = trained(vectors)
    lists = dense.index.nlist
    rows = []
    for share in SHARES:
        dense.index.nprobe = max(1, lists // share)
        label = f"IVF-SQ8 + re-rank, {lists} lists, nprobe {dense.index.nprobe} (1/{share})"
        rows += recall_rows(label, lambda q: dense.search(q, 10), queries, truth, vectors)
    print(f"\nReal embeddings: {model}, {len(vectors):,} vectors\n")
    print(table(["index", "queries", "recall@10", "p50 ms", "p95 ms"], rows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--file-chunks", type=int, default=20)
    parser.add_argument("--hnsw", action="store_true")
    parser.add_argument("--real", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}\n")
    synthetic(args)
    if args.real:
        real()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
