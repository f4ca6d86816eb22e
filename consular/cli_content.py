"""``consular content ...``: the content workflow from a shell (drafts, review, history).

It works on the database of the settings. What it publishes, retires or rolls back is
re-indexed here at once (incrementally, in the settings' index folder); a server that is
already running answers from it after its own next refresh (its next publish, or restart).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from consular.cli import JsonFlag, _fail, _print_json, _settings, app
from consular.cli_kb import (
    ImportId,
    ImportLang,
    ImportMissions,
    ImportReviewed,
    ImportSource,
    ImportTitle,
    ImportTopics,
    import_overrides,
)
from consular.errors import ConsularError, InvalidDocumentError
from knowledge.content_store import DocumentSummary, RevisionRecord

content_app = typer.Typer(
    help=(
        "Guidance documents in the content store: draft, review, publish, retire, history. "
        "Changes apply to the database of the settings and are re-indexed at once; a running "
        "server answers from them after its next refresh (its next publish, or a restart)."
    ),
    no_args_is_help=True,
)
app.add_typer(content_app, name="content")

EDITOR_ROLES = frozenset({"content_editor", "admin"})
Actor = Annotated[
    str, typer.Option("--actor", help="Your console username (a content editor or an admin).")
]
Lang = Annotated[str, typer.Option("--lang", help="Language version, e.g. vi or en.")]
DocId = Annotated[str, typer.Argument(metavar="ID", help="The document id.")]
RevisionId = Annotated[int, typer.Argument(metavar="REV", help="Revision id (see `history`).")]


class _Content:
    """The workflow on the settings' database, and the re-indexing after a change."""

    def __init__(self) -> None:
        from bot.assembly import build_content_workflow, known_mission_ids, open_store
        from bot.officer_store import UserStore

        self.settings = _settings()
        store = open_store(self.settings)
        self.users = UserStore(store.sessions)
        self.workflow = build_content_workflow(
            self.settings, store, known_mission_ids(self.settings)
        )
        self.workflow.on_change = self.reindex

    def reindex(self) -> None:
        from retrieval.service import RetrievalService

        report = RetrievalService.from_settings(self.settings).index(
            self.workflow.published_documents()
        )
        # On stderr: standard output may be JSON.
        typer.echo(
            f"Index updated: {report.added} chunk(s) added, {report.removed} removed "
            f"({report.seconds:.1f}s).",
            err=True,
        )

    def check_editor(self, actor: str) -> None:
        """Only an active content editor or administrator account may change content."""
        user = self.users.get(actor)
        if user is None or not user.active or user.role not in EDITOR_ROLES:
            _fail(f"{actor!r} is not an active content editor or administrator account.")


def _run(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the workflow; a domain error becomes its message (and the problems) on stderr."""
    try:
        return action(*args, **kwargs)
    except InvalidDocumentError as exc:
        for problem in exc.problems:
            typer.secho(f"  - {problem}", fg=typer.colors.RED, err=True)
        _fail(exc.user_message)
    except ConsularError as exc:
        _fail(exc.user_message)


def _revision_json(record: RevisionRecord, *, markdown: bool = False) -> dict[str, Any]:
    data = asdict(record)
    if not markdown:
        data.pop("markdown")
    return data


def _revision_line(record: RevisionRecord) -> str:
    review = f" · {record.reviewer}" if record.reviewer else ""
    return (
        f"#{record.id:<5} r{record.number:<3} {record.state:<10} {record.created_at:%Y-%m-%d %H:%M} "
        f"{record.author}{review} ({record.origin}): {record.reason}"
    )


def _summary_line(summary: DocumentSummary) -> str:
    stale = " STALE" if summary.stale else ""
    live = f"r{summary.live_number}" if summary.live_number else "-"
    return (
        f"{summary.doc_id:<30} {summary.lang}  {summary.status:<9} live {live:<4} "
        f"latest r{summary.latest_number} {summary.latest_state:<10} "
        f"{summary.reviewed or '-'}{stale}  {summary.title}"
    )


def _done(record: RevisionRecord, as_json: bool = False) -> None:
    if as_json:
        _print_json(_revision_json(record))
        return
    typer.echo(
        f"{record.doc_id}/{record.lang} revision #{record.id} (r{record.number}) is now "
        f"{record.state.replace('_', ' ')}."
    )


def _edit(actor: str, step: Callable[[Any], RevisionRecord], as_json: bool) -> None:
    """As editor ``actor``, take one workflow step (``lambda workflow: workflow.submit(...)``)
    and print the revision it leaves."""
    content = _Content()
    content.check_editor(actor)
    _done(_run(step, content.workflow), as_json)


@content_app.command("list")
def content_list(
    status: Annotated[
        str | None, typer.Option(help="published, in_review, draft or retired.")
    ] = None,
    stale: Annotated[
        bool, typer.Option("--stale", help="Only published documents due for review.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Documents with their status, live and latest revision, and review date."""
    summaries = _Content().workflow.documents(status=status, stale_only=stale)
    if as_json:
        _print_json({"documents": [asdict(s) for s in summaries]})
        return
    for summary in summaries:
        typer.echo(_summary_line(summary))
    typer.echo(f"\n{len(summaries)} document(s).")
    if not summaries and status is None and not stale:
        typer.echo("The content store is empty: run `consular content sync` (the web app does it")
        typer.echo("at start-up) to import the guidance files.")


@content_app.command("show")
def content_show(doc_id: DocId, lang: Lang, as_json: JsonFlag = False) -> None:
    """The document's standing and the text of its live (else latest) revision."""
    workflow = _Content().workflow
    summary = _run(workflow.document, doc_id, lang)
    history = workflow.history(doc_id, lang)
    shown = next((r for r in history if r.number == summary.live_number), history[0])
    if as_json:
        _print_json({**asdict(summary), "revision": _revision_json(shown, markdown=True)})
        return
    typer.echo(_summary_line(summary))
    typer.echo(f"\n{_revision_line(shown)}\n")
    typer.echo(shown.markdown)


@content_app.command("history")
def content_history(doc_id: DocId, lang: Lang, as_json: JsonFlag = False) -> None:
    """Every revision, newest first: who, when, why, and who reviewed it."""
    history = _run(_Content().workflow.history, doc_id, lang)
    if as_json:
        _print_json({"revisions": [_revision_json(r) for r in history]})
        return
    for record in history:
        typer.echo(_revision_line(record))


@content_app.command("import")
def content_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Markdown, HTML, PDF or DOCX.")],
    actor: Actor,
    doc_id: ImportId = None,
    lang: ImportLang = None,
    title: ImportTitle = None,
    topics: ImportTopics = None,
    missions: ImportMissions = None,
    source: ImportSource = None,
    reviewed: ImportReviewed = None,
    reason: Annotated[str, typer.Option(help="Why, for the history.")] = "imported from a file",
    as_json: JsonFlag = False,
) -> None:
    """Convert a file into a new draft revision (submit it for review next)."""
    content = _Content()
    content.check_editor(actor)
    if not file.is_file():
        _fail(f"{file}: file not found.")
    overrides = import_overrides(doc_id, lang, title, topics, missions, source, reviewed)
    record = _run(
        content.workflow.import_upload, actor, file.name, file.read_bytes(), overrides, reason
    )
    _done(record, as_json)


