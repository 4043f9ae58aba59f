"""Work stops when the asker goes: a slow language model (a local server writing one word every 0.1 s, a 30 s
reply) behind the app; a client asks, then disconnects after 2 s; how long until the app closes its connection to
the model, through each door.

    python benchmarks/disconnect.py
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time

from common import ROOT, machine, serve_copy, table

QUESTION = "Où s'est tenu le barcamp Futurs Publics en 2016 ?"


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(ROOT / "tests"))
    import httpx
    from helpers import FakeChatServer

    model = FakeChatServer(" ".join(["Le barcamp s'est tenu à Paris [1]."] * 40), word_seconds=0.1)
    server, _, _ = serve_copy("disconnect", llm_url=model.url, llm_model="slow", llm_timeout=120)
    config = httpx.get(server.url + "config").json()
    respond = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "respond")

    def page(deadline: float) -> None:
        session = f"bench-{time.time()}"
        body = {"data": [QUESTION, [], None, 5, "llm"], "fn_index": respond, "session_hash": session}
        httpx.post(server.url + "gradio_api/queue/join", json=body, timeout=10).raise_for_status()
        with httpx.stream("GET", server.url + f"gradio_api/queue/data?session_hash={session}", timeout=10) as events:
            for _ in events.iter_lines():
                if time.monotonic() > deadline:
                    return  # leaving the block closes the connection

    def openai(deadline: float) -> None:
        body = {"model": "assistant", "messages": [{"role": "user", "content": QUESTION}]}
        try:
            httpx.post(server.url + "v1/chat/completions", json=body, timeout=deadline - time.monotonic())
        except httpx.TimeoutException:
            pass

    def rest(deadline: float) -> None:
        try:
            httpx.post(server.url + "api/v1/ask", json={"question": QUESTION}, timeout=deadline - time.monotonic())
        except httpx.TimeoutException:
            pass

    rows = []
    for name, door in (("page (Gradio queue)", page), ("OpenAI-compatible", openai), ("REST /api/v1/ask", rest)):
        before = len(model.dropped)
        started = time.monotonic()
        door(started + 2.0)
        left = time.monotonic()
        while len(model.dropped) == before and time.monotonic() < left + 40:
            time.sleep(0.05)
        stopped = model.dropped[-1] - left if len(model.dropped) > before else None
        rows.append([name, f"{left - started:.1f}", "never (reply ran to its end)" if stopped is None else stopped])
        time.sleep(1.0)
    server.close()
    model.close()
    print(f"Machine: {machine()}.\n")
    print(table(["door", "client left after (s)", "model connection closed after the client left (s)"], rows))
    print(json.dumps({"threads_left": threading.active_count()}))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
