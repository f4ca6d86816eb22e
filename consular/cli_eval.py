"""``consular eval ...``: run labelled question sets through the engine."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from consular.cli import JsonFlag, _fail, _print_json, _settings, eval_app
from consular.settings import PACKAGE_ROOT
from evals.dataset import load_items
from evals.retrieval_eval import check_thresholds, evaluate_retrieval, load_thresholds
from knowledge.loader import load_documents
from retrieval.service import RetrievalService

DATA = PACKAGE_ROOT / "evals" / "data"


@eval_app.command("retrieval")
def eval_retrieval(
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="Another knowledge base folder (<lang>/<id>.md); indexed into a temporary index."
        ),
    ] = None,
    questions: Annotated[Path, typer.Option(help="JSON Lines question file.")] = DATA
    / "retrieval_test.jsonl",
    check: Annotated[bool, typer.Option(help="Exit 1 below evals/thresholds.json.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Hit@1, Hit@3 and MRR, overall, per language and per tag."""
    settings = _settings()
    items = load_items(questions)
    with tempfile.TemporaryDirectory(prefix="consular-eval-") as tmp:
        if corpus:
            docs = load_documents(corpus).documents
            if not docs:
                _fail(f"No valid documents under {corpus}.")
            service = RetrievalService.from_settings(settings, index_dir=Path(tmp))
        else:
            from knowledge.base import KnowledgeBase

            docs = KnowledgeBase.load(settings.kb_dir, settings.missions_file).documents
            service = RetrievalService.from_settings(settings)
        service.index([d for d in docs if d.is_published])
        report = evaluate_retrieval(service.build_searcher(), items)
    finish_report(report, "retrieval", check, as_json, _print_report)


def finish_report(
    report: dict, section: str, check: bool, as_json: bool, print_text: Callable[[dict], None]
) -> None:
    """Print an eval report (JSON or text) and exit 1 below its thresholds when checking."""
    failures = check_thresholds(report, load_thresholds(section=section)) if check else []
    if as_json:
        _print_json({**report, "threshold_failures": failures})
    else:
        print_text(report)
        for failure in failures:
            typer.secho(f"BELOW THRESHOLD: {failure}", fg=typer.colors.RED)
    if failures:
        raise typer.Exit(1)


def _print_report(report: dict) -> None:
    def line(name: str, group: dict) -> str:
        if not group.get("n"):
            return f"{name:<22} n=0"
        return (
            f"{name:<22} n={group['n']:<4} hit@1 {group['hit@1']:.3f}  hit@3 {group['hit@3']:.3f}"
            f"  mrr {group['mrr']:.3f}"
        )

    typer.echo(line("overall", report["overall"]))
    for title, key in (("language", "by_lang"), ("tag", "by_tag")):
        typer.echo(f"\nby {title}:")
        for name, group in report[key].items():
            typer.echo(line(f"  {name}", group))
    if report["misses"]:
        typer.echo(f"\nmisses at rank 1 ({len(report['misses'])}):")
        for miss in report["misses"]:
            typer.echo(f"  {miss['id']} [{miss['lang']}] {miss['question'][:70]!r}: {miss['why']}")


@eval_app.command("calibrate")
def eval_calibrate(
    questions: Annotated[
        list[Path] | None, typer.Option(help="Dev question files (repeatable).")
    ] = None,
    write: Annotated[
        bool, typer.Option(help="Save to the calibration file in the settings.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Fit the 0..1 retrieval confidence on dev questions and save it."""
    from evals.calibration import calibrate
    from knowledge.base import KnowledgeBase

    settings = _settings()
    files = questions or [
        DATA / "retrieval_dev.jsonl",
        DATA / "retrieval_dev2.jsonl",
        DATA / "conversation_dev.jsonl",
    ]
    if any("test" in f.name for f in files):
        _fail("Calibrate on dev files only: the test split is held out.")
    items = [item for f in files for item in load_items(f)]
    service = RetrievalService.from_settings(settings)
    service.index(KnowledgeBase.load(settings.kb_dir, settings.missions_file).published())
    model, stats = calibrate(service.build_searcher(), items)
    if write:
        model.save(settings.calibration_file, fitted_on=[f.name for f in files], stats=stats)
    if as_json:
        _print_json({"weights": model.weights, "bias": model.bias, **stats})
    else:
        typer.echo(f"weights {model.weights} bias {model.bias:.3f}")
        typer.echo(" ".join(f"{k}={v}" for k, v in stats.items()))
