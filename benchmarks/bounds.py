"""Bounded work per request, against a server on this machine (the default corpus):

    python benchmarks/bounds.py [--logins 100]

1. A question of 1 MB: how long until it is refused, through the page (Gradio's /respond), the REST API and ask().
2. A user asking the gold questions one after another, alone (quiet), then while 20 clients send 200 questions of
   64 KB through the page: the user's p50 and p95 in both cases, and their ratio.
3. ``--logins`` wrong passwords from one address (a server with a users file): how long they take in all.
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
    parser.add_argument("--logins", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(ROOT / "tests"))
    import httpx
    from gradio_client import Client
    from helpers import free_port

    from assistant.answering.answers import ask
    from assistant.evaluation import load_gold
    from assistant.ui import App, launch

    server, _, settings = serve_copy("bounds")
    huge = "Qui " * 262_144  # 1 MB
    rows = []
    client = Client(server.url, verbose=False)
    started = time.perf_counter()
    try:
        history, *_ = client.predict(huge, [], 5, "extractive", api_name="/respond")
        said = str(history[-1]["content"])[:70]
    except Exception as exc:  # noqa: BLE001 - refused before the queue: the client raises
        said = repr(exc)[:70]
    rows.append(["page, Gradio client (/respond)", 1000 * (time.perf_counter() - started), said])
    started = time.perf_counter()
    body = {"data": [huge, [], 5, "extractive"], "fn_index": 0, "session_hash": "bench"}
    reply = httpx.post(server.url + "gradio_api/queue/join", json=body, timeout=60)
    rows.append(
        ["page, HTTP (queue/join)", 1000 * (time.perf_counter() - started), f"{reply.status_code} {reply.text[:60]}"]
    )
    started = time.perf_counter()
    reply = httpx.post(server.url + "api/v1/ask", json={"question": huge}, timeout=60)
    said = f"{reply.status_code} {reply.text[:60]}"
    rows.append(["REST (/api/v1/ask)", 1000 * (time.perf_counter() - started), said])
    started = time.perf_counter()
    try:
        ask(huge, settings=settings)
        said = "answered"
    except ValueError as exc:
        said = str(exc)[:70]
    rows.append(["ask() in Python", 1000 * (time.perf_counter() - started), said])
    print(f"Machine: {machine()}.\n\n## A 1 MB question\n")
    print(table(["door", "refused after (ms)", "what it says"], rows))

    questions = [item["question"] for item in load_gold()["answerable"]][:60]
    user = Client(server.url, verbose=False)

    def asking() -> list[float]:
        times = []
        for question in questions:
            started = time.perf_counter()
            user.predict(question, [], 5, "extractive", api_name="/respond")
            times.append(1000 * (time.perf_counter() - started))
        return times

    quiet = asking()
    flood, errors = "Pourquoi " * 8192, []  # 64 KB

    def flooding():
        attacker = Client(server.url, verbose=False)
        for _ in range(10):
            try:
                attacker.predict(flood, [], 5, "extractive", api_name="/respond")
            except Exception as exc:  # noqa: BLE001 - counted
                errors.append(repr(exc)[:100])

    attackers = [threading.Thread(target=flooding) for _ in range(20)]
    for attacker in attackers:
        attacker.start()
    loaded = asking()
    for attacker in attackers:
        attacker.join()
    q95, l95 = percentile(quiet, 0.95), percentile(loaded, 0.95)
    print("\n## A user's questions, quiet and while 20 clients send 200 questions of 64 KB\n")
    print(
        table(
            ["", "p50 ms", "p95 ms"],
            [
                ["quiet", statistics.median(quiet), q95],
                ["during the flood", statistics.median(loaded), l95],
                ["ratio", statistics.median(loaded) / statistics.median(quiet), l95 / q95],
            ],
        )
    )
    server.close()

    if args.logins:
        users = settings.index_dir.parent / "users.txt"
        users.write_text("alice:motdepasse\n", encoding="utf-8")
        guarded = launch(App(settings.with_(auth=str(users))), "127.0.0.1", free_port(), block=False)
        with httpx.Client(base_url=guarded.url, timeout=60) as http:
            started = time.perf_counter()
            refused = sum(
                http.post("/login", data={"username": "alice", "password": f"essai-{n}"}).status_code >= 400
                for n in range(args.logins)
            )
            seconds = time.perf_counter() - started
        guarded.close()
        print(f"\n## {args.logins} wrong logins from one address\n")
        headers = ["refused", "seconds in all", "seconds each, on average"]
        print(table(headers, [[refused, seconds, seconds / args.logins]]))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
