"""Building on Ray: the reading, chunking and embedding of new and changed files, spread over a cluster.

The driver (where ``assistant build --ray`` runs) does the rest as a local build does: it finds what changed,
reuses the vectors of every text embedded before, and writes the index with the same atomic swap. What goes out
is the bytes of each new or changed file (workers need not see the corpus folder) and the texts never embedded
before, in batches; what comes back is chunks and vectors.

- Reading: one Ray task a file, run again (up to READ_RETRIES times) when its worker dies. A file that cannot be
  read is left out with its reason, as in a local build; one whose workers all died is left out saying so.
- Embedding: a pool of actors, each holding the model once, fed batches as they free up. An actor that dies is
  restarted and its batch sent again (up to ACTOR_RESTARTS times).
- Nothing is written before every file is read and every text embedded: a build that fails leaves the index
  that was there.

Every worker needs this package and its embedding model installed, as on the driver (docs/cluster.md).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from assistant.embeddings import Embedder
from assistant.errors import AssistantError, EmbeddingError, first_line
from assistant.reading import read_one
from assistant.settings import Settings

log = logging.getLogger(__name__)

INSTALL = "building on Ray needs the ray extra: pip install -e '.[ray]' (or pip install 'ray[default]')"
READ_RETRIES = 3
ACTOR_RESTARTS = 3


def _ray():
    try:
        import ray
    except ImportError:
        raise AssistantError(INSTALL) from None
    return ray


def read_bytes(name: str, data: bytes, source: str, settings: Settings):
    """On a worker: read and chunk one file from its bytes, as ``read_one`` does from its path."""
    with tempfile.TemporaryDirectory(prefix="assistant-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return read_one(path, source, settings)


class EmbeddingWorker:
    """On a worker: one embedding model, loaded once, that embeds the batches it is sent."""

    def __init__(self, settings: Settings) -> None:
        from assistant.embeddings import embedder_for

        self.embedder = embedder_for(settings)
        self.embedder.model  # noqa: B018 - load now, not on the first batch

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_documents(texts)


class RayCluster:
    """A connection to Ray for one build: ``address`` None or "" starts a local instance, "auto" joins the
    running cluster, anything else is a cluster's address. ``workers``: embedding actors of one thread each
    (default: one per CPU of the cluster)."""

    def __init__(self, settings: Settings, address: str | None = None, workers: int = 0) -> None:
        ray = self.ray = _ray()
        self.settings = settings
        self.started = not ray.is_initialized()
        if self.started:
            log.info("connecting to Ray (%s)", address or "a new local instance")
            try:
                ray.init(address=address or None, include_dashboard=False, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise AssistantError(
                    f"cannot start or reach {where} ({first_line(exc, 200)}): start a cluster with `ray start --head`,"
                    " or leave the address out (and ASSISTANT_RAY_ADDRESS unset) to build on a local instance"
                ) from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers or max(1, cpus)
        self.actors: list = []

    def read(self, files: dict[str, Path], to_read: list[str]) -> Iterator[tuple[str, object]]:
        """(source, (document, chunks) or the reason it failed) for each file, as workers finish them."""
        ray = self.ray
        task = ray.remote(num_cpus=1, max_retries=READ_RETRIES)(read_bytes)
        pending = {}
        for source in to_read:
            try:
                data = files[source].read_bytes()
            except OSError as exc:
                yield source, f"cannot read the file ({exc.strerror or exc})"
                continue
            pending[task.remote(files[source].name, data, source, self.settings)] = source
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            source = pending.pop(done[0])
            try:
                yield source, ray.get(done[0])
            except ray.exceptions.RayError as exc:
                log.warning("reading %s failed on every worker: %s", source, exc)
                yield source, f"could not be read: the workers reading it died {READ_RETRIES + 1} times"

    def embedder(self, local: Embedder) -> DistributedEmbedder:
        return DistributedEmbedder(self, local)

    def start_actors(self) -> list:
        if not self.actors:
            actor = self.ray.remote(num_cpus=1, max_restarts=ACTOR_RESTARTS, max_task_retries=ACTOR_RESTARTS)(
                EmbeddingWorker
            )
            runtime = {"env_vars": {"OMP_NUM_THREADS": "1"}}  # one core an actor: actors, not threads, scale out
            self.actors = [actor.options(runtime_env=runtime).remote(self.settings) for _ in range(self.workers)]
        return self.actors

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self.started:
            self.ray.shutdown()


class DistributedEmbedder:
    """An embedder whose ``embed_documents`` runs on the cluster's actors; the rest (model name, prompts,
    dimension: what the manifest records) is the local embedder's."""

    def __init__(self, cluster: RayCluster, local: Embedder) -> None:
        self.cluster, self.local = cluster, local

    def __getattr__(self, name: str):
        return getattr(self.local, name)

    def embed_documents(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Like Embedder.embed_documents, in the same batches (Embedder.batches), each embedded by whichever
        actor is free."""
        from ray.util import ActorPool

        if not texts:
            return self.local.collect(0, (), progress, out)
        batches = self.local.batches(texts)
        pool = ActorPool(self.cluster.start_actors())
        results = pool.map(lambda actor, rows: actor.embed.remote([texts[i] for i in rows]), batches)
        try:
            return self.local.collect(len(texts), zip(batches, results), progress, out)
        except self.cluster.ray.exceptions.RayError as exc:
            raise EmbeddingError(
                f"embedding on Ray failed after {ACTOR_RESTARTS} restarts of a worker ({first_line(exc, 200)});"
                " nothing was written, the index is as it was"
            ) from None
