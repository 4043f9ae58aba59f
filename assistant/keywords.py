"""The keyword side: a French analyzer (elisions, stop words, Snowball stemming, accent folding) and BM25.

>>> analyze("L'innovation participative des ministères, qu'en pense-t-on ?")
['innov', 'particip', 'minister', 'pens']
"""

from __future__ import annotations

import json
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

FRENCH_STOP_WORDS = frozenset(
    """a à afin ai aie aient aies ait alors as au aucun aucune aupres auquel aura aurai auraient aurais
    aurait auras aurez auriez aurions aurons auront aussi autre autres aux auxquelles auxquels avaient avais
    avait avant avec avez aviez avions avoir avons ayant ayez ayons c ça car ce ceci cela celle celles celui
    cependant certain certaine certaines certains ces cet cette ceux chaque chez ci comme comment d dans de
    depuis des desquelles desquels dont donc du duquel durant elle elles en encore entre es est et étaient
    étais était étant été êtes étiez étions être eu eue eues eûmes eurent eus eusse eussent eusses eussiez
    eussions eut eût eûtes eux fait faites fûmes furent fus fusse fussent fusses fussiez fussions fut fût
    fûtes ici il ils j je jusqu jusque l la laquelle le lequel les lesquelles lesquels leur leurs lors lorsqu
    lorsque lui m ma mais me même mêmes mes moi mon n ne ni non nos notre nôtre nous on ont ou où par parce
    pas peu peut plus plutôt pour pourquoi puis puisqu puisque qu quand que quel quelle quelles quels qui
    quoi quoiqu s sa sans se sera serai seraient serais serait seras serez seriez serions serons seront ses
    si sien sienne soi soient sois soit sommes son sont sous soyez soyons suis sur t ta te tes toi ton tous
    tout toute toutes très tu un une unes uns vers voici voilà vos votre vôtre vous y
    quelqu quelque quelques combien dont lequel laquelle selon tel telle tels telles cet""".split()
)
ENGLISH_STOP_WORDS = frozenset(
    """the of and to in is are was were be been being for on with as by at from that this these those it
    its an or what which who whom whose when where why how do does did has have had not no can could
    would should will shall may might there their they them he she his her we our you your i me my""".split()
)
STOP_WORDS = FRENCH_STOP_WORDS | ENGLISH_STOP_WORDS

_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.I)
_WORD = re.compile(r"\w+")


def fold_accents(text: str) -> str:
    """The text without its accents ("Québec" -> "Quebec"): how every comparison of words ignores them."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces: how names are compared.

    >>> fold("  L’Université   de Sherbrooke ")
    "l'universite de sherbrooke"
    """
    return " ".join(fold_accents(text.replace("’", "'")).lower().split())


def lucene_idf(total, frequency):
    """Lucene's BM25 idf of a term held by ``frequency`` of ``total`` entries (numbers or arrays): the one idf of
    the keyword index and of the answering's term weights."""
    return np.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


def lucene_norm(lengths, mean_length: float, k1: float, b: float):
    """What an entry of ``lengths`` terms adds to the denominator of Lucene's BM25 term-frequency component,
    tf / (norm + tf), of each of its terms counted tf times."""
    return k1 * ((1 - b) + b * lengths / mean_length)


_FOLDED_STOP_WORDS = frozenset(fold_accents(word) for word in STOP_WORDS)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


def analyze(text: str, stem: bool = True) -> list[str]:
    """Text to index terms: lower case, elisions cut, accents folded, stop words dropped, stemmed.

    Accents go before stemming, so that a question typed without them ("universite", "experimentees") finds the
    words written with them; the stemmer, which reads "-ée" as a suffix but not "-ee", then leaves a final "e" that
    is cut.

    >>> analyze("l'Université, les réseaux expérimentés") == analyze("l'universite, les reseaux experimentes")
    True
    >>> analyze("expérimenter expérimentées créée créer")
    ['experiment', 'experiment', 'cre', 'cre']
    """
    words = _WORD.findall(_ELISION.sub(" ", fold_accents(text.lower())))
    words = [w for w in words if w not in _FOLDED_STOP_WORDS and not (len(w) == 1 and not w.isdigit()) and w != "_"]
    if not stem:
        return words
    return [w[:-1] if len(w) > 3 and w.endswith("e") else w for w in _stemmer().stemWords(words)]


