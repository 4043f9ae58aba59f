"""Cold start: seconds from `python app.py` to the first answer in the app, the index being already built.

python benchmarks/cold_start.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import ROOT, machine

from assistant.api import build_index


def main() -> None:
    build_index(ROOT / "corpus", ROOT / "index")  # already built: a no-op, as for a user who starts the app again
    port = 7900 + os.getpid() % 90
    started = time.perf_counter()
    app = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in app.stdout:
            if "Running on" in line:
                break
        listening = time.perf_counter() - started
        from gradio_client import Client

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        history, *_ = client.predict(
            "Où s'est tenu le barcamp Futurs Publics ?", [], 5, "extractive", api_name="/respond"
        )
        answered = time.perf_counter() - started
        assert "cite" in str(history[-1]["content"])
    finally:
        app.terminate()
        app.wait(timeout=30)
    print(f"Machine: {machine()}\n")
    print("| step | seconds from `python app.py` |\n|---|---|")
    print(f"| app listening (index refreshed, model loaded) | {listening:.1f} |")
    print(f"| first answer received | {answered:.1f} |")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
