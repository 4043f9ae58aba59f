"""Feedback on answers and the report of what the documents do not answer: the Python API, the HTTP API, writers
in several threads and processes during a rebuild, and gold-set candidates that run in `assistant eval`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import copy_index

import assistant
from assistant.api import gold_from_feedback

pytestmark = pytest.mark.model

BARCAMP = "Où s'est tenu le barcamp Futurs Publics en 2016 ?"
TATIN = "Quelle est la recette de la tarte tatin ?"


@pytest.fixture
def own_copy(built_default, tmp_path):
    shutil.copytree(built_default.corpus_dir, tmp_path / "corpus")
    copy_index(built_default.index_dir, tmp_path / "index")
    return built_default.with_(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


def test_logged_answers_and_feedback_become_gold_candidates_that_eval_runs(own_copy, tmp_path):
    right = assistant.ask(BARCAMP, settings=own_copy, log=True)
    missing = assistant.ask(TATIN, settings=own_copy, log=True)
    assert right.id and missing.id and right.status == "answered" and missing.status == "not_found"
    assistant.record_feedback(right, True, settings=own_copy)
    question = "Combien de propositions le groupe de travail a-t-il formulées ?"
    wrong = assistant.ask(question, settings=own_copy, log=True)
    assistant.record_feedback(wrong, False, "  Le chiffre est faux  ", wrong_citation=1, settings=own_copy)

    entries = assistant.feedback_log(settings=own_copy)
    assert [(e.answer_id, e.helpful) for e in entries] == [(right.id, True), (wrong.id, False)]
    assert entries[1].comment == "Le chiffre est faux" and entries[1].wrong_citation == 1
    assert entries[1].answer["citations"][0]["quote"] == wrong.citations[0].quote  # the whole answer is kept
    assert entries[1].model == "multilingual-e5-small" and "calibrations/e5.json" in entries[1].calibration

    candidates = gold_from_feedback(settings=own_copy)
    assert [item["question"] for item in candidates["answerable"]] == [BARCAMP]
    assert candidates["answerable"][0]["snippet"] == right.citations[0].quote
    assert {(item["question"], item["reason"]) for item in candidates["review"]} == {
        (TATIN, "not_found"),
        (wrong.question, "wrong"),
    }
    gold = tmp_path / "candidates.json"
    command = [sys.executable, "-m", "assistant.cli"]
    paths = ["--corpus", str(own_copy.corpus_dir), "--index", str(own_copy.index_dir)]
    subprocess.run(command + ["eval", "--from-feedback", "--out", str(gold)] + paths, check=True)
    run = subprocess.run(command + ["eval", "--gold", str(gold), "--json"] + paths, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    assert figures["test"]["gold_in_answer"] == 1.0  # the answer marked right, asked again, quotes the same sentence

    with pytest.raises(ValueError, match="no citation"):
        assistant.record_feedback(wrong, False, wrong_citation=9, settings=own_copy)
    with pytest.raises(ValueError, match="at most 2000"):
        assistant.record_feedback(wrong, False, "x" * 2001, settings=own_copy)


def test_gaps_group_paraphrases_and_a_build_marks_them_answered(own_copy):
    for question in (
        "Quel est le budget annuel du laboratoire Orchidée de Rennes ?",
        "Quel est le budget annuel du laboratoire Orchidée à Rennes ?",
        "Quel budget annuel pour le laboratoire Orchidée de Rennes ?",
        TATIN,
    ):
        assistant.ask(question, settings=own_copy, log=True)
    assistant.ask(TATIN, settings=own_copy, log=True)
    report = assistant.unanswered(settings=own_copy)
    assert [(len(g.questions), g.asked, g.answered) for g in report] == [(3, 3, False), (1, 2, False)]
    assert report[1].questions == [TATIN] and report[0].first_seen <= report[0].last_seen

    (own_copy.corpus_dir / "orchidee.txt").write_text(
        "Le laboratoire Orchidée\n\nLe laboratoire Orchidée de Rennes dispose d'un budget annuel de 320 000 euros.\n",
        encoding="utf-8",
    )
    assistant.build_index(settings=own_copy)
    after = {g.questions[-1]: g for g in assistant.unanswered(settings=own_copy)}
    assert after[TATIN].answered is False
    orchidee = next(g for g in after.values() if "Orchidée" in g.questions[0])
    assert orchidee.answered and orchidee.answered_questions == 3

    before = assistant.feedback_log(settings=own_copy)
    assistant.build_index(settings=own_copy, full=True)  # a full rebuild leaves the log alone
    assert assistant.feedback_log(settings=own_copy) == before
    assert len(assistant.unanswered(settings=own_copy)) == 2


WRITER = """
import sys
import assistant
from assistant.settings import Settings
settings = Settings(corpus_dir=sys.argv[1], index_dir=sys.argv[2])
record = {"question": "Question du second processus", "status": "answered", "answer": "...", "citations": []}
for number in range(int(sys.argv[3])):
    assistant.record_feedback(record, number % 2 == 0, f"processus {number}", settings=settings,
                              feedback_id=f"process-{number}")
