"""Answering: from the retrieved passages to an answer whose every sentence is backed by a citation.

``answers`` picks the sentences to quote (or abstains) and checks a language model's text; ``candidates`` lists
the sentences it may quote, each with its support; ``support`` says what a question asks for and which answers
fit it; ``llm`` talks to an OpenAI-compatible endpoint; ``provenance`` finds stale citations and exports
conversations; ``history`` reads the conversation, ``language`` how the question is worded (its language, the
courtesies around it, names typed in lower case).
"""

from assistant.answering.answers import answer_stream, ask

__all__ = ["answer_stream", "ask"]
