"""The index follows the corpus folder: changes trigger an incremental build in the background.

Files added, changed, deleted or renamed (sub-folders too) are noticed through the file system's events
(watchfiles), or by polling where there are none (network shares: ``ASSISTANT_WATCH_POLL`` seconds). A burst of
changes (200 files copied at once) waits for a quiet period and gives one build; a file still being copied
(its size changing) is waited for. Questions keep being answered from the current index meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.api import build_index
from assistant.errors import AssistantError, IndexBusyError
from assistant.records import BuildReport
from assistant.settings import Settings

log = logging.getLogger(__name__)

STABLE_CHECKS = 30  # at most this many quiet periods waiting for a file that keeps growing


@dataclass
class IndexState:
    """What the app shows of the index: built or building, with progress, and the last build's outcome."""

    building: bool = False
    stage: str = ""
    done: int = 0
    total: int = 0
    builds: int = 0
    last_report: BuildReport | None = None
    last_error: str = ""
    finished_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total


def build_now(settings: Settings, state: IndexState, full: bool = False, progress=None) -> BuildReport | None:
    """One build, its progress and outcome kept in ``state``; None when another build holds the index."""
    if not state.lock.acquire(blocking=False):
        return None
    state.building, state.stage, state.done, state.total = True, "scanning", 0, 0

    def report_progress(stage: str, done: int, total: int) -> None:
        state.progress(stage, done, total)
        if progress:
            progress(stage, done, total)

    try:
        report = build_index(settings=settings, full=full, progress=report_progress)
        state.last_report, state.last_error = report, ""
        return report
    except IndexBusyError:
        return None
    except AssistantError as exc:
        state.last_error = str(exc)
        log.warning("build failed: %s", exc)
        return None
    finally:
        state.builds += 1
        state.building, state.finished_at = False, time.time()
        state.lock.release()


def _sizes(paths: set[Path]) -> dict[Path, int | None]:
    sizes = {}
    for path in paths:
        try:
            sizes[path] = path.stat().st_size
        except OSError:
            sizes[path] = None
    return sizes


def wait_until_stable(paths: set[Path], quiet: float) -> None:
    """Return once none of ``paths`` has changed size over a quiet period (a copy in progress has ended)."""
    before = _sizes(paths)
    for _ in range(STABLE_CHECKS):
        time.sleep(quiet)
        after = _sizes(paths)
        if after == before:
            return
        before = after


class Watcher:
    """Watches the corpus folder in a background thread and rebuilds the index after each burst of changes."""

    def __init__(self, settings: Settings, state: IndexState | None = None, on_build=None) -> None:
        self.settings = settings
        self.state = state or IndexState()
        self.on_build = on_build or (lambda report: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Watcher:
        Path(self.settings.corpus_dir).mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self.run, name="corpus-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run(self) -> None:
        from watchfiles import watch

        corpus = Path(self.settings.corpus_dir)
        quiet, poll = self.settings.watch_quiet, self.settings.watch_poll
        for changes in watch(
            corpus,
            debounce=int(quiet * 1000),
            stop_event=self._stop,
            force_polling=poll > 0 or None,
            poll_delay_ms=int(poll * 1000) if poll > 0 else 300,
            raise_interrupt=False,
        ):
            paths = {Path(path) for _, path in changes}
            log.info("%d changes in %s", len(paths), corpus)
            wait_until_stable(paths, quiet)
            report = build_now(self.settings, self.state)
            while report is None and not self._stop.is_set() and self.state.lock.locked():
                time.sleep(quiet)  # a build was running: build again once it ends, with what changed meanwhile
                report = build_now(self.settings, self.state)
            if report is not None:
                self.on_build(report)
