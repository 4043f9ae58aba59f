"""From a file dropped in the corpus folder to its first answer, with the folder watched as the app does.

    python benchmarks/watch_latency.py [--beta]

On the default corpus, and with --beta on all of corpus-beta (its first build takes several minutes, then it is
kept in benchmarks/.cache). The time runs from the end of the copy to the first retrieve() that finds the file;
it includes the watcher's quiet period (ASSISTANT_WATCH_QUIET, 2 s by default).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time

from common import CACHE, ROOT, SHARED, machine, need, table

from assistant.api import build_index, retrieve
from assistant.settings import Settings
from assistant.watch import IndexState, Watcher

DROPPED = "Le laboratoire Azalée accompagne les communes du Cantal dans leurs projets de services publics numériques."


def measure(label: str, source, rows: list) -> None:
    root = CACHE / f"watch-{label.split()[0]}"
    corpus = root / "corpus"
    if not corpus.exists():
        shutil.copytree(source, corpus, copy_function=shutil.copyfile)  # a copy we may write to
    for folder in [corpus, *(p for p in corpus.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    (corpus / "azalee.txt").unlink(missing_ok=True)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    report = build_index(settings=settings)
    watcher = Watcher(settings, IndexState()).start()
    time.sleep(1)
    try:
        (corpus / "azalee.txt").write_text(DROPPED, encoding="utf-8")
        dropped = time.perf_counter()
        while True:
            if retrieve("Qui accompagne les communes du Cantal ?", k=1, settings=settings)[0].source == "azalee.txt":
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - dropped
    finally:
        watcher.stop()
        (corpus / "azalee.txt").unlink(missing_ok=True)
    rows.append([label, report.chunks, settings.watch_quiet, seconds])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beta", action="store_true", help="also on all of corpus-beta")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: list = []
    measure("default corpus", ROOT / "corpus", rows)
    if args.beta:
        measure("corpus-beta (md, pdf, docx)", need(SHARED / "corpus-beta"), rows)
    print(f"Machine: {machine()}.\n")
    print(table(["corpus", "chunks", "quiet period s", "dropped file to first answer s"], rows))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
