"""The keyword side: a French analyzer (elisions, stop words, Snowball stemming, accent folding) and BM25.

>>> analyze("L'innovation participative des ministères, qu'en pense-t-on ?")
['innov', 'particip', 'minister', 'pens']
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections import Counter
from functools import lru_cache

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


class Counted:
    """Terms counted for some entries, in flat arrays (a term id and its count, entry after entry) rather than a
    Counter an entry: a first build of a million chunks holds them all. Term ids follow ``vocabulary`` (the old
    index's, to which new terms are added)."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.vocabulary = list(vocabulary)
        self.known = {term: i for i, term in enumerate(self.vocabulary)}
        self.rows, self.ends = array("q"), array("q")
        self.ids, self.counts = array("i"), array("i")

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

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where each entry's terms start (and the last ends), and every term id and count, entry after entry."""
        ends = np.frombuffer(self.ends, np.int64) if len(self.ends) else np.zeros(0, np.int64)
        ids = np.frombuffer(self.ids, np.int32) if len(self.ids) else np.zeros(0, np.int32)
        counts = np.frombuffer(self.counts, np.int32) if len(self.counts) else np.zeros(0, np.int32)
        return np.concatenate([[0], ends]).astype(np.int64), ids, counts


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
    """BM25 as bm25s builds it (Lucene variant), through its public API: what the index's own scoring
    (assistant/postings.py) is tested equal to, and the baseline of benchmarks."""

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

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query terms (zeros when no term is known)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in tokens if t in self._retriever.vocab_dict and t]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)
