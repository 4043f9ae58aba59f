"""Several serving processes on one index folder while a builder swaps generations in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

from helpers import DEFAULT_CORPUS, copy_index, free_port

from assistant.builder import build_index
from assistant.index import current_generation

QUESTION = "Qu'est-ce que la Semaine de l'innovation publique ?"


def generations_in(answer) -> set[str]:
    """Every index generation an answer (as the app keeps it, a dict) cites or lists."""
    found: set[str] = set()
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key == "generation" and value:
                found.add(value)
            else:
                found |= generations_in(value)
    elif isinstance(answer, list):
        for value in answer:
            found |= generations_in(value)
    return found


def start_server(corpus, index, port: int) -> subprocess.Popen:
    env = {**os.environ, "ASSISTANT_WATCH": "0", "ASSISTANT_READ_ONLY": "1"}
    command = [sys.executable, "-m", "assistant.cli", "serve", "--corpus", str(corpus), "--index", str(index)]
    return subprocess.Popen([*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {server.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_two_serving_processes_answer_through_swaps_and_never_serve_an_older_generation(tmp_path, built_default):
    from gradio_client import Client

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    copy_index(built_default.index_dir, index)
    build_index(corpus, index)
    built = [current_generation(index)]  # every generation, in the order the builder made them current
    ports = [free_port(), free_port()]
    servers = [start_server(corpus, index, port) for port in ports]
    seen: list[list[tuple[str, set[str]]]] = [[], []]  # per server: (CURRENT before asking, generations served)
    errors: list[str] = []
    done = threading.Event()
    try:
        for port, server in zip(ports, servers):
            wait_until_up(f"http://127.0.0.1:{port}/", server)

        def ask_again_and_again(number: int) -> None:
            client = Client(f"http://127.0.0.1:{ports[number]}/", verbose=False)
            while not done.is_set():
                before = current_generation(index)
                try:
                    history, _, _, saved = client.predict(QUESTION, [], 5, "extractive", api_name="/respond")
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    errors.append(f"server {number}: {exc!r}"[:300])
                    continue
                if "⚠️" in str(history[-1]["content"]):
                    errors.append(f"server {number}: {history[-1]['content']}"[:300])
                seen[number].append((before, generations_in(saved["answers"][-1])))

        askers = [threading.Thread(target=ask_again_and_again, args=(n,)) for n in range(2)]
        for asker in askers:
            asker.start()
        for number in range(4):
            time.sleep(1.5)
            note = f"Note {number} du laboratoire : la revue de projet numéro {number} a eu lieu en mars.\n"
            (corpus / f"note-{number}.txt").write_text(note * 3, encoding="utf-8")
            build_index(corpus, index)
            built.append(current_generation(index))
        time.sleep(3)
        done.set()
        for asker in askers:
            asker.join(timeout=120)
    finally:
        done.set()
        for server in servers:
            server.terminate()
            server.wait(timeout=30)

    assert not errors, errors[:3]
    order = {generation: position for position, generation in enumerate(built)}
    for number, answers in enumerate(seen):
        assert len(answers) >= 5, f"server {number} answered {len(answers)} times"
        served = [order[next(iter(generations))] for _, generations in answers]
        assert all(len(generations) == 1 for _, generations in answers)  # one answer, one generation
        assert served == sorted(served), f"server {number} went back to an older generation: {served}"
        assert all(order[g] <= s for (g, _), s in zip(answers, served)), "a swap seen, then an older one served"
        assert served[-1] == len(built) - 1 and len(set(served)) >= 2