def plain_tokens(text: str) -> list[str]:
    """What a default search engine does: lower case, words, nothing more (a baseline for benchmarks)."""
    return _WORD.findall(text.lower())


class Terms:
    """The analyzed terms of every chunk (or document), counted, kept with the index (``terms/``,
    ``document_terms/``) so that a build analyzes new chunks only: entry i holds the distinct term ids
    ``ids[starts[i]:starts[i + 1]]``, each ``counts`` times."""

    def __init__(self, vocabulary: list[str], ids: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> None:
        self.vocabulary, self.ids, self.counts, self.starts = vocabulary, ids, counts, starts

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False), "utf-8")
        np.save(directory / "ids.npy", np.ascontiguousarray(self.ids, dtype=np.int32), allow_pickle=False)
        np.save(directory / "counts.npy", np.ascontiguousarray(self.counts, dtype=np.int32), allow_pickle=False)
        np.save(directory / "starts.npy", np.ascontiguousarray(self.starts, dtype=np.int64), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, count: int) -> Terms:
        vocabulary = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        ids = np.load(directory / "ids.npy", mmap_mode="r", allow_pickle=False)  # read once, where carried over
        counts = np.load(directory / "counts.npy", mmap_mode="r", allow_pickle=False)
        starts = np.load(directory / "starts.npy", allow_pickle=False)
        if (
            not isinstance(vocabulary, list)
            or starts.shape != (count + 1,)
            or starts[0] != 0
            or starts[-1] != len(ids)
            or counts.shape != ids.shape
            or np.any(np.diff(starts) < 0)
            or (len(ids) and not 0 <= ids.min() <= ids.max() < len(vocabulary))
        ):
            raise ValueError("the stored terms do not match the chunks")
        return cls(vocabulary, ids, counts, starts)

    def lengths(self) -> np.ndarray:
        """How many terms each entry holds."""
        filled = np.flatnonzero(np.diff(self.starts) > 0)  # reduceat sums from each start to the next
        lengths = np.zeros(len(self.starts) - 1, np.int64)
        lengths[filled] = np.add.reduceat(self.counts, self.starts[filled], dtype=np.int64)
        return lengths

    def counted(self, begin: int, end: int) -> Counter:
        """The terms of entries ``begin`` to ``end``, summed."""
        ids, inverse = np.unique(self.ids[self.starts[begin] : self.starts[end]], return_inverse=True)
        totals = np.bincount(inverse, weights=self.counts[self.starts[begin] : self.starts[end]])
        return Counter({self.vocabulary[i]: int(total) for i, total in zip(ids.tolist(), totals.tolist())})

    def grouped(self, bounds: np.ndarray) -> Terms:
        """The terms of groups of consecutive entries (the chunks of each document), summed: entries ``bounds[i]``
        to ``bounds[i + 1]`` make group i."""
        import scipy.sparse as sp

        starts = self.starts[bounds]
        rows = np.repeat(np.arange(len(bounds) - 1), np.diff(starts))
        entries = slice(int(starts[0]), int(starts[-1]))
        summed = sp.csr_matrix(
            (self.counts[entries], (rows, self.ids[entries])), shape=(len(bounds) - 1, len(self.vocabulary))
        )
        summed.sum_duplicates()
        ids, counts = summed.indices.astype(np.int32), summed.data.astype(np.int32)
        return Terms(self.vocabulary, ids, counts, summed.indptr.astype(np.int64))

    @classmethod
    def gather(cls, counted: Counted | dict[int, Counter], old_rows: np.ndarray, old: Terms | None) -> Terms:
        """The terms of ``len(old_rows)`` entries: entry i has those of ``old``'s entry ``old_rows[i]``, or, where
        that is -1, those ``counted`` holds for it (a Counted numbering terms after ``old``'s vocabulary, or a
        Counter by entry). Terms no entry uses any more are dropped."""
        if isinstance(counted, dict):
            counted = Counted.of(counted, old.vocabulary if old is not None else [])
        starts, runs = carried_layout(old.starts if old is not None else None, old_rows, counted.lengths())
        ids = np.empty(int(starts[-1]), dtype=np.int32)  # every entry is written below: carried over, or counted
        counts = np.empty(int(starts[-1]), dtype=np.int32)
        for begin, source, length in runs:
            ids[begin : begin + length] = old.ids[source : source + length]
            counts[begin : begin + length] = old.counts[source : source + length]
        fresh_ids, fresh_counts = np.frombuffer(counted.ids, np.int32), np.frombuffer(counted.counts, np.int32)
        for row, begin, end in counted.spans():
            ids[starts[row] : starts[row + 1]] = fresh_ids[begin:end]
            counts[starts[row] : starts[row + 1]] = fresh_counts[begin:end]
        vocabulary = counted.vocabulary
        used = np.bincount(ids, minlength=len(vocabulary)) > 0
        if not used.all():  # renumber the terms still used
            renumber = np.cumsum(used) - 1
            ids = renumber[ids].astype(np.int32)
            vocabulary = [term for term, keep in zip(vocabulary, used) if keep]
        return cls(vocabulary, ids, counts, starts)


