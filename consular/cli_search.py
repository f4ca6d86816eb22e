"""``consular index`` and ``consular search``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from consular.cli import JsonFlag, _fail, _print_json, _settings, app
from knowledge.base import KnowledgeBase
from retrieval.service import RetrievalService


@app.command("index")
def index_command(
    rebuild: Annotated[
        bool, typer.Option(help="Drop the index and embed everything again.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Embed new or changed sections of published documents and remove retired ones."""
    settings = _settings()
    kb = KnowledgeBase.load(settings.kb_dir, settings.missions_file)
    if not kb.documents:
        _fail("No valid documents to index: run `consular kb check`.")
    service = RetrievalService.from_settings(settings)
    report = service.index(kb.published(), rebuild=rebuild)
    if as_json:
        _print_json({**asdict(report), "total": report.total, "problems": len(kb.problems)})
        return
    typer.echo(
        f"Indexed {report.total} sections of {len(kb.published())} published documents: "
        f"{report.added} embedded, {report.unchanged} unchanged, {report.removed} removed "
        f"in {report.seconds:.1f} s{' (rebuilt)' if report.rebuilt else ''}."
    )
    if kb.problems:
        typer.secho(
            f"{len(kb.problems)} file problem(s) skipped: run `consular kb check`.",
            fg=typer.colors.YELLOW,
        )


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="A question, as a citizen would type it.")],
    lang: Annotated[str | None, typer.Option(help="Answer language (default: detected).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=20, help="How many documents.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Show ranked documents with their best sections and scores."""
    if not query.strip():
        _fail("Type a question to search for.")
    settings = _settings()
    searcher = RetrievalService.from_settings(settings).build_searcher()
    response = searcher.search(query, lang=lang, k=k)
    if as_json:
        _print_json(response.to_dict())
        return
    prepared = response.prepared
    typer.echo(f"Language: {prepared.lang}   confidence: {response.confidence:.2f}")
    if prepared.dense != prepared.original:
        typer.echo(f"Understood as: {prepared.dense}")
    for rank, hit in enumerate(response.results, start=1):
        typer.secho(
            f"\n{rank}. {hit.title}  [{hit.doc_id}/{hit.lang}]  score {hit.score:.3f}", bold=True
        )
        typer.echo(f"   {hit.source}  (reviewed {hit.reviewed})")
        for section in hit.sections:
            snippet = " ".join(section.text.split())[:220]
            typer.echo(f"   § {section.heading}: {snippet}")
