"""Answers you can file: versions of cited documents, stale citations, exports."""

from __future__ import annotations

import json

import pytest

import assistant
from assistant.answering.provenance import answer_from_dict, answer_to_dict
from assistant.api import build_index
from assistant.settings import Settings

pytestmark = pytest.mark.model


@pytest.fixture
def answered(tiny_corpus, tmp_path):
    settings = Settings(corpus_dir=tiny_corpus, index_dir=tmp_path / "index")
    build_index(settings=settings)
    return settings, assistant.ask("Combien de membres compte le Forum des Jeunes ?", settings=settings)


def test_citations_carry_the_version_of_their_document_and_the_index_generation(answered):
    settings, answer = answered
    citation = answer.citations[0]
    manifest = json.loads((settings.index_dir / citation.generation / "manifest.json").read_text())
    assert citation.document_hash == manifest["sources"][citation.passage.source]["hash"]
    assert assistant.stale_citations(answer, settings=settings) == []


def test_a_cited_document_changed_or_deleted_since_makes_its_citations_stale(answered):
    settings, answer = answered
    forum = settings.corpus_dir / "forum.txt"
    forum.write_text(forum.read_text(encoding="utf-8") + "\nIl compte désormais 52 membres.\n", encoding="utf-8")
    assert [c.passage.source for c in assistant.stale_citations(answer, settings=settings)] == ["forum.txt"]
    build_index(settings=settings)  # the index moved on too
    assert assistant.stale_citations(answer, settings=settings)
    forum.unlink()
    build_index(settings=settings)
    assert assistant.stale_citations(answer, settings=settings)


def test_exports_read_back_with_every_quote_and_its_provenance(answered):
    _, answer = answered
    assert answer_from_dict(json.loads(json.dumps(answer_to_dict(answer)))) == answer
    exported = json.loads(assistant.to_json([answer], exported_at="2026-11-23T10:00:00"))
    assert exported["format"] == 1 and exported["exported_at"] == "2026-11-23T10:00:00"
    turn = exported["turns"][0]
    assert turn["status"] == "answered" and turn["citations"][0]["file"] == "forum.txt"
    assert turn["citations"][0]["quote"] in answer.citations[0].passage.text
    assert turn["citations"][0]["document_hash"] == answer.citations[0].document_hash
    markdown = assistant.to_markdown([answer], exported_at="23/11/2026")
    assert "## 1. Combien de membres" in markdown and "forum.txt" in markdown and "version " in markdown
    greeted = assistant.ask("Bonjour !")  # searches nothing
    markdown = assistant.to_markdown([greeted, answer], exported_at="23/11/2026")
    assert markdown.count("*réponse trouvée*") == 1 and "pas de réponse" not in markdown  # a greeting has no status
    english = assistant.to_markdown([answer], exported_at="23/11/2026", language="en")
    assert english.startswith("# Questions to the documents — 23/11/2026") and "*answer found*" in english
