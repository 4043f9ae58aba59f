"""Measured quality on a gold set: retrieval hits, answers, abstention and latency (``assistant eval``)."""

from __future__ import annotations

import json
import statistics
import sys
import time
from importlib import resources
from pathlib import Path

from assistant.answering.answers import ask
from assistant.answering.language import detect_language
from assistant.retrieval import open_retriever
from assistant.settings import Settings

# Figures where lower is better; every other figure is better higher.
LOWER_IS_BETTER = {
    "abstained_answerable",
    "abstained_answerable_in_conversation",
    "partial_answerable",
    "retrieve_p50_ms",
    "retrieve_p95_ms",
    "ask_p50_ms",
    "ask_p95_ms",
}


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


def _mrr(ranks: list) -> float:
    return sum(1 / r for r in ranks if r) / len(ranks) if ranks else 1.0


def _hit_rank(passages, source: str, snippet: str) -> int | None:
    wanted = normalize(snippet)
    for rank, passage in enumerate(passages, start=1):
        if passage.source == source and wanted in normalize(passage.text):
            return rank
    return None


def _asks(item: dict) -> list[str]:
    return item.get("snippets") or [item["snippet"]]


def evaluate(gold: dict, settings: Settings, k: int = 5, split: str | None = None, retriever=None) -> dict:
    """Every figure of the report, as a flat dict of numbers; ``split`` keeps only "dev" or "test" items."""

    def kept(name: str) -> list[dict]:
        return [item for item in gold.get(name, []) if split is None or item.get("split", "dev") == split]

    retriever = retriever or open_retriever(settings)
    retriever.search("échauffement", k=1)  # load the model outside the timings

    def answer(question: str, **options):
        return ask(question, k=k, settings=settings, retriever=retriever, mode="extractive", **options)

    retrieve_ms, ask_ms = [], []
    ranks, right_doc, contains, answered_right, verbatim, quotes, abstained, partial = [], 0, 0, 0, 0, 0, 0, 0
    answerable = kept("answerable")
    for item in answerable:
        started = time.perf_counter()
        passages = retriever.search(item["question"], k=k)
        retrieve_ms.append(1000 * (time.perf_counter() - started))
        ranks.append(_hit_rank(passages, item["source"], item["snippet"]))
        right_doc += bool(passages) and passages[0].source == item["source"]
    open_right = 0
    for item in answerable + kept("open"):
        started = time.perf_counter()
        result = answer(item["question"])
        ask_ms.append(1000 * (time.perf_counter() - started))
        abstained += result.abstained
        partial += result.status == "partial"
        quoted = normalize(" ".join(c.quote for c in result.citations if c.passage.source == item["source"]))
        hit = any(normalize(snippet) in quoted for snippet in _asks(item))
        contains += hit
        open_right += hit and "snippets" in item
        answered_right += any(c.passage.source == item["source"] for c in result.citations)
        quotes += len(result.citations)
        verbatim += sum(c.quote in c.passage.text for c in result.citations)
    # the same questions asked one after another in one conversation: each must still be read as it stands
    in_conversation, conversation_hits, history = [], [], []
    for item in answerable + kept("open"):
        result = answer(item["question"], history=list(history))
        in_conversation.append(result.abstained)
        quoted = normalize(" ".join(c.quote for c in result.citations if c.passage.source == item["source"]))
        conversation_hits.append(any(normalize(snippet) in quoted for snippet in _asks(item)))
        history += [{"role": "user", "content": item["question"]}, {"role": "assistant", "content": result.text}]
    unanswerable = {"in_domain": [], "out_of_domain": []}
    for item in kept("unanswerable"):
        unanswerable[item.get("kind", "in_domain")].append(answer(item["question"]).abstained)
    follow_hits = []
    for item in kept("follow_ups"):
        result = answer(item["question"], history=[{"role": "user", "content": item["first"]}])
        follow_hits.append(_hit_rank(result.passages, item["source"], item["snippet"]) is not None)
    n, asked, opened = len(answerable) or 1, len(ask_ms) or 1, len(kept("open"))  # a set may hold no answerable

    def share(values: list) -> float:
        return sum(values) / len(values) if values else 1.0

    return {
        "questions": len(answerable),
        "hit@1": sum(r is not None and r <= 1 for r in ranks) / n,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "mrr_french": _mrr([r for r, item in zip(ranks, answerable) if detect_language(item["question"]) == "fr"]),
        "mrr_english": _mrr([r for r, item in zip(ranks, answerable) if detect_language(item["question"]) == "en"]),
        "right_document@1": right_doc / n,
        "open_questions": opened,
        "gold_in_answer": contains / asked,
        "open_answered_right": open_right / opened if opened else 1.0,
        "answer_cites_right_document": answered_right / asked,
        "quote_verbatim_rate": verbatim / quotes if quotes else 1.0,
        "abstained_answerable": abstained / asked,
        "abstained_answerable_in_conversation": share(in_conversation),
        "gold_in_answer_in_conversation": share(conversation_hits),
        "partial_answerable": partial / asked,
        "unanswerable_in_domain": len(unanswerable["in_domain"]),
        "abstained_in_domain": share(unanswerable["in_domain"]),
        "abstained_out_of_domain": share(unanswerable["out_of_domain"]),
        "follow_up_hit@5": share(follow_hits),
        "retrieve_p50_ms": statistics.median(retrieve_ms or [0.0]),
        "retrieve_p95_ms": _percentile(retrieve_ms, 0.95),
        "ask_p50_ms": statistics.median(ask_ms or [0.0]),
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


def format_table(figures: dict[str, dict]) -> str:
    """One column per split."""
    splits = list(figures)
    lines = ["| figure | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for name in figures[splits[0]]:
        cells = [figures[split][name] for split in splits]
        shown = ("-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in cells)
        lines.append(f"| {name} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def main(
    gold: str | None = None,
    settings: Settings | None = None,
    thresholds: str | None = None,
    as_json: bool = False,
    split: str | None = None,
) -> int:
    """Print the figures for each split; with a ``thresholds`` file, exit 1 when one falls short of its threshold.

    The thresholds file maps a split ("dev", "test") to the figures it must reach.
    """
    gold_set, settings = load_gold(gold), settings or Settings.from_env()
    splits = [split] if split else ["dev", "test"]
    figures = {name: evaluate(gold_set, settings, split=name) for name in splits}
    if as_json:
        print(json.dumps(figures, indent=1))
    else:
        print(format_table(figures))
    if thresholds:
        limits = json.loads(Path(thresholds).read_text(encoding="utf-8"))
        failures = [f"{name}: {failure}" for name in splits for failure in check(figures[name], limits.get(name, {}))]
        for failure in failures:
            print(f"REGRESSION: {failure}", file=sys.stderr)
        return 1 if failures else 0
    return 0
