"""Many users at once during rebuilds: 20 clients x 10 questions through the app's HTTP API.

    python benchmarks/load.py [--clients 20] [--questions 10]

The app runs on a copy of the default corpus; meanwhile another client edits a document and asks for a rebuild
again and again. Errors are exceptions and answers that carry an error message.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time

from common import ROOT, machine, percentile, serve_copy, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(ROOT / "tests"))
    from gradio_client import Client

    from assistant.evaluation import load_gold

    demo, _, settings = serve_copy("load", watch="1")
    url = demo.url
    questions = [item["question"] for item in load_gold()["answerable"]]
    latencies, errors, rebuilds, done = [], [], [0], threading.Event()

    def rebuild_forever():
        client = Client(url, verbose=False)
        edited = settings.corpus_dir / "enap-2016-innovation-publique-ere-numerique.txt"
        while not done.is_set():
            edited.write_text(edited.read_text(encoding="utf-8") + f"\nRévision {rebuilds[0]}.\n", encoding="utf-8")
            client.predict(api_name="/rebuild")
            rebuilds[0] += 1

    def ask_many(number: int):
        client = Client(url, verbose=False)
        for i in range(args.questions):
            question = questions[(number * args.questions + i) % len(questions)]
            started = time.perf_counter()
            try:
                history, *_ = client.predict(question, [], 5, "extractive", api_name="/respond")
                if "⚠️" in str(history[-1]["content"]):
                    errors.append(str(history[-1]["content"])[:200])
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                errors.append(repr(exc)[:200])
            latencies.append(1000 * (time.perf_counter() - started))

    builder = threading.Thread(target=rebuild_forever)
    builder.start()
    clients = [threading.Thread(target=ask_many, args=(n,)) for n in range(args.clients)]
    started = time.perf_counter()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    elapsed = time.perf_counter() - started
    done.set()
    builder.join()
    demo.close()
    print(f"Machine: {machine()}.\n")
    row = [
        args.clients,
        len(latencies),
        len(errors),
        rebuilds[0],
        statistics.median(latencies),
        percentile(latencies, 0.95),
        len(latencies) / elapsed,
    ]
    print(table(["clients", "questions", "errors", "rebuilds meanwhile", "p50 ms", "p95 ms", "questions/s"], [row]))
    for error in errors[:5]:
        print(f"- {error}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
