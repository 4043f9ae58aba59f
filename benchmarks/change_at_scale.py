"""A one-file change in a large corpus: what a whole build costs, step by step.

    python benchmarks/change_at_scale.py [--chunks 100000] [--file-chunks 20]
    python benchmarks/change_at_scale.py --again 3 [--base /tmp/base]   # the built corpus, one-file builds only
    python benchmarks/change_at_scale.py --again 3 --base /tmp/old --base-root DIR   # an index of another format


A synthetic corpus of real French text (sentences of corpus-beta, shuffled into files of about ``--file-chunks``
chunks) is built once; then one file is edited and the build that follows, in a process of its own, is timed step
by step. Both report their peak resident memory, by stage. Vectors come from
a hashing embedder, so that the first build of a large corpus takes minutes and not days: every step but embedding
is the real one. What embedding the changed file costs with the default model is measured apart, on its texts.

With ``--again N``, the corpus and index built last time are kept, and N one-file builds are run, each in a process
of its own, each on another edit of the same file; with ``--base`` (a checkout of other code, same index format),
builds of that code alternate with builds of this tree, for a ratio measured in the same run. Code that writes
another index format builds on an index of its own: ``--base-root DIR`` (``--base-first-build DIR`` makes it, on a
copy of the corpus built last time, with that code).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from build_speed import StageClock
from common import CACHE, ROOT, SHARED, Timer, fresh, machine, need, table


class MemoryByStage:
    """A progress callback that samples this process's resident memory every 20 ms and keeps, for each stage of a
    build, the peak seen while it ran (and the peak of the whole run, in ``peak``)."""

    def __init__(self, first: str = "") -> None:
        import threading

        self.stage, self.peaks, self.peak = first or "before progress", {}, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    @staticmethod
    def resident() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            now = self.resident()
            self.peak = max(self.peak, now)
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), now)

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stage = stage

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class HashEmbedder:
    """384-dimensional unit vectors drawn from a hash of the text: instant, deterministic, not meaningful."""

    model_name, backend, quantize, query_prompt, document_prompt, dimension = "hash-384", "hash", "", "", "", 384

    def embed_documents(self, texts, progress=None, out=None):
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32) if out is None else out
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(self.dimension)
            vectors[row] = vector / np.linalg.norm(vector)
        if progress:
            progress(len(texts), len(texts))
        return vectors

    def embed_query(self, text):
        return self.embed_documents([text])[0]


def sentences_of_corpus_beta() -> list[str]:
    found = []
    for path in sorted(need(SHARED / "corpus-beta").rglob("*.md")):
        text = re.sub(r"\{%.*?%\}|<[^>]+>|[#*`|>\[\]()]", " ", path.read_text(encoding="utf-8", errors="replace"))
        found += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 60 <= len(s.strip()) <= 300]
    return found


def write_corpus(folder, chunks: int, file_chunks: int, sentences: list[str], rng) -> int:
    files = max(1, chunks // file_chunks)
    for number in range(files):
        paragraphs = []
        for part in range(file_chunks):
            body = " ".join(rng.choice(sentences) for _ in range(5))
            paragraphs.append(f"Fiche {number}, partie {part}. {body}")
        (folder / f"fiche-{number:07}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--file-chunks", type=int, default=20)
    parser.add_argument("--one-file-build", help=argparse.SUPPRESS)  # the second build, run in a process of its own
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # then a serving process, on the index built
    parser.add_argument("--again", type=int, default=0, help="one-file builds on the index built last time")
    parser.add_argument("--base", type=Path, help="with --again: a checkout of the code to compare with")
    parser.add_argument("--base-root", type=Path, help="with --base: its own corpus and index (another format)")
    parser.add_argument("--base-first-build", type=Path, help="with --base: copy the corpus there, build with --base")
    parser.add_argument("--first-build", help=argparse.SUPPRESS)  # a first build of that copy, by the base code
    parser.add_argument("--edit", default="revue", help=argparse.SUPPRESS)  # what the one-file build writes
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.one_file_build:
        return one_file_build(Path(args.one_file_build), args.edit)
    if args.serve:
        return serve(Path(args.serve))
    if args.first_build:
        return first_build(Path(args.first_build))
    if args.base_first_build:
        return base_first_build(args.base, args.base_first_build)
    if args.again:
        return again(args.again, args.base, args.base_root)

    root = fresh("change-at-scale")
    corpus = root / "corpus"
    corpus.mkdir()
    rng = random.Random(5)
    files = write_corpus(corpus, args.chunks, args.file_chunks, sentences_of_corpus_beta(), rng)
    report, seconds, memory = measured_first_build(root)
    print(f"Machine: {machine()}\n")
    print(f"{report.chunks:,} chunks in {files:,} files; first build {seconds:.0f} s (hashing embedder)\n")
    print(table(["stage of the first build", "peak resident MB"], [[k, v >> 20] for k, v in memory.peaks.items()]))
    print(f"\npeak resident memory of the first build: {memory.peak >> 20} MB\n")
    sys.stdout.flush()
    # The one-file build runs in a fresh process, as it would after a restart: its peak is its own.
    subprocess.run([sys.executable, __file__, "--one-file-build", str(root)], check=True)
    subprocess.run([sys.executable, __file__, "--serve", str(root)], check=True)


def serve(root: Path) -> None:
    """A serving process: the index loaded, 20 questions searched and answered; its peak resident memory."""
    from assistant.answering.answers import ask
    from assistant.index import load_index
    from assistant.retrieval import Retriever
    from assistant.settings import Settings

    memory = MemoryByStage("loading")
    with Timer() as loading:
        retriever = Retriever(load_index(root / "index"), Settings(), HashEmbedder())
    memory("answering", 0, 0)
    questions = [f"Quelles sont les actions de la fiche {n} sur l'innovation publique ?" for n in range(20)]
    with Timer() as answering:
        for question in questions:
            ask(question, retriever=retriever)
    memory.close()
    print(f"\nserving: index loaded in {loading.seconds:.1f} s, 20 questions answered in {answering.seconds:.1f} s;")
    print(f"peak resident memory of the serving process: {memory.peak >> 20} MB")


def run_with(tree: Path, *args: str) -> str:
    """This script, run with the code of ``tree``; what it printed."""
    env = {**os.environ, "ASSISTANT_CODE": str(tree), "PYTHONPATH": str(tree)}
    command = [sys.executable, __file__, *args]
    return subprocess.run(command, check=True, cwd=tree, env=env, capture_output=True, text=True).stdout


def base_first_build(base: Path, root: Path) -> None:
    """A copy of the corpus built last time, in ``root``, and a first build of it by the code of ``base``."""
    import shutil

    corpus = need(CACHE / "change-at-scale" / "corpus")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(corpus, root / "corpus")
    print(run_with(base.resolve(), "--first-build", str(root.resolve())))


def measured_first_build(root: Path):
    """A first build of ``root``'s corpus into ``root``/index: its report, its seconds, its memory by stage."""
    from assistant.builder import build_index
    from assistant.settings import Settings

    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    memory = MemoryByStage("loading")
    with Timer() as first:
        report = build_index(settings=settings, embedder=HashEmbedder(), progress=memory)
    memory.close()
    return report, first.seconds, memory


