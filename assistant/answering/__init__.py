"""Answering: from the retrieved passages to an answer whose every sentence is backed by a citation.

``answers`` picks the sentences to quote (or abstains) and checks a language model's text; ``candidates`` lists
the sentences it may quote, each with its support; ``support`` says what a question asks for and which answers
fit it; ``llm`` talks to an OpenAI-compatible
endpoint; ``provenance`` finds stale citations and exports conversations; ``history`` and ``language`` read the
conversation and the question's language.
"""

from assistant.answering.answers import answer_stream, ask

__all__ = ["answer_stream", "ask"]