class Counted:
    """Terms counted for some entries, in flat arrays (a term id and its count, entry after entry) rather than a
    Counter an entry: a first build of a million chunks holds them all. Term ids follow ``vocabulary`` (the old
    index's, to which new terms are added)."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.vocabulary = list(vocabulary)
        self.known = {term: i for i, term in enumerate(self.vocabulary)}
        self.rows, self.ends = array("q"), array("q")
        self.ids, self.counts = array("i"), array("i")

    @classmethod
    def of(cls, by_entry: dict[int, Counter], vocabulary: list[str]) -> Counted:
        counted = cls(vocabulary)
        for row, terms in by_entry.items():
            counted.add(row, terms)
        return counted

    def add(self, row: int, counted: Counter) -> None:
        """Entry ``row`` holds these terms, each so many times."""
        for term, count in counted.items():
            number = self.known.get(term)
            if number is None:
                number = self.known[term] = len(self.vocabulary)
                self.vocabulary.append(term)
            self.ids.append(number)
            self.counts.append(count)
        self.rows.append(row)
        self.ends.append(len(self.ids))

    def lengths(self) -> dict[int, int]:
        begins = [0, *self.ends[:-1]]
        return {row: end - begin for row, begin, end in zip(self.rows, begins, self.ends)}

    def spans(self) -> Iterator[tuple[int, int, int]]:
        """(entry, first, end) of each entry's terms in ``ids`` and ``counts``."""
        begin = 0
        for row, end in zip(self.rows, self.ends):
            yield row, begin, end
            begin = end


def carried_layout(
    old_starts: np.ndarray | None, old_rows: np.ndarray, new_lengths: dict[int, int]
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """The layout of a table of entries per chunk, chunk after chunk (sentences, terms), when chunk i brings the
    entries of the old table's chunk ``old_rows[i]`` (laid out by ``old_starts``), or, where that is -1, has
    ``new_lengths[i]`` new ones. Returns the new starts, and the entries brought as runs (where a run goes, where it
    comes from, its length): unchanged chunks come in long runs, copied at memory speed.
    """
    kept = np.flatnonzero(old_rows >= 0)
    lengths = np.zeros(len(old_rows), dtype=np.int64)
    if len(kept):
        lengths[kept] = old_starts[old_rows[kept] + 1] - old_starts[old_rows[kept]]
    for row, length in new_lengths.items():
        lengths[row] = length
    starts = np.concatenate([[0], np.cumsum(lengths)])
    breaks = np.flatnonzero((np.diff(kept) != 1) | (np.diff(old_rows[kept]) != 1)) + 1
    runs = []
    for first, last in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(kept)]])):
        if first < last:
            begin, end = int(starts[kept[first]]), int(starts[kept[last - 1] + 1])
            runs.append((begin, int(old_starts[old_rows[kept[first]]]), end - begin))
    return starts, runs


