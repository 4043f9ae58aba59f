"""Time to the first answer of a first build: the code of this tree against another tree, in the same run.

    git worktree add /tmp/base <commit>
    python benchmarks/searchable_sooner.py --base /tmp/base   # 120 corpus-beta pages (about 25 minutes)

For each tree, a process with the model loaded waits for the index while another process builds it from scratch;
as soon as a generation is current it asks the first question, and the time from the build's start to that answer
is the time to the first answer. Once the build has ended, it asks the other questions of
benchmarks/gold-beta.json whose page is among those indexed, and reports their median time (ask() p50). Prints a
Markdown table.

``--together`` runs the two trees at once, each on a core of its own (its processes pinned there, one engine
thread): this machine's speed drifts over minutes, and two codes measured one after the other do not see the same
machine; side by side, they do.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from build_speed import copy_markdown
from common import ROOT, fresh, machine, percentile, table

POLL = 0.05  # seconds between two looks at the index folder


def questions(corpus: Path) -> list[str]:
    gold = json.loads((ROOT / "benchmarks" / "gold-beta.json").read_text(encoding="utf-8"))
    return [item["question"] for item in gold["answerable"] if (corpus / item["source"]).is_file()]


def waiter(corpus: Path, index: Path, asked: list[str]) -> dict:
    """In the tree under test: load the model, start the build in another process, answer as soon as it can."""
    from assistant.api import ask
    from assistant.embeddings import embedder_for
    from assistant.index import current_generation
    from assistant.settings import Settings

    settings = Settings(corpus_dir=corpus, index_dir=index)
    embedder_for(settings).embed_query("une question pour charger le modèle")
    building = f"from assistant.api import build_index; build_index({str(corpus)!r}, {str(index)!r})"
    command = [sys.executable, "-c", building]
    started = time.perf_counter()
    build = subprocess.Popen(command, env=os.environ)
    while current_generation(index) is None:
        if build.poll() is not None:
            raise SystemExit(f"the build ended ({build.returncode}) before any generation was published")
        time.sleep(POLL)
    searchable = time.perf_counter() - started
    answer = ask(asked[0], settings=settings)
    first = time.perf_counter() - started
    build.wait()
    built = time.perf_counter() - started
    times, statuses = [], []
    for question in asked[1:]:  # the first one's vector is in the query cache now
        begin = time.perf_counter()
        statuses.append(ask(question, settings=settings).status)
        times.append(time.perf_counter() - begin)
    return {
        "searchable": searchable,
        "first_answer": first,
        "first_status": answer.status,
        "build": built,
        "ask_p50": percentile(times, 0.5),
        "answered": statuses.count("answered"),
    }


def measure(tree: Path, label: str, corpus: Path, asked: list[str], core: int | None = None) -> dict:
    """The waiter's figures for ``tree``; with ``core``, it and every process it starts run on that core alone."""
    index = fresh(f"searchable-sooner/index-{label}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT / "benchmarks")])}
    pinned = None if core is None else functools.partial(os.sched_setaffinity, 0, {core})
    if core is not None:
        env["OMP_NUM_THREADS"] = "1"
    command = [sys.executable, __file__, "--wait", str(corpus), str(index), json.dumps(asked)]
    run = subprocess.run(command, env=env, cwd=tree, check=True, stdout=subprocess.PIPE, text=True, preexec_fn=pinned)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--this", type=Path, default=ROOT, help="the code measured against it (this tree)")
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--together", action="store_true", help="both trees at once, each on a core of its own")
    parser.add_argument("--wait", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wait:
        corpus, index, asked = args.wait
        print(json.dumps(waiter(Path(corpus), Path(index), json.loads(asked))))
        return
    if args.base is None:
        parser.error("--base is required: a checkout of the code to compare with")
    corpus = fresh("searchable-sooner/corpus")
    pages = copy_markdown(args.pages, corpus)
    asked = questions(corpus)
    how = "side by side, a core each" if args.together else "one after the other"
    print(f"{pages} corpus-beta pages, {len(asked)} questions, the two trees {how}; {machine()}\n")
    trees = [(args.base.resolve(), "base"), (args.this.resolve(), "this")]
    if args.together:
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) < 2:
            parser.error("--together needs two cores")
        with ThreadPoolExecutor(2) as pool:
            placed = zip(trees, cores)
            running = [pool.submit(measure, tree, label, corpus, asked, core) for (tree, label), core in placed]
            base, this = (future.result() for future in running)
    else:
        base, this = (measure(tree, label, corpus, asked) for tree, label in trees)
    rows = []
    for label, found in (("before (--base)", base), ("after (--this)", this)):
        rows.append(
            [
                label,
                f"{found['searchable']:.1f}",
                f"{found['first_answer']:.1f}",
                f"{found['first_answer'] / base['first_answer']:.2f}x",
                found["first_status"],
                f"{found['build']:.1f}",
                f"{found['ask_p50'] * 1000:.0f}",
                f"{found['ask_p50'] / base['ask_p50']:.2f}x",
                f"{found['answered'] + (found['first_status'] == 'answered')}/{len(asked)}",
            ]
        )
    headers = ["code", "index current (s)", "first answer (s)", "ratio", "its status", "whole build (s)"]
    headers += ["ask p50 (ms)", "ratio", "answered"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
