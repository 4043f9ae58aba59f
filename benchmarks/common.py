"""Helpers shared by the benchmark scripts: where the shared data lives, timing, tables."""

from __future__ import annotations

import os
import platform
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ASSISTANT_SHARED_DIR", ROOT.parent / "shared"))
CACHE = ROOT / "benchmarks" / ".cache"


def need(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"missing {path}: set ASSISTANT_SHARED_DIR to the folder holding corpus-beta/ and bench/")
    return path


def serve_copy(name: str, **changes):
    """The app on a copy of the default corpus, in a fresh cache folder, indexed, on a free local port, with
    ``changes`` to its settings (the folder watcher off unless asked): (running server, App, settings)."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import free_port

    from assistant.settings import Settings
    from assistant.ui import App, launch

    root = fresh(name)
    shutil.copytree(ROOT / "corpus", root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", watch="0").with_(**changes)
    app = App(settings)
    app.refresh_index()
    return launch(app, "127.0.0.1", free_port(), block=False), app, settings


def fresh(name: str) -> Path:
    folder = CACHE / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def table(headers: list[str], rows: list[list]) -> str:
    def cell(value):
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]
