"""Questions on three corpora, and the answering's figures on them: what calibrate.py fits on and reports.

    python benchmarks/corpora.py [--corpus gold piaf beta]

- ``gold``: the default corpus (five documents) and its gold set, ``assistant/gold/default.json`` (dev and test).
- ``piaf``: PIAF's 530 Service-Public.fr fiches and 105 questions with their answer span. Each question is asked
  twice: once answerable, once with its fiche left out of what is retrieved, where it stays a question of the field
  whose answer is gone (in-domain unanswerable).
- ``beta``: corpus-beta (beta.gouv.fr's documentation, 416 pages) and ``benchmarks/gold-beta.json``.

Every figure comes from the public ``ask()``, on an index built in ``benchmarks/.cache``, so that the same script
measures any version of the code. Prints one table: abstained (answerable, in-domain unanswerable, out of the
field), the expected quote or answer span quoted, the right document cited, quotes verbatim.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from common import CACHE, ROOT, SHARED, machine, need, table

sys.path.insert(0, str(ROOT))

from assistant.answering.answers import ask  # noqa: E402
from assistant.api import build_index  # noqa: E402
from assistant.evaluation import load_gold, normalize  # noqa: E402
from assistant.index import load_index  # noqa: E402
from assistant.keywords import analyze  # noqa: E402
from assistant.retrieval import Retriever  # noqa: E402
from assistant.settings import Settings  # noqa: E402

NAMES = ("gold", "piaf", "beta")


@dataclass(frozen=True)
class Item:
    """One question: ``kind`` is "answerable" (open questions too), "in_domain" or "out_of_domain"."""

    question: str
    kind: str
    source: str = ""
    snippets: tuple[str, ...] = ()
    split: str = "test"
    exclude: str = ""  # a document left out of what is retrieved (PIAF's leave-the-fiche-out questions)
    open: bool = False


@dataclass
class Corpus:
    name: str
    settings: Settings
    items: list[Item] = field(default_factory=list)
    _retriever: Retriever | None = None

    def retriever(self) -> Retriever:
        if self._retriever is None:
            build_index(settings=self.settings)
            self._retriever = Retriever(load_index(self.settings.index_dir), self.settings)
        return self._retriever

    def for_item(self, item: Item) -> Retriever:
        """The retriever to ask ``item`` with: one that never returns the left-out document, if there is one."""
        retriever = self.retriever()
        if not item.exclude:
            return retriever
        leaving = Excluding(retriever.index, retriever.settings, retriever.embedder)
        leaving.profile, leaving.exclude = retriever.profile, item.exclude
        return leaving


class Excluding(Retriever):
    """A retriever whose results never hold one document, as if it were not in the corpus: nor do the term
    statistics answering reads (how many passages hold a term, which documents hold a name). The passages' BM25
    scores still count it, as the index does."""

    exclude = ""

    @property
    def key(self) -> tuple:
        return (*super().key, "without", self.exclude)

    def term_frequencies(self) -> tuple[int, dict[str, int]]:
        total, frequencies = super().term_frequencies()
        frequencies = dict(frequencies)
        chunks = [chunk for chunk in self.index.chunks if chunk.source == self.exclude]
        for chunk in chunks:
            for term in set(analyze(chunk.indexed_text())):
                if frequencies.get(term, 0) > 1:
                    frequencies[term] -= 1
                else:
                    frequencies.pop(term, None)
        return total - len(chunks), frequencies

    def documents_holding(self, term: str):
        held = super().documents_holding(term).copy()
        held[self.index.manifest["documents"].index(self.exclude)] = False
        return held

    def search(self, query, k=5, source=None, keyword_weight=None, document_weight=None):
        found = super().search(query, k + 10, source, keyword_weight, document_weight)
        return [p for p in found if p.source != self.exclude][:k]

    def following(self, passage):
        after = super().following(passage)
        return None if after is None or after.source == self.exclude else after


def _gold_items(gold: dict) -> list[Item]:
    items = []
    for name in ("answerable", "open"):
        for entry in gold.get(name, []):
            snippets = tuple(entry.get("snippets") or [entry["snippet"]])
            split = entry.get("split", "test")
            items.append(Item(entry["question"], "answerable", entry["source"], snippets, split, open=name == "open"))
    for entry in gold.get("unanswerable", []):
        items.append(Item(entry["question"], entry.get("kind", "in_domain"), split=entry.get("split", "test")))
    return items


def piaf_corpus(data: dict | None = None) -> tuple[Path, list[Item]]:
    """PIAF's fiches as text files in the cache, and its questions, each answerable and left out."""
    data = data or json.loads(need(SHARED / "bench" / "piaf-spf" / "spf_qr_test.json").read_text("utf-8"))
    folder = CACHE / "piaf" / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for fiche in data["data"]:
        text = "\n\n".join(p["context"] for p in fiche["paragraphs"])
        path = folder / f"{fiche['title']}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        for paragraph in fiche["paragraphs"]:
            for qa in paragraph.get("qas", []):
                if qa.get("answers"):
                    source, span = path.name, qa["answers"][0]["text"]
                    items.append(Item(qa["question"], "answerable", source, (span,)))
                    items.append(Item(qa["question"], "in_domain", exclude=source))
    return folder, items