@content_app.command("submit")
def content_submit(revision: RevisionId, actor: Actor, as_json: JsonFlag = False) -> None:
    """Send a draft for review; its problems are listed when it is not valid."""
    _edit(actor, lambda workflow: workflow.submit(actor, revision), as_json)


@content_app.command("publish")
def content_publish(
    revision: RevisionId,
    actor: Actor,
    note: Annotated[str, typer.Option(help="Review note, for the history.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Publish a revision under review (not your own); it is re-indexed at once."""
    _edit(actor, lambda workflow: workflow.publish(actor, revision, note), as_json)


@content_app.command("reject")
def content_reject(
    revision: RevisionId,
    actor: Actor,
    note: Annotated[str, typer.Option(help="What the author must change.")],
    as_json: JsonFlag = False,
) -> None:
    """Send a revision under review back to its author."""
    _edit(actor, lambda workflow: workflow.reject(actor, revision, note), as_json)


@content_app.command("retire")
def content_retire(
    doc_id: DocId,
    lang: Lang,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Why it is withdrawn.")],
    as_json: JsonFlag = False,
) -> None:
    """Withdraw the published version: citizens are no longer answered from it."""
    _edit(actor, lambda workflow: workflow.retire(actor, doc_id, lang, reason), as_json)


@content_app.command("rollback")
def content_rollback(
    doc_id: DocId,
    lang: Lang,
    to: Annotated[int, typer.Option("--to", metavar="REV", help="Revision id to restore.")],
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Why it is restored.")],
    as_json: JsonFlag = False,
) -> None:
    """Publish a copy of an earlier published revision at once."""
    _edit(actor, lambda workflow: workflow.rollback(actor, doc_id, lang, to, reason), as_json)


@content_app.command("diff")
def content_diff(
    old: Annotated[int, typer.Argument(metavar="OLD", help="Revision id.")],
    new: Annotated[int, typer.Argument(metavar="NEW", help="Revision id.")],
    as_json: JsonFlag = False,
) -> None:
    """Line differences between two revisions (- removed, + added, ~ changed)."""
    rows = _run(_Content().workflow.diff, old, new)
    if as_json:
        _print_json({"rows": [asdict(r) for r in rows]})
        return
    marks = {"removed": "-", "added": "+"}
    for row in rows:
        if row.kind == "same":
            continue
        if row.kind == "changed":
            typer.echo(f"~{row.left_no:>4}: {row.left}")
            typer.echo(f"~{row.right_no:>4}> {row.right}")
            continue
        number, text = (
            (row.left_no, row.left) if row.kind == "removed" else (row.right_no, row.right)
        )
        typer.echo(f"{marks[row.kind]}{number:>4}: {text}")


@content_app.command("sync")
def content_sync(as_json: JsonFlag = False) -> None:
    """Import the guidance files that changed since their last import (as the web app
    does at start-up): published files are published, retired ones retired."""
    report = _Content().workflow.sync_files(_settings().kb_dir)
    if as_json:
        _print_json({**asdict(report), "changed": report.changed})
        return
    for problem in report.problems:
        typer.secho(problem, fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"{len(report.published)} published, {len(report.retired)} retired, "
        f"{len(report.drafted)} draft(s), {report.unchanged} unchanged."
    )
