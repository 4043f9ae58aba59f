"""The ``assistant`` command: build, search, ask, serve, eval. The CLI prints; the library logs."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from assistant.errors import AssistantError
from assistant.settings import Settings


class ProgressBar:
    """The build's progress on stderr: a tqdm bar per stage, with its rate and time left."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.stage = ""
        self.bar: tqdm | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            if stage in NOTES:
                print(NOTES[stage], file=self.stream)
            self.bar = tqdm(total=total or None, desc=f"{stage:<10}", file=self.stream, unit=UNITS.get(stage, "it"))
        if self.bar.total != (total or None):
            self.bar.total = total or None
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            if self.bar.total:
                self.bar.update(self.bar.total - self.bar.n)  # a stage is done when the next one starts
            self.bar.close()
            self.bar = None


UNITS = {"reading": "file", "embedding": "passage", "sentences": "sentence", "filling": "sentence"}
NOTES = {"filling": "the index answers questions now; its sentences' vectors follow, then it is published again"}


def _settings(args) -> Settings:
    return Settings.from_env(corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None))


def cmd_build(args) -> int:
    from assistant.api import build_index

    bar = ProgressBar()
    try:
        report = build_index(
            full=args.full,
            retry_failed=args.retry_failed,
            settings=_settings(args),
            progress=bar,
            ray=args.ray,
            workers=args.workers,
        )
    finally:
        bar.close()
    print(report.summary())
    return 0


def cmd_watch(args) -> int:
    from assistant.watch import IndexState, Watcher, build_now

    settings, state = _settings(args), IndexState()
    report = build_now(settings, state)
    print(report.summary() if report else state.last_error or "another build is running", flush=True)
    print(f"watching {settings.corpus_dir} (Ctrl+C to stop)", flush=True)
    watcher = Watcher(settings, state, on_build=lambda report: print(report.summary(), flush=True))
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_search(args) -> int:
    from assistant.api import retrieve

    passages = retrieve(args.query, k=args.k, source=args.source, settings=_settings(args))
    if args.json:
        print(json.dumps([asdict(p) for p in passages], ensure_ascii=False, indent=1))
        return 0
    for rank, p in enumerate(passages, start=1):
        where = f"{p.source}" + (f", p. {p.page}" if p.page else "") + (f" — {p.heading}" if p.heading else "")
        print(f"{rank}. [{p.score:.3f}] {where}\n   {' '.join(p.text.split())[:300]}\n")
    return 0


def cmd_ask(args) -> int:
    from assistant.api import ask

    answer = ask(args.query, k=args.k, settings=_settings(args), mode=args.mode)
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=1))
        return 0
    print(answer.text)
    print()
    for citation in answer.citations:
        p = citation.passage
        print(f"[{citation.number}] {p.title} ({p.source}{f', p. {p.page}' if p.page else ''})")
    return 0


def cmd_serve(args) -> int:
    from assistant.ui import serve

    serve(settings=_settings(args).with_(auth=args.auth), host=args.host, port=args.port)
    return 0


def cmd_mcp(args) -> int:
    from assistant.service.context import Service
    from assistant.service.tools import run_stdio

    logging.getLogger("mcp").setLevel(logging.WARNING)
    run_stdio(Service(_settings(args), read_only=True))
    return 0


def cmd_calibrate(args) -> int:
    from assistant.calibration import calibrate_on, calibration_path, held_out, shipped_observations
    from assistant.evaluation import evaluate, format_table, load_gold
    from assistant.retrieval import open_retriever

    settings = _settings(args)
    path = calibration_path(settings.index_dir)
    if args.reset:
        path.unlink(missing_ok=True)
        print(f"removed {path}: the shipped calibration is used again")
        return 0
    if not args.gold:
        raise ValueError("calibrate needs --gold FILE (your questions, see docs/calibration.md), or --reset")
    gold = load_gold(args.gold)
    retriever = open_retriever(settings)
    before = evaluate(gold, settings, retriever=retriever)
    in_use, shipped = retriever.profile, shipped_observations(retriever.profile.family)
    profile, mine, fitted_on = calibrate_on(gold, retriever, write_to=path, shipped=shipped)
    retriever.profile = profile
    after = evaluate(gold, settings, retriever=retriever)
    keep = ("abstained_answerable", "gold_in_answer", "answer_cites_right_document", "abstained_in_domain")
    print("On your questions, with the calibration fitted on them (flattered: it has seen them):\n")
    print(format_table({"before": {k: before[k] for k in keep}, "after": {k: after[k] for k in keep}}))
    unseen = held_out(mine, shipped, in_use.support)
    print("\nEach of your questions judged by a fit that did not see it (five parts left out in turn), as a new")
    print("question would be; read off the sentences found, without the gates of questions out of the field:\n")
    print(format_table(unseen))
    worse = [name for name, value in unseen["after"].items() if _worse(name, unseen["before"][name], value)]
    if worse:
        print(f"\nOn questions it has not seen, the new calibration does worse on {', '.join(worse)}: more questions")
        print("help (docs/calibration.md, 'How many questions'); `assistant calibrate --reset` goes back.")
    print(f"\nfitted on {fitted_on}; written to {path} (ask() and the app use it; --reset removes it)")
    return 0


def _worse(figure: str, before: float | None, after: float | None) -> bool:
    """Whether a figure of ``held_out`` moved the wrong way: more answerable questions abstained, fewer answered with
    the expected sentence first, fewer unanswerable ones abstained."""
    if before is None or after is None:
        return False
    return after > before if figure == "abstained_answerable" else after < before


