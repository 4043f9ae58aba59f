"""The keyword index: each entry's analyzed terms, counted, in segment files that generations share, and BM25
(Lucene's variant, as bm25s computes it) scored from them when a question is asked.

An entry is a chunk, or a whole document. A segment holds the terms of some entries two ways: entry by entry (what
a build reads to merge segments) and term by term (what a question reads). It is written once, by the build that
counted its entries, and never changed. As for vectors (assistant/stores.py), a generation lists its segments in
``stores.json`` and keeps the entry of each of its rows among them in ``<name>.rows.npy``; term ids follow the
generation's ``vocabulary.json``, to which builds only ever add. A one-file build writes the terms of that file's
chunks and of its document, not every entry's again: BM25's idf and mean length, which depend on every entry, are
computed from the segments when the index is loaded.

>>> from assistant.keywords import Counted
>>> counted = Counted([])
>>> for terms in ({"barcamp": 2, "agent": 1}, {"agent": 1}, {}):
...     counted.add(len(counted.rows), terms)
>>> index = Keywords(TermRows.staged(None, np.full(3, -1), counted.vocabulary, counted.arrays()))
>>> index.scores(["barcamp"]).round(3).tolist(), index.document_frequencies()
([0.5, 0.0, 0.0], {'barcamp': 1, 'agent': 2})
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.keywords import lucene_idf, lucene_norm
from assistant.stores import STORES, compacted, staged_rows, write_array

K1, B = 1.2, 0.75
_HEADER = 3  # entries, vocabulary size and (entry, term) pairs of a segment


def ranges(begins: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each range starts among the others, and the indices ``begins[i]`` to ``begins[i] + lengths[i]``, range
    after range.

    >>> [part.tolist() for part in ranges(np.array([5, 0]), np.array([2, 3]))]
    [[0, 2, 5], [5, 6, 0, 1, 2]]
    """
    starts = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    return starts, np.repeat(np.asarray(begins, np.int64) - starts[:-1], lengths) + np.arange(int(starts[-1]))


def picked(starts: np.ndarray, ids: np.ndarray, counts: np.ndarray, entries: np.ndarray):
    """Starts, ids and counts of ``entries`` of terms laid out entry after entry (``starts``, ``ids``, ``counts``)."""
    begins = np.asarray(starts[entries], np.int64)
    within, indices = ranges(begins, np.asarray(starts[entries + 1], np.int64) - begins)
    return within, ids[indices], counts[indices]


