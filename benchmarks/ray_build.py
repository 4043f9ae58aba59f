"""Building on Ray against building locally, on corpus-beta pages, on this machine.

    python benchmarks/ray_build.py [--pages 120]     # needs the ray extra: pip install -e ".[ray]"

Every build is a full build of the same pages with the default model. Rows:
- local: the ordinary build (both cores: threads read, the engine embeds on every core);
- Ray, N workers: `build_index(ray=...)` on a local Ray instance started beforehand (its start is timed apart),
  N embedding actors of one thread each;
- the embedding step alone, same texts, by the actor pool the build uses and by Ray Data (`map_batches` with an
  actor class), to choose between the two.
Ratios are to the local build of the same run. One worker's throughput is what each added worker brings, as long
as the driver and the network keep up.
"""

from __future__ import annotations

import argparse
import logging
import sys

from build_speed import copy_markdown
from common import ROOT, Timer, fresh, machine, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=120)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import numpy as np
    import ray

    from assistant.api import build_index
    from assistant.distributed import EmbeddingWorker, RayCluster
    from assistant.embeddings import embedder_for
    from assistant.index import load_index
    from assistant.settings import Settings

    root = fresh("ray-build")
    corpus = root / "corpus"
    pages = copy_markdown(args.pages, corpus)
    settings = Settings(corpus_dir=corpus)
    rows = []

    with Timer() as local:
        report = build_index(corpus, root / "index-local", settings=settings, full=True)
    chunks = report.chunks
    texts = report.embedded + report.embedded_sentences
    rows.append(["local build (threads + engine on 2 cores)", local.seconds, chunks / local.seconds, "1.00"])

    with Timer() as start:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    for workers in (1, 2):
        with Timer() as remote:
            build_index(corpus, root / f"index-ray-{workers}", settings=settings, full=True, ray="", workers=workers)
        label = f"Ray build, {workers} worker{'s' * (workers > 1)} of 1 thread"
        rows.append([label, remote.seconds, chunks / remote.seconds, f"{local.seconds / remote.seconds:.2f}"])
    same = load_index(root / "index-local").manifest["sources"] == load_index(root / "index-ray-2").manifest["sources"]
    print(f"Machine: {machine()}. {pages} corpus-beta pages, {chunks} chunks, {texts} texts embedded per build")
    print(f"(chunks and quotable sentences). Ray local instance started in {start.seconds:.1f} s.\n")
    print(table(["build", "seconds", "chunks/s", "speed vs local"], rows))
    print(f"\nRay and local builds index the same sources with the same hashes: {same}\n", flush=True)

    # The embedding step alone: the build's actor pool against Ray Data, on the same chunk texts.
    index = load_index(root / "index-local")
    sample = [chunk.indexed_text() for chunk in index.chunks]
    cluster = RayCluster(settings, workers=2)
    pool = cluster.embedder(embedder_for(settings))
    pool.embed_documents(sample[:16])  # actors up and models loaded before timing
    with Timer() as actors:
        pooled = pool.embed_documents(sample)
    embed_rows = [["actor pool (the build's)", actors.seconds, len(sample) / actors.seconds, "1.00"]]
    cluster.close()  # its actors hold the CPUs Ray Data's actors need

    class Embed(EmbeddingWorker):
        def __call__(self, batch):
            return {"vector": self.embed(list(batch["text"]))}

    ray.data.DataContext.get_current().execution_options.preserve_order = True
    dataset = ray.data.from_items([{"text": text} for text in sample])
    with Timer() as data:
        vectors = dataset.map_batches(
            Embed,
            fn_constructor_args=(settings,),
            batch_size=settings.batch_size * 8,
            concurrency=2,
            num_cpus=1,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
        ).take_all()
    speed = f"{actors.seconds / data.seconds:.2f}"
    embed_rows.append(["Ray Data map_batches", data.seconds, len(sample) / data.seconds, speed])
    agree = np.allclose(np.stack([row["vector"] for row in vectors])[:5], pooled[:5], atol=1e-4)
    ray.shutdown()

    print(table(["embedding step alone", "seconds", "chunks/s", "speed vs actor pool"], embed_rows))
    print(f"\nRay Data gives the same vectors as the actor pool: {agree}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
