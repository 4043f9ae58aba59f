"""The HTTP doors: what HTTP costs over an in-process ask(), and OpenAI-client streams during rebuilds.

    python benchmarks/doors.py [--clients 20] [--questions 5]

1. The gold set's answerable questions, asked in process (``assistant.ask``) and through ``POST /api/v1/ask`` of a
   server on this machine, alternately, in one run: p50 of each and the difference.
2. ``--clients`` threads, each with its own `openai` client, stream at least ``--questions`` answers each from
   ``/v1/chat/completions``, and go on until the index has been rebuilt twice (a document edited before each
   build): errors (an exception, or a stream without its citations), p50 and p95 of a whole stream.
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
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(ROOT / "tests"))
    import httpx
    from openai import OpenAI

    from assistant.answering.answers import ask
    from assistant.evaluation import load_gold
    from assistant.retrieval import open_retriever
    from assistant.watch import build_now

    server, app, settings = serve_copy("doors")
    questions = [item["question"] for item in load_gold()["answerable"]]
    retriever = open_retriever(settings)
    ask("échauffement", settings=settings, retriever=retriever)

    # 1. overhead: the same questions, in process and over HTTP, alternately
    local_ms, http_ms = [], []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        http.post("/api/v1/ask", json={"question": "échauffement"})
        for question in questions:  # each question's vector computed afresh both times (no query cache)
            retriever.embedder.forget_queries()
            started = time.perf_counter()
            ask(question, settings=settings, retriever=retriever)
            local_ms.append(1000 * (time.perf_counter() - started))
            retriever.embedder.forget_queries()  # the server's retriever shares the process's embedder
            started = time.perf_counter()
            reply = http.post("/api/v1/ask", json={"question": question})
            http_ms.append(1000 * (time.perf_counter() - started))
            reply.raise_for_status()
    local, remote = statistics.median(local_ms), statistics.median(http_ms)

    # 2. streams during two rebuilds
    latencies, errors, rebuilds = [], [], []
    done = threading.Event()

    def rebuild_twice():
        edited = settings.corpus_dir / "enap-2016-innovation-publique-ere-numerique.txt"
        for number in range(2):
            time.sleep(1.0)
            edited.write_text(edited.read_text(encoding="utf-8") + f"\nRévision {number}.\n", encoding="utf-8")
            report = build_now(settings, app.state)
            rebuilds.append(report.seconds if report else None)
        done.set()

    def stream_many(number: int):
        client = OpenAI(base_url=server.url + "v1", api_key="-", max_retries=0, timeout=120)
        asked = 0
        while asked < args.questions or not done.is_set():  # at least --questions each, and until both rebuilds end
            question = questions[(number * args.questions + asked) % len(questions)]
            asked += 1
            started = time.perf_counter()
            try:
                stream = client.chat.completions.create(
                    model="assistant", messages=[{"role": "user", "content": question}], stream=True
                )
                last = None
                for chunk in stream:
                    last = chunk
                if last is None or "citations" not in (last.model_extra or {}):
                    errors.append(f"{question}: no citations on the last chunk")
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                errors.append(repr(exc)[:200])
            latencies.append(1000 * (time.perf_counter() - started))

    builder = threading.Thread(target=rebuild_twice)
    clients = [threading.Thread(target=stream_many, args=(n,)) for n in range(args.clients)]
    builder.start()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    builder.join()
    server.close()
    print(f"Machine: {machine()}. {len(questions)} gold questions.\n")
    print(
        table(
            ["ask() in process p50 ms", "POST /api/v1/ask p50 ms", "HTTP overhead ms", "p95 in process", "p95 HTTP"],
            [[local, remote, remote - local, percentile(local_ms, 0.95), percentile(http_ms, 0.95)]],
        )
    )
    print()
    row = [
        args.clients,
        len(latencies),
        len(errors),
        len([r for r in rebuilds if r is not None]),
        statistics.median(latencies),
        percentile(latencies, 0.95),
    ]
    print(table(["clients", "streams", "errors", "rebuilds meanwhile", "p50 ms", "p95 ms"], [row]))
    for error in errors[:5]:
        print(f"- {error}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