class KeywordIndex:
    """BM25 (bm25s, Lucene variant) over analyzed chunk texts."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, token_lists: list[list[str]], k1: float = 1.2, b: float = 0.75) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        if token_lists:
            retriever.index([tokens or [""] for tokens in token_lists], show_progress=False)
        return cls(retriever, len(token_lists))

    @classmethod
    def from_terms(cls, terms: Terms, k1: float = 1.2, b: float = 0.75):
        """The index ``build`` makes of the same terms (one entry per entry of ``terms``), computed from the term ids
        and counts in a few array operations (bm25s loops over documents in Python)."""
        import bm25s
        import scipy.sparse as sp

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        count = len(terms.starts) - 1
        if count <= 0:
            return cls(retriever, 0)
        vocabulary = {term: i for i, term in enumerate(terms.vocabulary)}
        empty = vocabulary.setdefault("", len(vocabulary))
        lengths = terms.lengths()
        blank = np.flatnonzero(lengths == 0)  # an entry with no term holds the empty one, as bm25s does
        lengths = np.maximum(lengths, 1)
        frequencies = np.bincount(terms.ids, minlength=len(vocabulary))
        frequencies[empty] += len(blank)
        idf = lucene_idf(count, frequencies).astype(retriever.dtype)
        norm = lucene_norm(lengths, lengths.mean(), k1, b)
        # idf * tf / (norm + tf) of every (entry, term), in the terms' order, computed in place in one array
        values = np.repeat(norm, np.diff(terms.starts))
        values += terms.counts
        np.divide(terms.counts, values, out=values)
        values *= idf[terms.ids]
        shape = (count, len(vocabulary))
        matrix = sp.csr_matrix((values.astype(retriever.dtype), terms.ids, terms.starts), shape=shape).tocsc()
        del values
        if len(blank):
            data = (idf[empty] * (1 / (norm[blank] + 1))).astype(retriever.dtype)
            if empty == len(vocabulary) - 1 and matrix.indptr[empty] == matrix.nnz:  # the last column, still empty
                matrix = sp.csc_matrix(
                    (
                        np.concatenate([matrix.data, data]),
                        np.concatenate([matrix.indices, blank.astype(matrix.indices.dtype)]),
                        np.concatenate([matrix.indptr[:-1], [matrix.nnz + len(blank)]]).astype(matrix.indptr.dtype),
                    ),
                    shape=shape,
                )
            else:
                matrix = matrix + sp.csc_matrix((data, (blank, np.full(len(blank), empty))), shape=shape)
        retriever.scores = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr, "num_docs": count}
        retriever.vocab_dict, retriever.nonoccurrence_array = vocabulary, None
        retriever.unique_token_ids_set = set(vocabulary.values())
        return cls(retriever, count)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query terms (zeros when no term is known)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in tokens if t in self._retriever.vocab_dict and t]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def document_frequencies(self) -> dict[str, int]:
        """How many chunks hold each term (the columns of BM25's sparse matrix are terms)."""
        if not self.size:
            return {}
        counts = np.diff(np.asarray(self._retriever.scores["indptr"]))
        return {term: int(counts[i]) for term, i in self._retriever.vocab_dict.items() if i < len(counts)}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "size.json").write_text(json.dumps({"size": self.size}))
        if self.size:
            self._retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, mmap: bool = False) -> KeywordIndex:
        import bm25s

        size = json.loads((directory / "size.json").read_text())["size"]
        if not size:
            return cls(None, 0)
        retriever = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False, verbosity=0)
        return cls(retriever, size)
