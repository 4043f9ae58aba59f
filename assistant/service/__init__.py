"""The HTTP doors to the assistant, beside the page: a REST API (``rest``), an OpenAI-compatible chat endpoint
(``chat``) and an MCP server (``tools``), assembled in one FastAPI application by ``server``, with the access
rules and bounds of ``context``. Every citation travels in the export's format (docs/export.md).
"""

from assistant.service.context import Service
from assistant.service.server import create_api

__all__ = ["Service", "create_api"]
