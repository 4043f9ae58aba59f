"""Measured quality on a gold set: retrieval hits, answers, abstention and latency (``assistant eval``)."""

from __future__ import annotations

import json
import statistics
import sys
import time
from importlib import resources
from pathlib import Path

from assistant.answers import ask
from assistant.api import open_retriever
from assistant.settings import Settings

# Figures where lower is better; every other figure is better higher.
LOWER_IS_BETTER = {"abstained_answerable", "retrieve_p50_ms", "retrieve_p95_ms", "ask_p50_ms", "ask_p95_ms"}


def normalize(text: str) -> str:
    """Whitespace folded (documents carry non-breaking spaces), so snippets match as a reader sees them."""
    return " ".join(text.split())


def load_gold(path: str | Path | None = None) -> dict:
    if path is None:
        return json.loads(resources.files("assistant").joinpath("gold/default.json").read_text("utf-8"))
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else 0.0


def _hit_rank(passages, source: str, snippet: str) -> int | None:
    wanted = normalize(snippet)
    for rank, passage in enumerate(passages, start=1):
        if passage.source == source and wanted in normalize(passage.text):
            return rank
    return None


def evaluate(gold: dict, settings: Settings, k: int = 5) -> dict:
    """Every figure of the report, as a flat dict of numbers."""
    retriever = open_retriever(settings)
    retriever.search("échauffement", k=1)  # load the model outside the timings
    retrieve_ms, ask_ms = [], []
    ranks, right_doc, contains, answered_right, verbatim, quotes, abstained = [], 0, 0, 0, 0, 0, 0
    for item in gold["answerable"]:
        started = time.perf_counter()
        passages = retriever.search(item["question"], k=k)
        retrieve_ms.append(1000 * (time.perf_counter() - started))
        ranks.append(_hit_rank(passages, item["source"], item["snippet"]))
        right_doc += bool(passages) and passages[0].source == item["source"]
        started = time.perf_counter()
        answer = ask(item["question"], k=k, settings=settings, retriever=retriever, mode="extractive")
        ask_ms.append(1000 * (time.perf_counter() - started))
        abstained += answer.abstained
        quoted = normalize(" ".join(c.quote for c in answer.citations))
        contains += normalize(item["snippet"]) in quoted
        answered_right += any(c.passage.source == item["source"] for c in answer.citations)
        quotes += len(answer.citations)
        verbatim += sum(c.quote in c.passage.text for c in answer.citations)
    unanswerable = [
        ask(i["question"], k=k, settings=settings, retriever=retriever, mode="extractive").abstained
        for i in gold["unanswerable"]
    ]
    follow_hits = []
    for item in gold.get("follow_ups", []):
        answer = ask(
            item["question"],
            k=k,
            settings=settings,
            retriever=retriever,
            mode="extractive",
            history=[{"role": "user", "content": item["first"]}],
        )
        follow_hits.append(_hit_rank(answer.passages, item["source"], item["snippet"]) is not None)
    n = len(gold["answerable"])
    return {
        "questions": n,
        "hit@1": sum(r is not None and r <= 1 for r in ranks) / n,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "right_document@1": right_doc / n,
        "answer_contains_snippet": contains / n,
        "answer_cites_right_document": answered_right / n,
        "quote_verbatim_rate": verbatim / quotes if quotes else 1.0,
        "abstained_answerable": abstained / n,
        "abstained_unanswerable": sum(unanswerable) / len(unanswerable) if unanswerable else 1.0,
        "follow_up_hit@5": sum(follow_hits) / len(follow_hits) if follow_hits else 1.0,
        "retrieve_p50_ms": statistics.median(retrieve_ms),
        "retrieve_p95_ms": _percentile(retrieve_ms, 0.95),
        "ask_p50_ms": statistics.median(ask_ms),
        "ask_p95_ms": _percentile(ask_ms, 0.95),
    }


def check(figures: dict, thresholds: dict) -> list[str]:
    """The figures that fall short of their recorded threshold, said in words."""
    failures = []
    for name, limit in thresholds.items():
        value = figures.get(name)
        if value is None:
            failures.append(f"{name}: not measured")
        elif name in LOWER_IS_BETTER and value > limit:
            failures.append(f"{name} = {value:.3f}, above the allowed {limit}")
        elif name not in LOWER_IS_BETTER and value < limit:
            failures.append(f"{name} = {value:.3f}, below the required {limit}")
    return failures


def format_table(figures: dict) -> str:
    lines = ["| figure | value |", "|---|---|"]
    for name, value in figures.items():
        lines.append(f"| {name} | {value:.3f} |" if isinstance(value, float) else f"| {name} | {value} |")
    return "\n".join(lines)


def main(
    gold: str | None = None, settings: Settings | None = None, thresholds: str | None = None, as_json: bool = False
) -> int:
    """Print the figures; with a ``thresholds`` file, exit 1 when one falls short of its threshold."""
    figures = evaluate(load_gold(gold), settings or Settings.from_env())
    print(json.dumps(figures, indent=1) if as_json else format_table(figures))
    if thresholds:
        failures = check(figures, json.loads(Path(thresholds).read_text(encoding="utf-8")))
        for failure in failures:
            print(f"REGRESSION: {failure}", file=sys.stderr)
        return 1 if failures else 0
    return 0
