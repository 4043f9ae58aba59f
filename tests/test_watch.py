"""The index follows the corpus folder: files dropped, changed or deleted are picked up with no call."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from assistant.api import build_index, retrieve
from assistant.index import load_index
from assistant.settings import Settings
from assistant.watch import IndexState, Watcher, wait_until_stable

pytestmark = pytest.mark.model

WITHIN = 60  # seconds a change may take to reach the index here (a quiet period, then a small build)


def eventually(condition, within: float = WITHIN):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def watched(tiny_corpus, tmp_path):
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index", watch_quiet=0.5)
    build_index(settings=settings)
    watcher = Watcher(settings, IndexState()).start()
    time.sleep(0.5)  # the watcher is listening
    yield settings, watcher
    watcher.stop()


def sources(settings):
    return {chunk.source for chunk in load_index(settings.index_dir).chunks}


def test_a_dropped_file_is_answerable_and_a_deleted_one_is_gone_without_any_call(watched):
    settings, _ = watched
    (settings.corpus_dir / "nouveau" / "labo.txt").parent.mkdir()
    (settings.corpus_dir / "nouveau" / "labo.txt").write_text(
        "Le laboratoire Tournesol accompagne les mairies de la Creuse depuis 2021.", encoding="utf-8"
    )
    assert eventually(lambda: "nouveau/labo.txt" in sources(settings))
    assert retrieve("Qui accompagne les mairies de la Creuse ?", k=1, settings=settings)[0].source == "nouveau/labo.txt"
    (settings.corpus_dir / "forum.txt").unlink()
    assert eventually(lambda: "forum.txt" not in sources(settings))


def test_two_hundred_files_copied_at_once_give_a_few_builds(watched, tmp_path):
    settings, watcher = watched
    batch = tmp_path / "batch"
    batch.mkdir()
    for i in range(200):
        (batch / f"note-{i:03}.txt").write_text(f"Note de service numéro {i} sur l'atelier {i}.", encoding="utf-8")
    builds = watcher.state.builds
    shutil.copytree(batch, settings.corpus_dir / "lot")
    assert eventually(lambda: len([s for s in sources(settings) if s.startswith("lot/")]) == 200)
    time.sleep(2)  # any build still to come
    assert 1 <= watcher.state.builds - builds <= 3


def test_a_file_still_being_copied_is_waited_for(tmp_path):
    growing = tmp_path / "gros.txt"
    growing.write_text("début ")
    stop_at = time.monotonic() + 1.5

    def keep_writing():
        while time.monotonic() < stop_at:
            with open(growing, "a") as handle:
                handle.write("suite " * 100)
            time.sleep(0.1)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    wait_until_stable({growing}, quiet=0.4)
    assert time.monotonic() >= stop_at  # returned only once the copy had ended
    writer.join()


def test_where_the_file_system_gives_no_events_the_folder_is_polled(tiny_corpus, tmp_path):
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index", watch_quiet=0.5, watch_poll=0.5)
    build_index(settings=settings)
    watcher = Watcher(settings, IndexState()).start()
    try:
        time.sleep(1)
        (settings.corpus_dir / "partage.txt").write_text("Le dossier partagé du laboratoire Orme.", encoding="utf-8")
        assert eventually(lambda: "partage.txt" in sources(settings))
    finally:
        watcher.stop()
