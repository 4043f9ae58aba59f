"""The HTTP doors, driven by real clients against a real server: REST with httpx, the `openai` client on the
OpenAI-compatible endpoint, the `mcp` client over stdio and over streamable HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sys

import httpx
import pytest

from assistant.evaluation import normalize

pytestmark = pytest.mark.model

BARCAMP = "Où s'est tenu le barcamp Futurs Publics en 2016 ?"
UNANSWERABLE = "Quelle est la recette de la tarte tatin ?"


def serve(settings, read_only: str = "0"):
    from helpers import free_port

    from assistant.ui import App, launch

    app = App(settings.with_(read_only=read_only, watch="0"))
    return launch(app, "127.0.0.1", free_port(), block=False)


@pytest.fixture(scope="module")
def own_copy(built_default, tmp_path_factory):
    """A copy of the built default corpus and index, which these tests may change."""
    root = tmp_path_factory.mktemp("service")
    shutil.copytree(built_default.corpus_dir, root / "corpus")
    shutil.copytree(built_default.index_dir, root / "index", ignore=shutil.ignore_patterns(".lock"))
    return built_default.with_(corpus_dir=root / "corpus", index_dir=root / "index")


@pytest.fixture(scope="module")
def server(own_copy):
    running = serve(own_copy)
    yield running.url, own_copy
    running.close()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server[0], timeout=60) as client:
        yield client


def verbatim(record: dict, passages: list[dict]) -> bool:
    """Whether a citation's quote stands verbatim in the text of a passage of its file."""
    return any(record["quote"] in p["text"] and p["file"] == record["file"] for p in passages)


# --- REST --------------------------------------------------------------------------------------------------------


def test_rest_search_returns_passages_with_their_provenance(http):
    reply = http.post("/api/v1/search", json={"query": "barcamp Futurs Publics", "k": 3})
    assert reply.status_code == 200
    passages = reply.json()["passages"]
    assert len(passages) == 3 and passages[0]["file"] == "barcamp-futurs-publics-2016.txt"
    assert {"id", "text", "title", "page", "offsets", "document_hash", "index_generation"} <= set(passages[0])
    only = http.post("/api/v1/search", json={"query": "innovation", "k": 5, "source": "enap-*"}).json()["passages"]
    assert only and {p["file"] for p in only} == {"enap-2016-innovation-publique-ere-numerique.txt"}


def test_rest_ask_returns_the_export_record_with_verbatim_citations(http):
    record = http.post("/api/v1/ask", json={"question": BARCAMP}).json()
    assert record["status"] == "answered" and "Gaité lyrique" in record["answer"]
    assert record["citations"] and all(verbatim(c, record["passages"]) for c in record["citations"])
    assert record["citations"][0]["number"] == 1 and len(record["citations"][0]["document_hash"]) == 64
    assert http.post("/api/v1/ask", json={"question": UNANSWERABLE}).json()["status"] == "not_found"