"""


def test_feedback_from_20_clients_and_two_processes_during_a_rebuild_is_stored_once(own_copy):
    from helpers import free_port

    from assistant.ui import App, launch

    running = launch(App(own_copy.with_(watch="0", read_only="0")), "127.0.0.1", free_port(), block=False)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as http:
            answer = http.post("/api/v1/ask", json={"question": BARCAMP}).json()
        assert answer["id"]
        rebuild = threading.Thread(target=assistant.build_index, kwargs={"settings": own_copy, "full": True})
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(own_copy.corpus_dir), str(own_copy.index_dir), "40"]
        )
        rebuild.start()

        def client(number: int) -> list[int]:
            codes = []
            with httpx.Client(base_url=running.url, timeout=120) as http:
                for turn in range(5):
                    body = {"answer_id": answer["id"], "helpful": turn % 2 == 0, "id": f"client-{number}-{turn}"}
                    for _ in range(2):  # each one sent twice, as a client that retries would
                        codes.append(http.post("/api/v1/feedback", json=body).status_code)
            return codes

        with ThreadPoolExecutor(20) as pool:
            codes = [code for codes in pool.map(client, range(20)) for code in codes]
        assert process.wait(timeout=300) == 0
        rebuild.join(timeout=600)
        with httpx.Client(base_url=running.url, timeout=60) as http:
            listed = http.get("/api/v1/feedback").json()["feedback"]
            gaps = http.get("/api/v1/gaps").json()["gaps"]
    finally:
        running.close()
    assert codes == [201] * 200
    entries = assistant.feedback_log(settings=own_copy)
    ids = [entry.id for entry in entries]
    assert len(ids) == len(set(ids)) == 100 + 40 == len(listed)
    assert sum(entry.answer_id == answer["id"] for entry in entries) == 100
    # the second process's answers were not logged: each judgement logged its own, half of them marked wrong
    assert [gap["asked"] for gap in gaps if gap["questions"] == ["Question du second processus"]] == [20]


def test_an_open_read_only_server_does_not_show_what_people_asked(own_copy):
    from helpers import free_port

    from assistant.ui import App, launch

    running = launch(App(own_copy.with_(watch="0", read_only="1")), "127.0.0.1", free_port(), block=False)
    try:
        with httpx.Client(base_url=running.url, timeout=60) as http:
            answer = http.post("/api/v1/ask", json={"question": TATIN}).json()
            stored = http.post("/api/v1/feedback", json={"answer_id": answer["id"], "helpful": False})
            assert stored.status_code == 201
            assert http.get("/api/v1/gaps").status_code == 403
            assert http.get("/api/v1/feedback").status_code == 403
            config = http.get("/config").json()
            missing = http.post("/api/v1/feedback", json={"answer_id": "nope", "helpful": True})
    finally:
        running.close()
    labels = json.dumps([component.get("props", {}).get("label") for component in config["components"]])
    assert "tab_documents" in labels and "tab_gaps" not in labels  # the report's tab is not there
    assert missing.status_code == 404
