"""The exceptions the library raises, so that callers can catch ours and only ours."""


def first_line(exc: BaseException, limit: int = 160) -> str:
    """An exception's message cut to its first line (its type's name when it has none), for a one-line reason."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]


class AssistantError(Exception):
    """Base class of every error raised by the assistant."""


class DocumentError(AssistantError):
    """A file could not be read as a document; the message says why, in a few words."""


class IndexNotFoundError(AssistantError):
    """No usable index at the given place."""


class IndexMismatchError(AssistantError):
    """The index was built with settings (model, format) that differ from the ones in use."""


class IndexDamagedError(AssistantError):
    """A file of the index cannot be read or disagrees with the manifest; a build repairs it.

    ``damage`` says what is wrong in a few words, without the advice of the message.
    """

    def __init__(self, message: str, damage: str = "") -> None:
        super().__init__(message)
        self.damage = damage or message


class IndexBusyError(AssistantError):
    """Another build holds the index lock."""


class LLMError(AssistantError):
    """The language-model endpoint could not be reached or answered badly."""


class CorpusNotFoundError(AssistantError, FileNotFoundError):
    """The corpus folder does not exist."""


class EmbeddingError(AssistantError):
    """The embedding model could not be loaded or used; the message names the setting that fixes it."""
