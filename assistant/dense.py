"""The dense index: which chunks lie nearest a question's vector.

Up to ``approximate_above`` chunks the search is exact (``IndexFlatIP``, entry i is chunk row i). Past it the index
is an inverted file of 8-bit codes (``IndexIVFScalarQuantizer``), its finds re-ranked on the exact vectors, whose
entries carry ids that outlive a build: a build removes the ids of the chunks that went and adds the new chunks
under new ids, so a one-file change costs what the file costs, not what the corpus costs. The partition is trained
once, and again only when the index has grown or shrunk by a factor of RETRAIN_FACTOR since (a rare full pass).
Figures: docs/benchmarks.md ("A one-file change at a million chunks").

On disk neither index holds the vectors a second time. For exact search ``dense.faiss`` is an empty index that
loading fills with the chunk vectors. For the inverted file it is the trained, empty index (centroids and code
ranges), and ``dense_ids.npy`` and ``dense_lists.npy`` the id and the list of each chunk row: loading encodes the
chunk vectors into their lists, a slice at a time, with no distance computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.stores import slices

PROBE_SHARE = 8  # one list in 8 is searched (docs/benchmarks.md: recall on real embeddings)
RERANK = 2  # the codes find RERANK * k entries, re-ranked on the exact vectors
MAX_LISTS = 2048  # 4,096 lists take ten times longer to train
RETRAIN_FACTOR = 4
TRAINING_SAMPLE = 64  # vectors per list trained on


def list_count(n: int) -> int:
    """Lists of the inverted file: about 4 sqrt(n), a power of two, at most MAX_LISTS (fewer for a tiny index,
    each list trained on at least 16 vectors)."""
    return int(min(MAX_LISTS, 2 ** round(np.log2(4 * np.sqrt(max(n, 1)))), max(1, n // 16)))


def _floats(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32)


@dataclass
class DenseIndex:
    """A FAISS index and, for the inverted file, the id and the list of each chunk row."""

    index: object  # a faiss.Index
    ids: np.ndarray | None = None  # int64, row -> id; None: entries are rows (exact search, or an older HNSW)
    lists: np.ndarray | None = None  # int64, row -> its list in the inverted file
    trained_on: int = 0  # how many vectors the inverted file held when its partition was trained
    vectors: np.ndarray | None = None  # the exact chunk vectors, row for row, that finds are re-ranked on
    _rows: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        name = type(self.index).__name__
        return "ivf" if name.startswith("IndexIVF") else "hnsw" if name.startswith("IndexHNSW") else "flat"

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(self, vector: np.ndarray, k: int) -> np.ndarray:
        """The rows of the ``k`` nearest chunks, nearest first."""
        if self.ids is None:
            found = self.index.search(_floats(vector[None, :]), k)[1][0]
            return found[found >= 0]
        found = self.index.search(_floats(vector[None, :]), RERANK * k)[1][0]
        found = found[found >= 0]
        if self._rows is None:
            order = np.argsort(self.ids, kind="stable")
            self._rows = (self.ids[order], order)
        ordered, order = self._rows
        rows = np.sort(order[np.searchsorted(ordered, found)])
        exact = np.asarray(self.vectors[rows], dtype=np.float32) @ vector
        return rows[np.argsort(-exact, kind="stable")[:k]]

    def save(self, folder: Path) -> None:
        import faiss

        if self.ids is None:  # exact search: its entries are the chunk vectors, filed again when loaded
            faiss.write_index(faiss.IndexFlatIP(self.index.d), str(folder / "dense.faiss"))
            return
        centroids = self.index.quantizer.reconstruct_n(0, self.index.nlist)
        empty = _partition(centroids, faiss.vector_to_array(self.index.sq.trained))
        faiss.write_index(empty, str(folder / "dense.faiss"))
        np.save(folder / "dense_ids.npy", np.ascontiguousarray(self.ids, dtype=np.int64), allow_pickle=False)
        np.save(folder / "dense_lists.npy", np.ascontiguousarray(self.lists, dtype=np.int64), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, manifest: dict, vectors: np.ndarray, filled: bool = True) -> DenseIndex:
        """Read what ``save`` wrote; ``vectors`` are the chunk vectors, row for row, filed into the index only if it
        is to be ``filled`` (searched)."""
        import faiss

        index = faiss.read_index(str(folder / "dense.faiss"))
        if manifest.get("dense_index") != "ivf":
            if type(index).__name__ != "IndexFlatIP" or index.ntotal not in (0, len(vectors)):
                raise ValueError("dense.faiss is not the exact index of these vectors")
            if not index.ntotal and filled:  # written empty: filled from the vectors
                for part in slices(len(vectors)):
                    index.add(_floats(vectors[part]))
            return cls(index)
        ids = np.load(folder / "dense_ids.npy", allow_pickle=False)
        lists = np.load(folder / "dense_lists.npy", allow_pickle=False)
        for name, array in (("dense_ids.npy", ids), ("dense_lists.npy", lists)):
            if array.shape != (len(vectors),) or array.dtype != np.int64:
                raise ValueError(f"{name}: {array.dtype} {array.shape}, expected int64 {(len(vectors),)}")
        if (
            not hasattr(index, "sq")
            or index.ntotal
            or (len(lists) and not 0 <= lists.min() <= lists.max() < index.nlist)
        ):
            raise ValueError("dense.faiss is not the partition its lists point to")
        index.nprobe = probes(index.nlist)
        if filled:  # a build updates the lists and ids only: it never searches, and writes the partition empty
            _file(index, vectors, ids, lists)
        return cls(index, ids, lists, int(manifest.get("dense_trained_on", len(vectors))), vectors)


def probes(lists: int) -> int:
    return max(1, lists // PROBE_SHARE)


def _partition(centroids: np.ndarray, ranges: np.ndarray | None = None):
    """An empty inverted file with these centroids, and these ranges for its codes (else train it: ``train`` then
    learns the ranges only, the centroids being there)."""
    import faiss

    lists, dimension = centroids.shape
    quantizer = faiss.IndexFlatIP(dimension)
    quantizer.add(_floats(centroids))
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.by_residual = False  # codes of the vectors themselves: trained once, on a sample
    if ranges is not None:
        faiss.copy_array_to_vector(np.ascontiguousarray(ranges, dtype=np.float32), index.sq.trained)
        index.is_trained = True
    index.nprobe = probes(lists)
    return index


def _file(index, vectors: np.ndarray, ids: np.ndarray, lists: np.ndarray) -> None:
    """Add ``vectors`` to the lists already chosen for them, under ``ids``."""
    import faiss

    for part in slices(len(vectors)):  # vectors may be mapped: read a slice at a time
        x = _floats(vectors[part])
        chosen = np.ascontiguousarray(ids[part], np.int64)
        listed = np.ascontiguousarray(lists[part], np.int64)
        index.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(chosen), faiss.swig_ptr(listed))


def _nearest_list(index, vectors: np.ndarray) -> np.ndarray:
    nearest = [index.quantizer.search(_floats(vectors[part]), 1)[1][:, 0] for part in slices(len(vectors))]
    return np.concatenate(nearest).astype(np.int64) if nearest else np.zeros(0, dtype=np.int64)


def exact(vectors: np.ndarray) -> DenseIndex:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(_floats(vectors))
    return DenseIndex(index)


def trained(vectors: np.ndarray, seed: int = 0) -> DenseIndex:
    """A new inverted file, its partition trained on a sample of ``vectors``; chunk row i gets id i."""
    import faiss

    n, dimension = vectors.shape
    lists = list_count(n)
    learner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).choice(n, min(n, TRAINING_SAMPLE * lists), replace=False)
    learner.train(sampled := _floats(vectors[np.sort(sample)]))
    index = _partition(learner.quantizer.reconstruct_n(0, lists))
    index.train(sampled)
    ids, assigned = np.arange(n, dtype=np.int64), _nearest_list(index, vectors)
    _file(index, vectors, ids, assigned)
    return DenseIndex(index, ids, assigned, n, vectors)


def updated(previous: DenseIndex, vectors: np.ndarray, old_rows: np.ndarray) -> DenseIndex:
    """``previous`` (an inverted file, changed in place) made to hold ``vectors``.

    ``old_rows[i]`` is the row chunk i had in ``previous``, or -1 for a new chunk. A chunk already there keeps its
    id and entry (the same chunk id is the same text, so the same vector); the entries of chunks that went are
    removed, new chunks added.
    """
    import faiss

    old_ids = previous.ids
    old_rows = np.where(old_rows < len(old_ids), old_rows, -1)
    # A row keeps its old entry when its chunk was there before (and no earlier row took that entry).
    found = np.flatnonzero(old_rows >= 0)
    _, first = np.unique(old_rows[found], return_index=True)
    keeps = found[first]
    kept = np.zeros(len(old_ids), dtype=bool)
    kept[old_rows[keeps]] = True
    fresh = np.ones(len(old_rows), dtype=bool)
    fresh[keeps] = False
    fresh = np.flatnonzero(fresh)
    next_id = int(old_ids.max()) + 1 if len(old_ids) else 0
    ids = np.empty(len(old_rows), dtype=np.int64)
    lists = np.empty(len(old_rows), dtype=np.int64)
    ids[keeps], lists[keeps] = old_ids[old_rows[keeps]], previous.lists[old_rows[keeps]]
    ids[fresh] = np.arange(next_id, next_id + len(fresh))
    gone = old_ids[~kept]
    index = previous.index
    if len(gone):
        index.remove_ids(faiss.IDSelectorBatch(gone))
    lists[fresh] = _nearest_list(index, vectors[fresh])
    _file(index, vectors[fresh], ids[fresh], lists[fresh])
    return DenseIndex(index, ids, lists, previous.trained_on, vectors)


def dense_for(
    vectors: np.ndarray,
    approximate_above: int,
    previous: DenseIndex | None = None,
    old_rows: np.ndarray | None = None,
    filled: bool = True,
) -> DenseIndex:
    """The dense index of a new generation: exact while small; past the threshold the previous inverted file
    updated in place when there is one of the same dimension and about the same size (``old_rows``: each chunk's
    row there, -1 for a new one), else a new one. An exact index is saved empty and filed from the vectors when
    loaded: to be written, it need not be ``filled`` (a build does not copy every vector twice for nothing)."""
    n = len(vectors)
    if n <= approximate_above:
        if not filled:
            import faiss

            return DenseIndex(faiss.IndexFlatIP(vectors.shape[1]))
        return exact(vectors)
    if (
        previous is not None
        and old_rows is not None
        and previous.kind == "ivf"
        and previous.index.d == vectors.shape[1]
        and previous.trained_on / RETRAIN_FACTOR <= n <= previous.trained_on * RETRAIN_FACTOR
    ):
        return updated(previous, vectors, old_rows)
    return trained(vectors)
