"""Retrieval with the real embedding model on the default corpus: the answer is where we know it is."""

from __future__ import annotations

import shutil

import pytest
from helpers import DEFAULT_CORPUS

import assistant

pytestmark = pytest.mark.model

KNOWN = [
    (
        "Combien de recommandations la conférence de Montréal a-t-elle retenues ?",
        "enap-2016-innovation-publique-ere-numerique.txt",
        "Douze recommandations",
    ),
    (
        "Dans quel lieu parisien les agents innovateurs se sont-ils retrouvés en novembre 2016 ?",
        "barcamp-futurs-publics-2016.txt",
        "Gaité lyrique",
    ),
    (
        "Quelles entreprises privées ont coopéré avec les ministères ?",
        "innovation-participative-ministeres-entreprises-2014.txt",
        "La Poste, Auchan",
    ),
    (
        "Combien de propositions le groupe de travail a-t-il formulées ?",
        "innovation-participative-ministeres-entreprises-2014.txt",
        "50 propositions",
    ),
    (
        "À quelles dates s'est déroulée la mission au Québec ?",
        "fp21-mission-quebec-innovation-publique-2019.txt",
        "du 10 au 14 décembre 2019",
    ),
    (
        "Quand se tient la semaine de l'innovation publique 2017 ?",
        "semaine-innovation-publique-2017-departements.txt",
        "Du 20 au 26 novembre 2017",
    ),
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(DEFAULT_CORPUS, corpus, dirs_exist_ok=True)
    return corpus, tmp_path_factory.mktemp("index") / "index"


def test_retrieve_builds_a_missing_index_then_finds_known_answers(index_dir):
    corpus, index = index_dir
    found = 0
    for question, source, snippet in KNOWN:
        passages = assistant.retrieve(question, k=5, index_dir=index, corpus_dir=corpus)
        assert len(passages) == 5
        p = passages[0]
        assert p.text and p.source and p.title and p.end > p.start and 0 <= p.score <= 1
        found += any(snippet in passage.text and passage.source == source for passage in passages)
    assert found == len(KNOWN)


def test_retrieve_filters_by_source_glob(index_dir):
    corpus, index = index_dir
    passages = assistant.retrieve("innovation publique", k=4, index_dir=index, corpus_dir=corpus, source="fp21-*")
    assert passages and {p.source for p in passages} == {"fp21-mission-quebec-innovation-publique-2019.txt"}