def cmd_eval(args) -> int:
    from assistant.evaluation import main as evaluate

    if args.from_feedback:
        from assistant.api import gold_from_feedback

        candidates = gold_from_feedback(settings=_settings(args))
        text = json.dumps(candidates, ensure_ascii=False, indent=1) + "\n"
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(
                f"{len(candidates['answerable'])} answerable questions and {len(candidates['review'])} to review"
                f" written to {args.out} (check them, then: assistant eval --gold {args.out})"
            )
        else:
            sys.stdout.write(text)
        return 0
    return evaluate(
        gold=args.gold, settings=_settings(args), thresholds=args.check, as_json=args.json, split=args.split
    )


def cmd_gaps(args) -> int:
    from assistant.api import unanswered
    from assistant.feedback.gaps import to_csv, to_markdown

    report = unanswered(settings=_settings(args))
    if args.csv:
        Path(args.csv).write_text(to_csv(report), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(report), encoding="utf-8")
    if not (args.csv or args.markdown):
        sys.stdout.write(to_markdown(report))
    else:
        print(f"{len(report)} groups written to " + " and ".join(f for f in (args.csv, args.markdown) if f))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="assistant", description="Ask questions of your documents, with sources.")
    top.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = top.add_subparsers(dest="command", required=True)

    def paths(sub):
        sub.add_argument("--corpus", help="documents folder (default: ASSISTANT_CORPUS_DIR or ./corpus)")
        sub.add_argument("--index", help="index folder (default: ASSISTANT_INDEX_DIR or ./index)")

    build = commands.add_parser("build", help="index new and changed documents")
    paths(build)
    build.add_argument("--full", action="store_true", help="re-read and re-embed everything")
    build.add_argument("--retry-failed", action="store_true", help="read again the files that failed before")
    build.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="read and embed on Ray: 'auto' joins the running cluster, an address a given one; no address: "
        "ASSISTANT_RAY_ADDRESS, else a new local instance (needs the ray extra)",
    )
    build.add_argument("--workers", type=int, default=0, help="embedding actors on Ray (default: one per CPU)")
    build.set_defaults(run=cmd_build)

    watch = commands.add_parser("watch", help="keep the index up to date while files change in the corpus folder")
    paths(watch)
    watch.set_defaults(run=cmd_watch)

    search = commands.add_parser("search", help="show the passages that best match a question")
    paths(search)
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    search.add_argument("--source", help="only this file, or a glob such as 'rapports/*.pdf'")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(run=cmd_search)

    ask = commands.add_parser("ask", help="answer a question with cited sources")
    paths(ask)
    ask.add_argument("query")
    ask.add_argument("-k", type=int, default=5, help="number of passages to read (default 5)")
    ask.add_argument(
        "--mode",
        choices=["extractive", "llm"],
        default=None,
        help="extractive (default) or llm (needs ASSISTANT_LLM_URL)",
    )
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.set_defaults(run=cmd_ask)

    serve = commands.add_parser("serve", help="start the web app, its REST API, OpenAI-compatible endpoint and MCP")
    paths(serve)
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1 or GRADIO_SERVER_NAME)")
    serve.add_argument("--port", type=int, default=None, help="port (default 7860 or GRADIO_SERVER_PORT)")
    serve.add_argument("--auth", default=None, help="users file (name:password a line): ask for a login")
    serve.set_defaults(run=cmd_serve)

    mcp = commands.add_parser("mcp", help="serve the documents as MCP tools on stdin/stdout (for desktop clients)")
    paths(mcp)
    mcp.set_defaults(run=cmd_mcp)

    calibrate = commands.add_parser(
        "calibrate", help="fit the answering on your own questions (docs/calibration.md), beside the index"
    )
    paths(calibrate)
    calibrate.add_argument("--gold", default=None, help="your questions with their answers (JSON)")
    calibrate.add_argument("--reset", action="store_true", help="remove your calibration: back to the shipped one")
    calibrate.set_defaults(run=cmd_calibrate)

    evaluate = commands.add_parser("eval", help="measure answer and retrieval quality on a gold set")
    paths(evaluate)
    evaluate.add_argument("--gold", default=None, help="gold questions (JSON); default: the shipped set")
    evaluate.add_argument("--check", default=None, help="thresholds file: exit 1 if a figure falls below")
    evaluate.add_argument("--split", choices=["dev", "test"], default=None, help="one split only (default: both)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.add_argument(
        "--from-feedback",
        action="store_true",
        help="write gold-set candidates from the feedback on answers instead (a gold file: --out FILE)",
    )
    evaluate.add_argument("--out", default=None, help="with --from-feedback: the file to write (default: stdout)")
    evaluate.set_defaults(run=cmd_eval)

    gaps = commands.add_parser("gaps", help="what the documents do not answer: questions grouped by subject")
    paths(gaps)
    gaps.add_argument("--csv", default=None, help="write the report as CSV to this file")
    gaps.add_argument("--markdown", default=None, help="write the report as Markdown to this file")
    gaps.set_defaults(run=cmd_gaps)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    import bm25s  # noqa: F401 - it sets its own logger to DEBUG when imported: import it first, then quiet it

    for noisy in ("faiss.loader", "bm25s", "sentence_transformers", "httpx", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.run(args)
    except (AssistantError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