def load(name: str, model: str | None = None) -> Corpus:
    tag = (model or "default").replace("/", "_")
    if name == "gold":
        settings = Settings.from_env(corpus_dir=ROOT / "corpus", index_dir=CACHE / "gold" / f"index-{tag}")
        return Corpus(name, settings.with_(embedding_model=model), _gold_items(load_gold()))
    if name == "piaf":
        folder, items = piaf_corpus()
        settings = Settings.from_env(corpus_dir=folder, index_dir=CACHE / "piaf" / f"index-{tag}")
        return Corpus(name, settings.with_(embedding_model=model), items)
    if name == "beta":
        gold = json.loads((ROOT / "benchmarks" / "gold-beta.json").read_text(encoding="utf-8"))
        corpus = need(SHARED / "corpus-beta")
        settings = Settings.from_env(corpus_dir=corpus, index_dir=CACHE / "beta" / f"index-{tag}")
        return Corpus(name, settings.with_(embedding_model=model), _gold_items(gold))
    raise ValueError(f"no corpus {name!r}: one of {', '.join(NAMES)}")


def figures(corpus: Corpus, items: list[Item] | None = None) -> dict:
    """Ask every item with the corpus's retriever (and its profile, as set): the figures of calibrate.py."""
    items = corpus.items if items is None else items
    counts = {"answerable": [], "in_domain": [], "out_of_domain": []}
    quoted, cited, verbatim, quotes = [], [], 0, 0
    for item in items:
        retriever = corpus.for_item(item)
        answer = ask(item.question, settings=corpus.settings, retriever=retriever, mode="extractive")
        counts[item.kind].append(answer.abstained)
        quotes += len(answer.citations)
        verbatim += sum(c.quote in c.passage.text for c in answer.citations)
        if item.kind == "answerable":
            said = normalize(" ".join(c.quote for c in answer.citations if c.passage.source == item.source))
            quoted.append(any(normalize(snippet) in said for snippet in item.snippets))
            cited.append(any(c.passage.source == item.source for c in answer.citations))

    def share(values):
        return sum(values) / len(values) if values else None

    return {
        "answerable": len(counts["answerable"]),
        "abstained_answerable": share(counts["answerable"]),
        "expected_quote": share(quoted),
        "right_document_cited": share(cited),
        "in_domain": len(counts["in_domain"]),
        "abstained_in_domain": share(counts["in_domain"]),
        "out_of_domain": len(counts["out_of_domain"]),
        "abstained_out_of_domain": share(counts["out_of_domain"]),
        "quotes_verbatim": verbatim / quotes if quotes else 1.0,
    }


COLUMNS = [
    "abstained_answerable",
    "abstained_in_domain",
    "abstained_out_of_domain",
    "expected_quote",
    "right_document_cited",
    "quotes_verbatim",
]


def row(label: str, found: dict) -> list:
    cells = ["-" if found[c] is None else found[c] for c in COLUMNS]
    return [label, f"{found['answerable']} / {found['in_domain']} / {found['out_of_domain']}", *cells]


HEADERS = ["corpus", "answerable / in-domain / out", "abst. answerable", "abst. in-domain", "abst. out"]
HEADERS += ["expected quote", "right doc cited", "verbatim"]


def evaluation_items(corpus: Corpus) -> list[Item]:
    """What a corpus is judged on: the gold set's test split (its dev split is fitted on); everything elsewhere."""
    return [item for item in corpus.items if corpus.name != "gold" or item.split == "test"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", nargs="+", default=list(NAMES), choices=NAMES)
    parser.add_argument("--model", default=None)
    parser.add_argument("--dev", action="store_true", help="the gold set's dev split too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for name in args.corpus:
        corpus = load(name, args.model)
        rows.append(row(name + (" (test)" if name == "gold" else ""), figures(corpus, evaluation_items(corpus))))
        if name == "gold" and args.dev:
            rows.append(row("gold (dev)", figures(corpus, [i for i in corpus.items if i.split == "dev"])))
    print(f"Machine: {machine()}.\n")
    print(table(HEADERS, rows))


if __name__ == "__main__":
    main()
