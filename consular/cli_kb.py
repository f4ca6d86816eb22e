"""``consular kb ...``: what content staff use to inspect and import guidance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from consular.cli import JsonFlag, _fail, _print_json, _settings, kb_app
from consular.errors import ConsularError
from knowledge.base import KnowledgeBase
from knowledge.ingest import import_file, write_document

# The metadata options of an import (`kb import`, `content import`); import_overrides()
# turns them into the converter's overrides, where None keeps what the file says.
ImportId = Annotated[str | None, typer.Option("--id")]
ImportLang = Annotated[str | None, typer.Option("--lang")]
ImportTitle = Annotated[str | None, typer.Option()]
ImportTopics = Annotated[str | None, typer.Option(help="Comma-separated.")]
ImportMissions = Annotated[str | None, typer.Option(help="'all' or comma-separated mission ids.")]
ImportSource = Annotated[str | None, typer.Option()]
ImportReviewed = Annotated[str | None, typer.Option(help="YYYY-MM-DD")]


def import_overrides(
    doc_id: str | None,
    lang: str | None,
    title: str | None,
    topics: str | None,
    missions: str | None,
    source: str | None,
    reviewed: str | None,
    **more: str | None,
) -> dict[str, Any]:
    """The metadata given on the command line, for the converter (``more``: e.g. status)."""
    return {
        "id": doc_id,
        "lang": lang,
        "title": title,
        "source": source,
        "reviewed": reviewed,
        **more,
        "topics": [t.strip() for t in topics.split(",")] if topics else None,
        "missions": None
        if missions is None
        else ("all" if missions == "all" else [m.strip() for m in missions.split(",")]),
    }


def _load() -> KnowledgeBase:
    settings = _settings()
    return KnowledgeBase.load(settings.kb_dir, settings.missions_file, settings.catalogue_file)


@kb_app.command("list")
def kb_list(
    as_json: JsonFlag = False,
    lang: Annotated[str | None, typer.Option(help="Only this language.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, published or retired.")] = None,
) -> None:
    """List documents: id, languages, status, review date and title."""
    kb = _load()
    docs = [
        d
        for d in kb.documents
        if (not lang or d.lang == lang) and (not status or d.meta.status == status)
    ]
    rows = [
        {
            "id": d.id,
            "lang": d.lang,
            "status": d.meta.status.value,
            "reviewed": d.meta.reviewed.isoformat(),
            "title": d.meta.title,
            "topics": list(d.meta.topics),
        }
        for d in sorted(docs, key=lambda d: (d.id, d.lang))
    ]
    if as_json:
        _print_json(
            {"documents": rows, "missions": sorted(kb.missions.ids), "problems": len(kb.problems)}
        )
        return
    for row in rows:
        typer.echo(
            f"{row['id']:<30} {row['lang']}  {row['status']:<9} {row['reviewed']}  {row['title']}"
        )
    ids = {r["id"] for r in rows}
    typer.echo(
        f"\n{len(rows)} documents, {len(ids)} procedures, {len(kb.missions.missions)} missions."
    )
    if kb.problems:
        typer.secho(
            f"{len(kb.problems)} problem(s): run `consular kb check`.", fg=typer.colors.YELLOW
        )


@kb_app.command("show")
def kb_show(
    doc_id: Annotated[str, typer.Argument(metavar="ID")],
    lang: Annotated[
        str | None, typer.Option(help="Language version (default: en, else vi).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show one document (or one mission, by mission id)."""
    kb = _load()
    mission = kb.missions.get(doc_id)
    if mission and not kb.versions(doc_id):
        if as_json:
            _print_json(mission.model_dump(mode="json"))
        else:
            typer.echo(mission.model_dump_json(indent=2))
        return
    try:
        doc = kb.get(doc_id, lang)
    except ConsularError as exc:
        _fail(exc.user_message)
        return
    if as_json:
        _print_json(
            {
                **doc.meta.model_dump(mode="json"),
                "languages": [d.lang for d in kb.versions(doc_id)],
                "sections": [{"heading": s.heading, "text": s.text} for s in doc.sections()],
                "footer": doc.footer,
                "path": str(doc.path),
            }
        )
        return
    typer.echo(doc.to_markdown())


@kb_app.command("check")
def kb_check() -> None:
    """Validate every document and the mission directory; exit 1 when anything is wrong."""
    kb = _load()
    for problem in kb.problems:
        typer.echo(str(problem))
    count = len(kb.documents)
    if kb.problems:
        _fail(f"{len(kb.problems)} problem(s); {count} document(s) valid.")
    typer.secho(
        f"OK: {count} documents and {len(kb.missions.missions)} missions are valid.",
        fg=typer.colors.GREEN,
    )


@kb_app.command("import")
def kb_import(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Markdown, HTML, PDF or DOCX.")
    ],
    doc_id: ImportId = None,
    lang: ImportLang = None,
    title: ImportTitle = None,
    topics: ImportTopics = None,
    missions: ImportMissions = None,
    source: ImportSource = None,
    reviewed: ImportReviewed = None,
    status: Annotated[str | None, typer.Option(help="Default: draft.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing version.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the result instead of saving it.")] = False,
) -> None:
    """Convert files into guidance documents; metadata from flags or a sidecar YAML file."""
    settings = _settings()
    overrides = import_overrides(
        doc_id, lang, title, topics, missions, source, reviewed, status=status
    )
    failures = 0
    for path in files:
        try:
            doc = import_file(path, overrides)
            if dry_run:
                typer.echo(doc.to_markdown())
                continue
            target = write_document(doc, settings.kb_dir, overwrite=overwrite)
            typer.echo(
                f"{path} -> {target} ({len(doc.sections())} sections, {doc.meta.status.value})"
            )
        except ConsularError as exc:
            failures += 1
            typer.secho(exc.user_message, fg=typer.colors.RED, err=True)
    if failures:
        raise typer.Exit(1)
