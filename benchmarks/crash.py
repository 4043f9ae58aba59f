"""kill -9 at random moments of builds: the index must stay loadable every time.

    python benchmarks/crash.py [--rounds 30]

Each round edits a document, starts `assistant build` (a full rebuild every third round) in a child process,
kills it with SIGKILL at a random moment within the time a build takes, then loads the index.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time

from common import ROOT, fresh, machine, table

from assistant.api import build_index
from assistant.index import load_index


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    root = fresh("crash")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    build_index(corpus, index)
    command = [sys.executable, "-m", "assistant.cli", "build", "--corpus", str(corpus), "--index", str(index)]
    started = time.perf_counter()
    subprocess.run([*command, "--full"], check=True, capture_output=True)
    full_seconds = time.perf_counter() - started
    chance = random.Random(11)
    loadable, killed, rows = 0, 0, []
    for round_number in range(args.rounds):
        edited = corpus / "barcamp-futurs-publics-2016.txt"
        edited.write_text(edited.read_text(encoding="utf-8") + f"\nAjout numéro {round_number}.\n", encoding="utf-8")
        full = round_number % 3 == 0
        child = subprocess.Popen(
            [*command, *(["--full"] if full else [])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        delay = chance.uniform(0.05, full_seconds)
        time.sleep(delay)
        finished = child.poll() is not None
        if not finished:
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        child.wait()
        try:
            chunks = len(load_index(index).chunks)
            loadable += 1
            outcome = f"loadable, {chunks} chunks"
        except Exception as exc:  # noqa: BLE001 - every failure is the result
            outcome = f"NOT loadable: {exc}"
        rows.append(
            [
                round_number + 1,
                "full" if full else "incremental",
                f"{delay:.2f}",
                "finished" if finished else "killed",
                outcome,
            ]
        )
    print(f"Machine: {machine()}. A full build takes {full_seconds:.1f} s here.\n")
    print(table(["round", "build", "kill after s", "build", "index"], rows))
    print(f"\nIndex loadable after {loadable}/{args.rounds} rounds ({killed} builds killed mid-way).")
    build_index(corpus, index)  # and a plain build afterwards brings it up to date
    print(f"After a plain build: {len(load_index(index).chunks)} chunks, loadable.")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