def first_build(root: Path) -> None:
    report, seconds, memory = measured_first_build(root)
    print(f"{report.chunks:,} chunks; first build {seconds:.0f} s, peak resident {memory.peak >> 20} MB")


def again(runs: int, base: Path | None, base_root: Path | None = None) -> None:
    """One-file builds on the index built last time, each in a process of its own (this tree's code, alternating
    with ``base``'s, on ``base_root`` if given), then a serving process of each; a table of their times and peaks,
    and each code's median."""
    root = CACHE / "change-at-scale"
    need(root / "index")
    codes = [("this", ROOT, root)]
    if base:
        if base_root and not (base_root / "index").is_dir():
            raise SystemExit(f"no index in {base_root}: make it with --base {base} --base-first-build {base_root}")
        codes.insert(0, ("base", base.resolve(), base_root.resolve() if base_root else root))

    found: dict[str, list[tuple[float, int]]] = {label: [] for label, _, _ in codes}
    for number in range(runs):
        for label, tree, folder in codes:
            output = run_with(tree, "--one-file-build", str(folder), "--edit", f"{label} {number} {time.time()}")
            seconds = float(re.search(r"\*\*whole build\*\* \| ([\d.]+)", output)[1])
            peak = int(re.search(r"process of its own\): (\d+) MB", output)[1])
            found[label].append((seconds, peak))
            print(f"run {number + 1}, {label}: {seconds:.1f} s, {peak:,} MB", flush=True)
    serving = {}
    for label, tree, folder in codes:  # on the index of the last build
        output = run_with(tree, "--serve", str(folder))
        serving[label] = int(re.search(r"serving process: (\d+) MB", output)[1])
        print(f"serving, {label}: {output.strip()}", flush=True)
    rows = []
    for label, results in found.items():
        seconds = sorted(value for value, _ in results)
        rows.append([label, ", ".join(f"{value:.1f}" for value, _ in results), seconds[len(seconds) // 2]])
        rows[-1] += [max(peak for _, peak in results), serving[label]]
    print(f"\nMachine: {machine()}\n")
    headers = ["code", "one-file builds (s)", "median (s)", "peak resident MB", "serving process MB"]
    print(table(headers, rows))
    if base:
        print(f"\nratio of medians, this / base: {rows[1][2] / rows[0][2]:.2f}x")


def one_file_build(root: Path, edit: str = "revue") -> None:
    from assistant.builder import build_index
    from assistant.chunking import chunk_document, is_quotable, split_sentences
    from assistant.embeddings import embedder_for
    from assistant.readers.documents import read_document
    from assistant.settings import Settings

    corpus = root / "corpus"
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    edited = corpus / "fiche-0000003.txt"
    text = re.sub(r"partie 7\b[^.]*\.", f"partie 7, {edit}.", edited.read_text(encoding="utf-8"), count=1)
    edited.write_text(text, encoding="utf-8")
    steps = StageClock(first="loading the current index")
    memory = MemoryByStage("loading the current index")

    def both(stage: str, done: int, total: int) -> None:
        steps(stage, done, total)
        memory(stage, done, total)

    with Timer() as change:
        report = build_index(settings=settings, embedder=HashEmbedder(), progress=both)
    steps("done", 0, 0)
    memory.close()
    rows = [
        [stage, value, f"{value / change.seconds:.0%}", memory.peaks.get(stage, 0) >> 20]
        for stage, value in steps.seconds.items()
    ]
    rows.append(["**whole build**", change.seconds, "100%", memory.peak >> 20])
    print(table(["step of the one-file build", "seconds", "share", "peak resident MB"], rows))
    print(f"\n{report.embedded} chunk(s) and {report.embedded_sentences} sentence(s) embedded")
    print(f"peak resident memory of the one-file build (a process of its own): {memory.peak >> 20} MB")

    # What the default model takes to embed that file's new texts, on this machine.
    document = read_document(edited, edited.name, settings)
    chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
    texts = [c.indexed_text() for c in chunks][: report.embedded]
    texts += [c.text[s:e] for c in chunks for s, e in split_sentences(c.text) if is_quotable(c.text[s:e])][
        : report.embedded_sentences
    ]
    model = embedder_for(Settings())
    model.embed_documents(["échauffement"])
    with Timer() as embedding:
        model.embed_documents(texts)
    print(f"embedding those {len(texts)} texts with {model.model_name}: {embedding.seconds:.2f} s")


if __name__ == "__main__":
    sys.path.insert(0, os.environ.get("ASSISTANT_CODE", str(ROOT)))  # --base: the code compared with
    main()