def test_rest_ask_reads_a_follow_up_with_its_history(http):
    history = [{"role": "user", "content": "Qu'est-ce que le Forum des Jeunes au Québec ?"}]
    record = http.post("/api/v1/ask", json={"question": "Et combien de membres compte-t-il ?", "history": history})
    assert "4400 membres" in " ".join(c["quote"] for c in record.json()["citations"])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/search", {"query": "innovation", "k": 0}, "k"),
        ("/api/v1/search", {"query": "innovation", "k": 500}, "k"),
        ("/api/v1/search", {"query": "innovation", "k": "cinq"}, "k"),
        ("/api/v1/search", {"k": 2}, "query"),
        ("/api/v1/search", {"query": "   "}, "query"),
        ("/api/v1/search", {"query": 42}, "query"),
        ("/api/v1/ask", {"question": "Qui ? " * 1000}, "question"),
        ("/api/v1/ask", {"question": BARCAMP, "history": "pas une liste"}, "history"),
        ("/api/v1/ask", {}, "question"),
    ],
)
def test_rest_bad_input_gets_a_json_error_naming_the_field(http, path, body, field):
    reply = http.post(path, json=body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == field and field in error["message"] and "Traceback" not in reply.text


def test_rest_refuses_a_body_over_its_bound_and_unknown_routes_in_json(http):
    reply = http.post("/api/v1/ask", content=b'{"question": "' + b"a" * 2_000_000 + b'"}')
    assert reply.status_code == 413 and "error" in reply.json()
    assert http.post("/api/v1/search", content=b"pas du json").status_code == 400
    missing = http.get("/api/v1/nulle-part")
    assert missing.status_code == 404 and missing.json()["error"]["message"]


def test_rest_documents_upload_list_passage_and_delete(http, server, tmp_path):
    _, settings = server
    names = {d["file"] for d in http.get("/api/v1/documents").json()["documents"]}
    assert "barcamp-futurs-publics-2016.txt" in names
    note = tmp_path / "note-rodez.txt"
    note.write_text("Le laboratoire Kalimba a ouvert à Rodez en 2023.", encoding="utf-8")
    with open(note, "rb") as handle:
        added = http.post("/api/v1/documents", files={"file": ("note-rodez.txt", handle, "text/plain")})
    assert added.status_code == 201 and added.json()["file"] == "note-rodez.txt"
    assert (settings.corpus_dir / "note-rodez.txt").is_file()
    listed = {d["file"]: d for d in http.get("/api/v1/documents").json()["documents"]}
    assert listed["note-rodez.txt"]["status"] == "not indexed yet"
    refused = http.post("/api/v1/documents", files={"file": ("script.exe", b"MZ...", "application/octet-stream")})
    assert refused.status_code == 400 and ".exe" in refused.json()["error"]["message"]
    deleted = http.delete("/api/v1/documents/note-rodez.txt").json()
    assert deleted["deleted"] and deleted["trash"]  # moved to the trash, restorable
    assert not (settings.corpus_dir / "note-rodez.txt").exists()
    assert (settings.trash_dir / deleted["trash"] / "file").read_text(encoding="utf-8").startswith("Le laboratoire")
    assert http.delete("/api/v1/documents/../outside.txt").status_code in (400, 404)
    assert http.delete("/api/v1/documents/nothing-here.txt").status_code == 404
    passage = http.post("/api/v1/search", json={"query": "barcamp", "k": 1}).json()["passages"][0]
    assert http.get(f"/api/v1/passages/{passage['id']}").json()["text"] == passage["text"]
    assert http.get("/api/v1/passages/0000").status_code == 404


def test_rest_says_which_citations_of_an_exported_answer_went_stale(http, server):
    _, settings = server
    record = http.post("/api/v1/ask", json={"question": "Qu'est-ce que le Forum des Jeunes au Québec ?"}).json()
    assert http.post("/api/v1/answers/stale", json=record).json() == {"stale": []}
    cited = settings.corpus_dir / record["citations"][0]["file"]
    original = cited.read_bytes()
    try:
        cited.write_bytes(original + b"\nUne phrase de plus.\n")
        export = {"format": 1, "turns": [record]}
        stale = http.post("/api/v1/answers/stale", json=export).json()["stale"]
        assert stale and stale[0]["file"] == record["citations"][0]["file"] and stale[0]["turn"] == 0
    finally:
        cited.write_bytes(original)
    broken = http.post("/api/v1/answers/stale", json={"citations": [{"quote": "x"}]})
    assert broken.status_code == 400 and broken.json()["error"]["param"] == "citations"


def test_the_openapi_schema_and_its_docs_are_served(http):
    schema = http.get("/api/v1/openapi.json").json()
    assert {"/api/v1/search", "/api/v1/ask", "/api/v1/documents", "/v1/chat/completions"} <= set(schema["paths"])
    assert http.get("/api/v1/docs").status_code == 200


# --- access --------------------------------------------------------------------------------------------------------


def test_keys_are_asked_for_and_read_only_refuses_changes(own_copy, tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text(f"ci:sha256:{hashlib.sha256(b'cle-secrete').hexdigest()}\n", encoding="utf-8")
    running = serve(own_copy.with_(api_keys=str(keys)), read_only="1")
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            body = {"query": "barcamp", "k": 1}
            assert client.post("/api/v1/search", json=body).status_code == 401
            wrong = client.post("/api/v1/search", json=body, headers={"Authorization": "Bearer autre"})
            assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
            assert client.get("/v1/models").status_code == 401 and client.post("/mcp", json={}).status_code == 401
            good = {"Authorization": "Bearer cle-secrete"}
            assert client.post("/api/v1/search", json=body, headers=good).status_code == 200
            upload = client.post("/api/v1/documents", files={"file": ("a.txt", b"Un texte.")}, headers=good)
            assert upload.status_code == 403 and "read-only" in upload.json()["error"]["message"]
            removal = client.delete("/api/v1/documents/barcamp-futurs-publics-2016.txt", headers=good)
            assert removal.status_code == 403
            assert (own_copy.corpus_dir / "barcamp-futurs-publics-2016.txt").is_file()
    finally:
        running.close()


def test_when_the_page_asks_for_a_login_the_api_asks_for_a_key(own_copy, tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("alice:motdepasse\n", encoding="utf-8")
    running = serve(own_copy.with_(auth=str(users)))
    try:
        reply = httpx.post(running.url + "api/v1/search", json={"query": "barcamp"}, timeout=60)
        assert reply.status_code == 401 and "ASSISTANT_API_KEYS" in reply.json()["error"]["message"]
    finally:
        running.close()


# --- OpenAI-compatible -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openai_client(server):
    from openai import OpenAI

    return OpenAI(base_url=server[0] + "v1", api_key="inutile", max_retries=0)


def test_openai_client_gets_the_answer_with_markers_sources_and_citations(openai_client, http):
    assert [model.id for model in openai_client.models.list()] == ["assistant"]
    reply = openai_client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": BARCAMP}])
    message = reply.choices[0].message
    assert "Gaité lyrique" in message.content and "[1]" in message.content
    assert "**Sources**" in message.content and "/?passage=" in message.content
    citations = message.model_extra["citations"]
    assert citations == reply.model_extra["citations"]
    passages = http.post("/api/v1/search", json={"query": BARCAMP, "k": 10}).json()["passages"]
    assert all(verbatim(c, passages) for c in citations)
    assert set(citations[0]) == {
        "number", "quote", "title", "file", "page", "section", "offsets", "document_hash", "index_generation"
    }  # fmt: skip


def test_openai_client_streams_the_same_answer_with_citations_on_the_last_chunk(openai_client):
    whole = openai_client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": BARCAMP}])
    stream = openai_client.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": BARCAMP}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, last, usage = [], None, None
    for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            last = chunk
        else:
            usage = chunk.usage
    assert "".join(pieces) == whole.choices[0].message.content
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == whole.model_extra["citations"]
    assert usage is not None and usage.completion_tokens > 0


def test_openai_client_follow_up_uses_the_history_and_unanswerable_is_not_found(openai_client):
    messages = [
        {"role": "user", "content": "Qu'est-ce que le Forum des Jeunes au Québec ?"},
        {"role": "assistant", "content": "D'après les documents : ..."},
        {"role": "user", "content": "Et combien de membres compte-t-il ?"},
    ]
    reply = openai_client.chat.completions.create(model="assistant", messages=messages)
    assert "4400 membres" in " ".join(c["quote"] for c in reply.model_extra["citations"])
    nothing = openai_client.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": UNANSWERABLE}]
    )
    assert nothing.model_extra["status"] == "not_found" and nothing.model_extra["citations"] == []
    assert "pas trouvé" in nothing.choices[0].message.content


def test_openai_client_bad_input_is_a_clear_error(openai_client):
    from openai import BadRequestError

    with pytest.raises(BadRequestError, match="last message must be the user"):
        openai_client.chat.completions.create(model="assistant", messages=[{"role": "assistant", "content": "x"}])
    with pytest.raises(BadRequestError, match="too long"):
        openai_client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "a " * 5000}])


