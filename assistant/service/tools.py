"""An MCP server (the official ``mcp`` SDK): agents and desktop assistants search the documents as tools.

Tools: ``search_documents``, ``ask``, ``list_documents`` and ``read_passage``. Each result is text for any client
and structured content in the export's format (docs/export.md), so citations arrive whole. Transports: stdio
(``assistant mcp``, for desktop clients) and streamable HTTP, mounted at /mcp by the server.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

from assistant.service.context import MAX_HISTORY_MESSAGES, MAX_K, Service, ask_record, passage_record

INSTRUCTIONS = (
    "Searches a corpus of documents on public-sector innovation (mostly French) and answers from it with verbatim,"
    " cited quotes. Prefer `ask` for a question; `search_documents` for passages to read; quote citations as given."
)


def result(text: str, structured: dict) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def where(record: dict) -> str:
    """A passage's or citation's file, and its page when it has one."""
    return record["file"] + (f", p. {record['page']}" if record["page"] else "")


def _bounded_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return k


def mcp_server(service: Service) -> MCPServer:
    server = MCPServer("assistant", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    def search_documents(query: str, k: int = 5) -> CallToolResult:
        """The k passages of the documents that best match the query, best first, each with its file, page and id."""
        passages = service.search(query, _bounded_k(k))
        records = [passage_record(p) for p in passages]
        lines = [
            f"[{rank}] {r['title']} ({where(r)}; id {r['id']})\n{r['text']}" for rank, r in enumerate(records, start=1)
        ]
        return result("\n\n".join(lines) or "No passage found.", {"query": query, "passages": records})

    @server.tool()
    def ask(question: str, history: list[str] | None = None) -> CallToolResult:
        """Answer a question from the documents: verbatim quotes, each with its numbered citation, or 'not found'.
        ``history``: the earlier questions of the conversation, oldest first, for follow-ups ("Et en 2019 ?")."""
        history = list(history or [])[-MAX_HISTORY_MESSAGES:]
        answer = service.ask(question, [{"role": "user", "content": str(turn)} for turn in history])
        record = ask_record(answer)
        sources = [f"[{c['number']}] {c['title']} ({where(c)}): « {c['quote']} »" for c in record["citations"]]
        text = f"status: {answer.status}\n\n{answer.text}" + ("\n\nSources:\n" + "\n".join(sources) if sources else "")
        return result(text, record)

    @server.tool()
    def list_documents() -> CallToolResult:
        """Every file of the corpus with its title, kind, passages and state in the index."""
        documents = service.documents()
        text = "\n".join(f"{d['file']} — {d['title'] or '(untitled)'} ({d['status']})" for d in documents)
        return result(text or "The corpus is empty.", {"documents": documents})

    @server.tool()
    def read_passage(passage_id: str) -> CallToolResult:
        """The whole text of one passage, by the id that search_documents gives, with its provenance."""
        passage = service.passage(passage_id)
        if passage is None:
            raise ValueError(f"no passage {passage_id!r} in the current index")
        record = passage_record(passage)
        return result(json.dumps(record, ensure_ascii=False, indent=1), record)

    return server


def run_stdio(service: Service) -> None:
    """Serve the tools on standard input and output until the client closes them (``assistant mcp``)."""
    mcp_server(service).run("stdio")
