"""Shared fixtures: a tiny inline corpus, the default corpus in a temporary folder, a fake embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import DEFAULT_CORPUS, FakeEmbedder, copy_index


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


TINY = {
    "ads.md": "# L'ADS+\n\nL'ADS+ est un dispositif d'accompagnement des agents.\n\n## Missions\n\n"
    "Il aide les équipes à concevoir des services numériques. Il propose des ateliers.\n",
    "forum.txt": "Le Forum des Jeunes\n\nLe Forum des Jeunes compte 40 membres. Il se réunit chaque mois à Lyon.\n",
    "rapport/bilan.txt": "Bilan annuel de l'incubateur\n\nEn 2024, l'incubateur a lancé 12 produits numériques.\n",
}


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    for name, text in TINY.items():
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return corpus


@pytest.fixture(scope="session")
def built_default(tmp_path_factory):
    """The default corpus, copied, and indexed once with the real model: the Settings that name both."""
    from assistant.api import build_index
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("default")
    corpus = root / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    build_index(settings=settings)
    return settings


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, built_default):
    """The web app on a free local port, on its own copy of the default corpus: (url, settings). Its index starts as
    a copy of ``built_default``'s: its build finds the vectors of the same texts there and embeds nothing again."""
    from helpers import free_port

    from assistant.settings import Settings
    from assistant.ui import App, launch

    root = tmp_path_factory.mktemp("app")
    shutil.copytree(DEFAULT_CORPUS, root / "corpus")
    copy_index(built_default.index_dir, root / "index")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", max_file_mb=1)
    app = App(settings)
    app.refresh_index()
    port = free_port()
    demo = launch(app, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/", settings
    demo.close()