# --- MCP ---------------------------------------------------------------------------------------------------------


async def _use_tools(client) -> dict:
    tools = {tool.name for tool in (await client.list_tools()).tools}
    search = await client.call_tool("search_documents", {"query": "barcamp Futurs Publics", "k": 3})
    answered = await client.call_tool("ask", {"question": BARCAMP})
    follow = await client.call_tool(
        "ask", {"question": "Et combien de membres compte-t-il ?", "history": ["Qu'est-ce que le Forum des Jeunes ?"]}
    )
    passage_id = search.structured_content["passages"][0]["id"]
    read = await client.call_tool("read_passage", {"passage_id": passage_id})
    documents = await client.call_tool("list_documents", {})
    return {
        "tools": tools,
        "search": search,
        "ask": answered,
        "follow": follow,
        "read": read,
        "documents": documents,
    }


def _check_tools(found: dict) -> None:
    assert found["tools"] == {"search_documents", "ask", "list_documents", "read_passage"}
    passages = found["search"].structured_content["passages"]
    assert passages[0]["file"] == "barcamp-futurs-publics-2016.txt" and "barcamp" in found["search"].content[0].text
    record = found["ask"].structured_content
    assert record["status"] == "answered" and "Gaité lyrique" in found["ask"].content[0].text
    assert all(verbatim(c, record["passages"]) for c in record["citations"])
    assert "4400 membres" in " ".join(c["quote"] for c in found["follow"].structured_content["citations"])
    assert normalize(found["read"].structured_content["text"]) == normalize(passages[0]["text"])
    assert "barcamp-futurs-publics-2016.txt" in found["documents"].content[0].text


def test_mcp_over_streamable_http_with_a_key(own_copy, tmp_path):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    keys = tmp_path / "keys.txt"
    keys.write_text("agent:cle-mcp\n", encoding="utf-8")
    running = serve(own_copy.with_(api_keys=str(keys)))

    async def run() -> dict:
        async with httpx2.AsyncClient(headers={"Authorization": "Bearer cle-mcp"}, timeout=120) as http:
            async with Client(streamable_http_client(running.url + "mcp", http_client=http)) as client:
                return await _use_tools(client)

    try:
        _check_tools(asyncio.run(run()))
    finally:
        running.close()