class TermSegment:
    """The terms of a run of entries, from one int32 array (a mapped ``.npy`` file once written)::

    entries n, vocabulary size v, pairs m
    starts (n + 1)   entry e's terms are ids[starts[e]:starts[e + 1]], each counts[...] times
    ids (m), counts (m)
    lengths (n)      how many terms each entry holds
    columns (v + 1)  term t's entries are rows[columns[t]:columns[t + 1]], each frequencies[...] times
    rows (m), frequencies (m)
    """

    def __init__(self, array: np.ndarray) -> None:
        if array.dtype != np.int32 or array.ndim != 1 or len(array) < _HEADER:
            raise ValueError(f"a terms segment of {array.dtype} {array.shape}, expected int32 numbers")
        n, v, m = (int(value) for value in array[:_HEADER])
        sizes = [n + 1, m, m, n, v + 1, m, m]
        if len(array) != _HEADER + sum(sizes) or min(n, v, m) < 0:
            raise ValueError(f"a terms segment of {array.shape} does not hold {n} entries, {v} terms, {m} pairs")
        bounds = np.cumsum([_HEADER, *sizes])
        parts = [array[begin:end] for begin, end in zip(bounds[:-1], bounds[1:])]
        self.starts, self.ids, self.counts, self.lengths, self.columns, self.rows, self.frequencies = parts
        self.vocabulary_size = v
        if self.starts[0] != 0 or self.starts[-1] != m or self.columns[0] != 0 or self.columns[-1] != m:
            raise ValueError("a terms segment's offsets do not hold together")

    def __len__(self) -> int:
        return len(self.lengths)

    @staticmethod
    def parts(vocabulary_size: int, starts: np.ndarray, ids: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
        """The arrays of the segment of these entries (starts, ids and counts as in the class's docstring), in
        order: a segment is their concatenation."""
        import scipy.sparse as sp

        n, m = len(starts) - 1, len(ids)
        if m >= 2**31:
            raise ValueError(f"{m:,} (entry, term) pairs in one build: more than a terms segment holds (2**31)")
        by_term = sp.csr_matrix((counts, ids, starts), shape=(n, vocabulary_size)).tocsc()
        filled = np.flatnonzero(np.diff(starts) > 0)
        lengths = np.zeros(n, np.int64)
        lengths[filled] = np.add.reduceat(np.asarray(counts, np.int64), np.asarray(starts[filled], np.int64))
        header = [n, vocabulary_size, m]
        parts = [header, starts, ids, counts, lengths, by_term.indptr, by_term.indices, by_term.data]
        return [np.asarray(part, dtype=np.int32) for part in parts]

    @classmethod
    def of(cls, vocabulary_size: int, starts: np.ndarray, ids: np.ndarray, counts: np.ndarray) -> TermSegment:
        """The segment of these entries, in memory."""
        return cls(np.concatenate(cls.parts(vocabulary_size, starts, ids, counts)))

    def gather(self, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, ids and counts of these entries, in this order."""
        return picked(self.starts, self.ids, self.counts, entries)


class TermRows:
    """The counted terms of a generation's entries: entry i is entry ``rows[i]`` of its segments, one after the
    other; while a build stages a generation, a negative row ``-j - 1`` is entry ``j`` of ``fresh`` (counted now)."""

    def __init__(
        self, segments: list[TermSegment], files: list[str], rows: np.ndarray, vocabulary: list[str], fresh=None
    ) -> None:
        self.segments, self.files, self.rows, self.vocabulary, self.fresh = segments, files, rows, vocabulary, fresh
        self.offsets = np.cumsum([0] + [len(segment) for segment in segments])

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def staged(cls, previous: TermRows | None, origin: np.ndarray, vocabulary: list[str], fresh) -> TermRows:
        """A new generation's terms: entry i is entry ``origin[i]`` of ``previous`` where >= 0, else the next entry
        of ``fresh`` (starts, ids, counts: the entries counted now, in order); ``vocabulary`` extends
        ``previous``'s."""
        rows = staged_rows(previous.rows if previous is not None else None, origin)
        segments, files = (previous.segments, previous.files) if previous is not None else ([], [])
        return cls(segments, files, rows, vocabulary, fresh)

    def gather(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Starts, ids and counts of the entries at these positions of this generation, in this order."""
        found = self.rows[positions]
        if self.fresh is not None and np.array_equal(found, -np.arange(1, len(self.fresh[0]))):
            return self.fresh  # every entry counted now, in order (a first build)
        where = np.searchsorted(self.offsets, found, side="right") - 1  # -1: counted now
        lengths = np.zeros(len(found), np.int64)
        pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for number in np.unique(where).tolist():
            chosen = np.flatnonzero(where == number)
            if number < 0:
                starts, ids, counts = picked(*self.fresh, -found[chosen] - 1)
            else:
                starts, ids, counts = self.segments[number].gather(found[chosen] - self.offsets[number])
            lengths[chosen] = np.diff(starts)
            pieces.append((chosen, starts, np.stack([ids, counts])))
        starts = np.concatenate([[0], np.cumsum(lengths)])
        pairs = np.empty((2, int(starts[-1])), np.int32)
        for chosen, own, values in pieces:  # each piece's entries go where their positions say
            pairs[:, ranges(starts[chosen], np.diff(own))[1]] = values
        return starts, pairs[0], pairs[1]

    def stored(self) -> TermRows:
        """These terms with the entries counted now made into a segment in memory (as if written and loaded)."""
        if self.fresh is None or not (self.rows < 0).any():
            return self
        segment = TermSegment.of(len(self.vocabulary), *self.fresh)
        rows = np.where(self.rows < 0, self.offsets[-1] - self.rows - 1, self.rows)
        return TermRows([*self.segments, segment], [*self.files, ""], rows, self.vocabulary)

    def save(self, index_dir: Path, staging: Path, name: str, generation: str, written: list[Path]) -> list[str]:
        """Write the entries counted now as a new segment (or merge segments: see assistant/stores.py), added to
        ``written``, and each entry's row into ``staging``. Returns the generation's segment files."""

        def write(kind: str, entries: np.ndarray) -> str:
            file = f"{STORES}/{name}-{generation}-{kind}.npy"
            written.append(index_dir / file)  # removed if the build fails, even half written
            write_array(index_dir / file, TermSegment.parts(len(self.vocabulary), *self.gather(entries)))
            return file

        (index_dir / STORES).mkdir(exist_ok=True)
        files, entries = compacted(list(self.files), self.offsets, self.rows.copy(), write)
        np.save(staging / f"{name}.rows.npy", entries, allow_pickle=False)
        return files

    @classmethod
    def load(cls, index_dir: Path, folder: Path, name: str, count: int, vocabulary: list[str], files: list[str]):
        """A generation's terms of ``name``, in these segment files (ValueError when they do not hold together)."""
        segments = [TermSegment(np.load(index_dir / file, mmap_mode="r", allow_pickle=False)) for file in files]
        rows = np.load(folder / f"{name}.rows.npy", allow_pickle=False)
        stored = sum(len(segment) for segment in segments)
        if rows.shape != (count,) or rows.dtype != np.int64 or (count and not 0 <= rows.min() <= rows.max() < stored):
            raise ValueError(f"{name}.rows.npy: {rows.dtype} {rows.shape}, expected {count} rows of {stored}")
        if any(segment.vocabulary_size > len(vocabulary) for segment in segments):
            raise ValueError(f"{name}: terms past the {len(vocabulary)} of the vocabulary")
        return cls(segments, files, rows, vocabulary)


class Keywords:
    """BM25 over a generation's entries, scored from their stored term counts when asked (scores equal to those of
    bm25s, Lucene variant, on the same terms: tested)."""

    def __init__(self, terms: TermRows) -> None:
        self.terms = terms.stored()
        self.size = len(terms)

    def prepare(self) -> None:
        """Compute BM25's statistics now (ValueError when the segments do not hold together), not at the first
        question."""
        _, _, frequencies, _ = self._statistics
        if len(frequencies) and frequencies.min() < 0:
            raise ValueError("terms segments count terms no entry holds")

    @cached_property
    def _statistics(self) -> tuple[dict[str, int], list[np.ndarray], np.ndarray, np.ndarray]:
        """Term ids by term; for each segment, the row of each of its entries (``size``, a row past the last, for an
        entry no longer in this generation); how many entries hold each term; the term-frequency denominator of each
        row (and of that last one)."""
        terms, owners = self.terms, []
        frequencies = np.zeros(len(terms.vocabulary), np.int64)
        lengths = np.zeros(self.size + 1, np.int64)
        for number, segment in enumerate(terms.segments):
            begin = int(terms.offsets[number])
            inside = np.flatnonzero((terms.rows >= begin) & (terms.rows < begin + len(segment)))
            owner = np.full(len(segment), self.size, np.int64 if self.size >= 2**31 - 1 else np.int32)
            owner[terms.rows[inside] - begin] = inside
            lengths[inside] = segment.lengths[terms.rows[inside] - begin]
            held = np.diff(segment.columns).astype(np.int64)
            gone = np.flatnonzero(owner == self.size)
            if len(gone):  # entries of the segment no longer in the index: their terms do not count
                _, ids, _ = segment.gather(gone)
                held -= np.bincount(ids, minlength=len(held))
            frequencies[: len(held)] += held
            owners.append(owner)
        lengths = np.maximum(lengths, 1)  # an entry with no term holds the empty one, as in bm25s
        norm = lucene_norm(lengths, lengths[:-1].mean(), K1, B) if self.size else np.ones(1)
        known = {term: i for i, term in enumerate(terms.vocabulary)}
        return known, owners, frequencies, norm

    def _postings(self, token: str):
        """The term id of ``token`` (None when no entry holds it), and for each segment that knows it, the rows of
        the entries that hold it (``size`` for those that left) and how many times they do."""
        known, owners, frequencies, _ = self._statistics
        term = known.get(token) if token else None
        if term is None or not frequencies[term]:
            return None, []
        found = []
        for segment, owner in zip(self.terms.segments, owners):
            if term < segment.vocabulary_size:
                span = slice(int(segment.columns[term]), int(segment.columns[term + 1]))
                found.append((owner[segment.rows[span]], segment.frequencies[span]))
        return term, found

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every entry for the query terms (zeros when no term is known): each term's share in
        float32, summed term after term, as bm25s sums them."""
        scores = np.zeros(self.size + 1, dtype=np.float32)  # and a last row, where entries that left add theirs
        if not self.size:
            return scores[:-1]
        _, _, frequencies, norm = self._statistics
        for token in tokens:
            term, found = self._postings(token)
            if term is None:
                continue
            idf = np.float64(np.float32(lucene_idf(self.size, frequencies[term])))
            for rows, tf in found:
                value = norm[rows]
                value += tf
                np.divide(tf, value, out=value)
                value *= idf
                np.add.at(scores, rows, value.astype(np.float32))  # each row once (but that last one)
        return scores[:-1]

    def holding(self, token: str) -> np.ndarray:
        """For each entry, whether it holds the term (its score for the term alone is above 0)."""
        held = np.zeros(self.size + 1, dtype=bool)
        if self.size:
            for rows, _ in self._postings(token)[1]:
                held[rows] = True
        return held[:-1]

    def document_frequencies(self) -> dict[str, int]:
        """How many entries hold each term."""
        if not self.size:
            return {}
        _, _, frequencies, _ = self._statistics
        return {self.terms.vocabulary[i]: int(frequencies[i]) for i in np.flatnonzero(frequencies).tolist()}
