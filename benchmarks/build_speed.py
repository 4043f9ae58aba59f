"""Build speed, incremental rebuilds and query latency, on the default corpus and on corpus-beta.

    python benchmarks/build_speed.py                     # all of it (about 25 minutes on 2 cores)
    python benchmarks/build_speed.py --throughput-only   # the embedding throughput table only

Prints Markdown tables. Every speed figure is also given as a ratio to a baseline measured in the same run.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import sys
import time

from common import ROOT, SHARED, Timer, fresh, machine, need, percentile, table

from assistant.answers import ask
from assistant.api import build_index, open_retriever
from assistant.chunking import chunk_document
from assistant.documents import list_sources, read_document
from assistant.embeddings import get_embedder
from assistant.settings import Settings

QUESTIONS = [
    "Comment lancer une startup d'État ?",
    "Qu'est-ce que la phase d'investigation ?",
    "Comment recruter un coach ?",
    "Quels sont les standards de beta.gouv.fr ?",
    "Comment mesurer l'impact d'un service public numérique ?",
    "Qui finance les produits ?",
    "Qu'est-ce que l'innovation participative ?",
    "Où s'est tenu le barcamp Futurs Publics ?",
    "Comment obtenir un compte mail beta.gouv.fr ?",
    "Quelle est la durée de la phase de construction ?",
]


def copy_markdown(limit: int | None, target):
    beta = need(SHARED / "corpus-beta")
    pages = sorted(p for p in beta.rglob("*.md") if not any(part.startswith(".") for part in p.parts))
    for page in pages[:limit]:
        destination = target / page.relative_to(beta)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, destination)
    return len(pages[:limit])


def incremental(name: str, corpus, rows):
    index = corpus.parent / "index"
    settings = Settings(corpus_dir=corpus, index_dir=index)
    full = build_index(settings=settings)
    noop = build_index(settings=settings)
    edited = sorted(p for p in corpus.rglob("*") if p.suffix in (".md", ".txt"))[len(full.added) // 2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nUn paragraphe ajouté pour la mesure.\n", "utf-8")
    one = build_index(settings=settings)
    rows.append(
        [
            name,
            len(full.added),
            full.chunks,
            full.seconds,
            full.chunks / full.seconds,
            noop.seconds,
            f"{noop.seconds / full.seconds:.1%}",
            one.seconds,
            f"{one.seconds / full.seconds:.1%}",
            one.embedded,
        ]
    )
    return settings


def plain_encode_baseline(corpus):
    """Our chunks, embedded the way a tutorial would: SentenceTransformer.encode, default batch size 32."""
    settings = Settings()
    chunks = [
        c.indexed_text()
        for source, path in list_sources(corpus)
        for c in chunk_document(read_document(path, source), settings.chunk_size, settings.chunk_overlap)
    ]
    embedder = get_embedder(settings.embedding_model, "", "", 8)
    model = embedder.model
    model.encode(chunks[:16])
    rows = []
    with Timer() as plain:
        model.encode(chunks, batch_size=32, normalize_embeddings=True)
    rows.append(
        ["plain encode(), batch 32, input order", len(chunks), plain.seconds, len(chunks) / plain.seconds, "1.00x"]
    )
    for batch, quantize in ((8, ""), (16, ""), (32, ""), (16, "int8")):
        ours = get_embedder(settings.embedding_model, "", "", batch, quantize)
        ours.embed_documents(chunks[:16])
        with Timer() as t:
            ours.embed_documents(chunks)
        label = f"ours: length-sorted, batch {batch}" + (", int8 linear layers" if quantize else "")
        rows.append([label, len(chunks), t.seconds, len(chunks) / t.seconds, f"{plain.seconds / t.seconds:.2f}x"])
    return rows


def latency(settings, questions, label, rows):
    retriever = open_retriever(settings)
    retriever.search("échauffement", k=5)
    parts = {"embedding": [], "keyword": [], "dense": [], "fusion": []}
    retrieve_ms, ask_ms = [], []
    for _ in range(3):
        for question in questions:
            started = time.perf_counter()
            retriever.search(question, k=5)
            retrieve_ms.append(1000 * (time.perf_counter() - started))
            for part in parts:
                parts[part].append(1000 * getattr(retriever.last, part))
            started = time.perf_counter()
            ask(question, settings=settings, retriever=retriever, mode="extractive")
            ask_ms.append(1000 * (time.perf_counter() - started))
    rows.append(
        [
            label,
            len(retriever.index.chunks),
            statistics.median(retrieve_ms),
            percentile(retrieve_ms, 0.95),
            statistics.median(ask_ms),
            percentile(ask_ms, 0.95),
            *[statistics.median(v) for v in parts.values()],
            statistics.median(ask_ms) - statistics.median(retrieve_ms),
        ]
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(f"Machine: {machine()}\n")
    build_rows, latency_rows = [], []

    default = fresh("default") / "corpus"
    shutil.copytree(ROOT / "corpus", default)
    default_settings = incremental("default corpus (5 txt)", default, build_rows)

    md120 = fresh("md120") / "corpus"
    copy_markdown(120, md120)
    print("## Embedding throughput on the chunks of 120 Markdown pages\n")
    print(table(["method", "chunks", "seconds", "chunks/s", "speed-up"], plain_encode_baseline(md120)), "\n")
    if "--throughput-only" in sys.argv:
        return
    md120_settings = incremental("corpus-beta, 120 md pages", md120, build_rows)

    mdall = fresh("mdall") / "corpus"
    copy_markdown(None, mdall)
    incremental("corpus-beta, all md pages", mdall, build_rows)

    whole = fresh("whole") / "corpus"
    shutil.copytree(need(SHARED / "corpus-beta"), whole)
    whole_settings = Settings(corpus_dir=whole, index_dir=whole.parent / "index")
    report = build_index(settings=whole_settings)
    build_rows.append(
        [
            "corpus-beta, everything (md, pdf, docx)",
            len(report.added),
            report.chunks,
            report.seconds,
            report.chunks / report.seconds,
            "",
            "",
            "",
            "",
            "",
        ]
    )
    print("## Builds (full, no-op, one file edited)\n")
    print(
        table(
            [
                "corpus",
                "files",
                "chunks",
                "full s",
                "chunks/s",
                "no-op s",
                "no-op/full",
                "one-edit s",
                "one-edit/full",
                "re-embedded",
            ],
            build_rows,
        ),
        "\n",
    )
    print(f"Whole corpus-beta: {len(report.failed)} files left out:")
    for source, reason in sorted(report.failed.items()):
        print(f"- `{source}`: {reason}")
    print()

    latency(default_settings, QUESTIONS, "default corpus", latency_rows)
    latency(md120_settings, QUESTIONS, "corpus-beta 120 md", latency_rows)
    latency(whole_settings, QUESTIONS, "corpus-beta whole", latency_rows)
    print("## Query latency (ms; 10 questions x 3)\n")
    print(
        table(
            [
                "corpus",
                "chunks",
                "retrieve p50",
                "retrieve p95",
                "ask p50",
                "ask p95",
                "query embedding",
                "BM25",
                "FAISS",
                "fusion",
                "sentence selection",
            ],
            latency_rows,
        )
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