def test_mcp_over_stdio(own_copy):
    from mcp import Client, StdioServerParameters

    command = StdioServerParameters(
        command=sys.executable,
        args=["-m", "assistant.cli", "mcp", "--corpus", str(own_copy.corpus_dir), "--index", str(own_copy.index_dir)],
        env={"ASSISTANT_WATCH": "0"},
    )

    async def run() -> dict:
        async with Client(command, read_timeout_seconds=120) as client:
            return await _use_tools(client)

    _check_tools(asyncio.run(run()))


def test_service_records_are_the_export_records(built_default):
    from assistant.answering.answers import ask
    from assistant.answering.provenance import to_json
    from assistant.service.context import ask_record

    answer = ask(BARCAMP, settings=built_default)
    exported = json.loads(to_json([answer]))["turns"][0]
    record = ask_record(answer)
    assert {key: record[key] for key in exported} == exported


# --- the page's guards -------------------------------------------------------------------------------------------


def test_a_read_only_server_takes_no_upload_even_through_gradio(own_copy):
    running = serve(own_copy, read_only="1")
    try:
        reply = httpx.post(running.url + "gradio_api/upload", files={"files": ("a.txt", b"x" * 1000)}, timeout=60)
        assert reply.status_code == 403
    finally:
        running.close()


def test_wrong_logins_from_one_address_are_slowed_down_then_the_right_one_gets_in(own_copy, tmp_path):
    import time

    users = tmp_path / "users.txt"
    users.write_text("alice:motdepasse\n", encoding="utf-8")
    running = serve(own_copy.with_(auth=str(users), login_delay=0.2))
    try:
        with httpx.Client(base_url=running.url, timeout=60) as client:
            started = time.perf_counter()
            for _ in range(5):
                assert client.post("/login", data={"username": "alice", "password": "non"}).status_code >= 400
            assert time.perf_counter() - started >= 0.2 * (1 + 2 + 3 + 4)
            assert client.post("/login", data={"username": "alice", "password": "motdepasse"}).status_code == 200
    finally:
        running.close()


def test_the_page_refuses_a_huge_or_long_question_before_its_queue_and_a_normal_one_gets_through(server):
    url = server[0] + "gradio_api/queue/join"
    body = {"data": ["Qui " * 262_144, [], 5, "extractive"], "fn_index": 0, "session_hash": "s1"}
    huge = httpx.post(url, json=body, timeout=60)
    assert huge.status_code == 413 and "dépasse" in huge.json()["error"]
    body["data"][0] = "Pourquoi " * 8192  # 72 KB: within the body's bound, over the text's
    long = httpx.post(url, json=body, timeout=60)
    assert long.status_code == 413 and "trop longue : 73 728 caractères" in long.json()["error"]
    english = httpx.post(url, json=body, headers={"Accept-Language": "en-GB,en;q=0.9"}, timeout=60)
    assert english.status_code == 413 and "too long: 73,728 characters" in english.json()["error"]
    body["data"][0] = "Pourquoi " * 500  # 4.5 KB: the page answers it, in French, that it is too long
    assert httpx.post(url, json=body, timeout=60).status_code == 200


def test_questions_are_limited_per_address_and_this_machine_is_not(own_copy):
    from assistant.service import Service, create_api

    service = Service(own_copy.with_(ask_rate=2), read_only=True)
    api = create_api(service)

    async def asks(address: str) -> list[int]:
        transport = httpx.ASGITransport(app=api, client=(address, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
            body = {"query": "barcamp", "k": 1}
            replies = [await client.post("/api/v1/search", json=body) for _ in range(3)]
        assert replies[-1].status_code != 429 or "ASSISTANT_ASK_RATE" in replies[-1].json()["error"]["message"]
        return [reply.status_code for reply in replies]

    assert asyncio.run(asks("203.0.113.7")) == [200, 200, 429]
    assert asyncio.run(asks("127.0.0.1")) == [200, 200, 200]


def test_a_client_that_leaves_stops_the_language_models_reply(own_copy):
    import time

    from helpers import FakeChatServer

    model = FakeChatServer(" ".join(["Le barcamp s'est tenu à Paris [1]."] * 40), word_seconds=0.1)  # 30 s
    running = serve(own_copy.with_(llm_url=model.url, llm_model="slow", llm_timeout=120))
    try:
        body = {"model": "assistant", "messages": [{"role": "user", "content": BARCAMP}]}
        with pytest.raises(httpx.TimeoutException):
            httpx.post(running.url + "v1/chat/completions", json=body, timeout=2.0)
        left = time.monotonic()
        while not model.dropped and time.monotonic() < left + 10:
            time.sleep(0.05)
    finally:
        running.close()
        model.close()
    assert model.dropped and model.dropped[0] - left < 1.0
