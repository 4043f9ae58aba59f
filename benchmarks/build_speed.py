"""Build speed: the default model against MiniLM in the same run, and incremental rebuilds.

    python benchmarks/build_speed.py          # default corpus and 120 corpus-beta pages (about 10 minutes)
    python benchmarks/build_speed.py --whole  # also every corpus-beta file (md, pdf, docx) with the default model

Prints Markdown tables. A build embeds each chunk (for retrieval) and each quotable sentence (so that answering
embeds only the question); the table splits the time between the two. Speed figures are also given as ratios to
MiniLM measured in the same run.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time

from common import ROOT, SHARED, fresh, machine, need, table

from assistant.api import build_index
from assistant.profiles import DEFAULT_MODEL, MINILM
from assistant.settings import Settings


def copy_markdown(limit: int | None, target):
    beta = need(SHARED / "corpus-beta")
    pages = sorted(p for p in beta.rglob("*.md") if not any(part.startswith(".") for part in p.parts))
    for page in pages[:limit]:
        destination = target / page.relative_to(beta)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, destination)
    return len(pages[:limit])


class StageClock:
    """A progress callback that adds up the time spent in each stage of a build; ``first`` names the time before
    the first progress call (not counted when empty)."""

    def __init__(self, first: str = "") -> None:
        self.seconds: dict[str, float] = {}
        self.stage, self.since = first, time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.stage:
            self.seconds[self.stage] = self.seconds.get(self.stage, 0.0) + now - self.since
        self.stage, self.since = stage, now


def full_build(corpus, model: str, name: str):
    settings = Settings(corpus_dir=corpus, index_dir=corpus.parent / f"index-{name}", embedding_model=model)
    clock = StageClock()
    report = build_index(settings=settings, full=True, progress=clock)
    clock("done", 0, 0)
    return settings, report, clock.seconds


def incremental(settings: Settings, corpus, full_seconds: float) -> list:
    noop = build_index(settings=settings)
    edited = sorted(p for p in corpus.rglob("*") if p.suffix in (".md", ".txt"))[len(noop.unchanged) // 2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nUn paragraphe ajouté pour la mesure.\n", "utf-8")
    one = build_index(settings=settings)
    return [
        noop.seconds,
        f"{noop.seconds / full_seconds:.1%}",
        one.seconds,
        f"{one.seconds / full_seconds:.1%}",
        f"{one.embedded} + {one.embedded_sentences}",
    ]


def build_row(label: str, name: str, report, stages: dict, baseline: float | None) -> list:
    chunks_per_second = report.chunks / report.seconds
    return [
        label,
        name,
        len(report.added),
        report.chunks,
        report.embedded_sentences,
        report.seconds,
        stages.get("embedding", 0.0),
        stages.get("sentences", 0.0),
        chunks_per_second,
        f"{chunks_per_second / baseline:.2f}x" if baseline else "",
    ]


def compare(label: str, corpus, rows: list, incremental_rows: list) -> None:
    baseline = None
    for model, name in ((MINILM, "minilm"), (DEFAULT_MODEL, "e5")):
        settings, report, stages = full_build(corpus, model, name)
        baseline = baseline or report.chunks / report.seconds
        rows.append(build_row(label, name, report, stages, baseline))
        if model == DEFAULT_MODEL:
            incremental_rows.append([label, report.seconds, *incremental(settings, corpus, report.seconds)])


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(f"Machine: {machine()}\n")
    rows, incremental_rows = [], []

    default = fresh("default") / "corpus"
    shutil.copytree(ROOT / "corpus", default)
    compare("default corpus (5 txt)", default, rows, incremental_rows)

    md120 = fresh("md120") / "corpus"
    copy_markdown(120, md120)
    compare("corpus-beta, 120 md pages", md120, rows, incremental_rows)

    if "--whole" in sys.argv:
        whole = fresh("whole") / "corpus"
        shutil.copytree(need(SHARED / "corpus-beta"), whole)
        settings, report, stages = full_build(whole, DEFAULT_MODEL, "e5")
        rows.append(build_row("corpus-beta, everything", "e5", report, stages, None))
        print(f"Whole corpus-beta: {len(report.failed)} files left out:")
        for source, reason in sorted(report.failed.items()):
            print(f"- `{source}`: {reason}")
        print()

    print("## Full builds, MiniLM against the default model (multilingual-e5-small, 4-bit)\n")
    headers = [
        "corpus",
        "model",
        "files",
        "chunks",
        "sentences embedded",
        "full s",
        "chunk vectors s",
        "sentence vectors s",
    ]
    print(table([*headers, "chunks/s", "vs MiniLM"], rows), "\n")
    print("## Incremental rebuilds with the default model\n")
    headers = [
        "corpus",
        "full s",
        "no-op s",
        "no-op/full",
        "one edit s",
        "one edit/full",
        "embedded (chunks + sentences)",
    ]
    print(table(headers, incremental_rows))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
