"""The ``assistant`` command on a small corpus, with the real model."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main

pytestmark = pytest.mark.model


def test_build_search_ask_and_errors(tiny_corpus, tmp_path, capsys):
    paths = ["--corpus", str(tiny_corpus), "--index", str(tmp_path / "index")]
    assert main(["build", *paths]) == 0
    out = capsys.readouterr().out
    assert "added 3" in out and "failed 0" in out

    (tiny_corpus / "vide.txt").write_text("")
    assert main(["build", *paths]) == 0
    out = capsys.readouterr().out
    assert "unchanged 3" in out and "failed: vide.txt: empty file" in out

    assert main(["search", "Combien de membres compte le Forum des Jeunes ?", "-k", "2", "--json", *paths]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert len(passages) == 2 and passages[0]["source"] == "forum.txt" and "40 membres" in passages[0]["text"]

    assert main(["ask", "Combien de membres compte le Forum des Jeunes ?", "--json", *paths]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert not answer["abstained"] and answer["citations"][0]["passage"]["source"] == "forum.txt"

    assert main(["search", "forum", "-k", "0", *paths]) == 2
    assert "k must be a whole number >= 1" in capsys.readouterr().err
    assert main(["build", "--corpus", str(tmp_path / "absent"), "--index", str(tmp_path / "i2")]) == 2
    assert "corpus folder not found" in capsys.readouterr().err
