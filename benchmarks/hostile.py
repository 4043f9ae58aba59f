"""Hostile files (1-5 MB each, every readable kind): parsed or reported, with time and memory per file.

    python benchmarks/hostile.py

The files are those of tests/hostile.py. Memory is the peak resident size of the child process that parsed them.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine, table

sys.path.insert(0, str(ROOT / "tests"))

from hostile import write_hostile_files  # noqa: E402

from assistant.errors import DocumentError  # noqa: E402
from assistant.readers.documents import read_document  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def main() -> None:
    settings = Settings()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, path in write_hostile_files(Path(folder)).items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            try:
                outcome = f"read, {len(read_document(path, name, settings).text):,} characters"
            except DocumentError as exc:
                outcome = f"reported: {exc}"
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            memory = f"{peak / 1024:.0f}" if peak > before else f"<= {before / 1024:.0f}"
            rows.append([name, f"{path.stat().st_size / 1e6:.1f}", seconds, memory, outcome[:90]])
    print(f"Machine: {machine()}. Bounds: {settings.parse_timeout:g} s and {settings.parse_memory_mb} MB per file.\n")
    print(table(["file", "MB", "seconds", "child peak MB", "outcome"], rows))


if __name__ == "__main__":
    main()
