"""OCR of scanned pages: character error rate, seconds per page, and what a one-page change costs a rebuild.

Pages are made here from the default corpus's French text (wrapped, turned by 0.6 degree, with dust), as a scanner
would give them at 300 and 150 dpi, assembled into PDFs without a text layer.

1. Character error rate: edit distance between what OCR reads and the page's text (whitespace folded), over its
   length, at each resolution; and seconds per page.
2. A 50-page scanned PDF: its first build (OCR and embedding, real model), then a build after one page changed.

    python benchmarks/ocr.py [--pages 50]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import textwrap
import time

from common import ROOT, fresh, machine, table

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def distance(a: str, b: str) -> int:
    """Levenshtein distance, by rows."""
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, start=1):
        current = [i]
        for j, right in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right)))
        previous = current
    return previous[-1]


def folded(text: str) -> str:
    return " ".join(text.split())


def page_texts(count: int) -> list[str]:
    """``count`` pages of about 700 characters of the default corpus's prose."""
    words = " ".join(
        (ROOT / "corpus" / name).read_text(encoding="utf-8")
        for name in sorted(p.name for p in (ROOT / "corpus").glob("*.txt"))
    ).split()
    pages, start = [], 0
    for _ in range(count):
        page, length = [], 0
        while length < 700:
            word = words[start % len(words)]
            page.append(word)
            length += len(word) + 1
            start += 1
        pages.append("\n".join(textwrap.wrap(" ".join(page), 60)))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--sample", type=int, default=6, help="pages read for the error rate, at each resolution")
    args = parser.parse_args()
    from helpers import make_scanned_pdf

    from assistant.api import build_index
    from assistant.readers.documents import read_document
    from assistant.settings import Settings

    root = fresh("ocr")
    texts = page_texts(args.pages)
    rows = []
    for dpi in (300, 150):
        corpus = root / f"corpus-{dpi}"
        corpus.mkdir()
        make_scanned_pdf(corpus / "scan.pdf", texts[: args.sample], dpi=dpi)
        settings = Settings(corpus_dir=corpus, index_dir=root / f"index-{dpi}")
        started = time.perf_counter()
        document = read_document(corpus / "scan.pdf", "scan.pdf", settings)
        seconds = time.perf_counter() - started
        starts = [offset for offset, _ in document.pages] + [len(document.text)]
        rates = []
        for number, truth in enumerate(texts[: args.sample]):
            read = folded(document.text[starts[number] : starts[number + 1]])
            rates.append(distance(read, folded(truth)) / len(folded(truth)))
        confidence = statistics.mean(confidence for _, confidence, _ in document.ocr)
        rows.append([f"{dpi} dpi", statistics.mean(rates), max(rates), seconds / args.sample, confidence])
    print(f"Machine: {machine()}.\n\n## OCR of generated scanned pages ({args.sample} pages a resolution)\n")
    print(table(["scan", "character error rate", "worst page", "seconds a page", "mean confidence"], rows))

    corpus = root / "corpus-50"
    corpus.mkdir()
    make_scanned_pdf(corpus / "rapport-scanne.pdf", texts, dpi=300)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index-50")
    started = time.perf_counter()
    first = build_index(settings=settings)
    first_seconds = time.perf_counter() - started
    changed = list(texts)
    changed[args.pages // 2] += "\nUne phrase ajoutée à cette page pour sa nouvelle version."
    make_scanned_pdf(corpus / "rapport-scanne.pdf", changed, dpi=300)
    started = time.perf_counter()
    again = build_index(settings=settings)
    again_seconds = time.perf_counter() - started
    read = len(list((settings.index_dir / "ocr").glob("*.json")))
    assert again.updated == ["rapport-scanne.pdf"], again.summary()
    print(f"\n## A {args.pages}-page scanned PDF, then one page changed\n")
    print(
        table(
            ["build", "seconds", "share of the first", "pages read by OCR in all", "chunks"],
            [
                ["first", first_seconds, 1.0, args.pages, first.chunks],
                ["one page changed", again_seconds, again_seconds / first_seconds, read, again.chunks],
            ],
        )
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
