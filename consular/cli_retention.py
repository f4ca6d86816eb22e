"""``consular retention``: the scheduled retention job and erasure on a citizen's request."""

from __future__ import annotations

from typing import Annotated

import typer

from consular.cli import JsonFlag, _fail, _print_json, _settings, app
from consular.errors import ConversationNotFound

retention_app = typer.Typer(
    help="Delete or anonymise old conversations; erase one on request.", no_args_is_help=True
)
app.add_typer(retention_app, name="retention")


def _retention():
    from bot.assembly import open_store
    from bot.audit import AuditLog
    from bot.retention import Retention

    settings = _settings()
    sessions = open_store(settings).sessions
    return Retention.from_settings(settings, sessions, AuditLog(sessions))


@retention_app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would change.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Anonymise or delete conversations idle for CONSULAR_RETENTION_DAYS (run it daily)."""
    report = _retention().run(dry_run=dry_run)
    if as_json:
        _print_json(report.to_dict())
        return
    verb = {"anonymise": "anonymised", "delete": "deleted"}[report.action]
    prefix = "Would have " if report.dry_run else ""
    typer.echo(
        f"{prefix}{verb} {report.conversations} conversation(s) without activity since "
        f"{report.cutoff:%Y-%m-%d %H:%M} UTC: {report.messages} message(s), "
        f"{report.notes} note(s)."
    )


@retention_app.command("erase")
def erase(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id (c_...).")],
    actor: Annotated[
        str, typer.Option("--actor", help="Who asked for it, for the audit log: your username.")
    ],
) -> None:
    """Delete one conversation whole, at the citizen's request."""
    try:
        _retention().erase(conversation_id, actor)
    except ConversationNotFound as exc:
        _fail(exc.user_message)
    typer.echo(f"Erased conversation {conversation_id}.")
