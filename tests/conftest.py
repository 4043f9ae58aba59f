"""Shared fixtures: a tiny inline corpus, the default corpus in a temporary folder, a fake embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import DEFAULT_CORPUS, FakeEmbedder


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


@pytest.fixture
def default_corpus(tmp_path) -> Path:
    corpus = tmp_path / "default-corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    return corpus
