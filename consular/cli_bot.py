"""``consular ask`` and ``consular eval conversation``: the conversation engine from a shell."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from consular.cli import JsonFlag, _print_json, _settings, app, eval_app
from consular.cli_eval import DATA, finish_report
from evals.dataset import load_items


@app.command("ask")
def ask_command(
    message: Annotated[str, typer.Argument(help="What the citizen writes.")],
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation id.")] = None,
    lang: Annotated[str | None, typer.Option(help="Answer language (default: detected).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Answer one message as the assistant would (the engine behind POST /api/v1/chat)."""
    from bot.assembly import build_assistant
    from bot.redaction import install_log_redaction

    install_log_redaction()
    assistant = build_assistant(_settings())
    result = assistant.engine.handle(message, conversation, lang, channel="cli")
    if as_json:
        _print_json(result.to_api())
        return
    if result.reply is None:
        typer.echo(
            "(A consular officer is handling this conversation; the assistant stays silent.)"
        )
    else:
        typer.echo(result.reply.text)
    typer.secho(
        f"\nconversation {result.conversation_id} · handoff {result.handoff_status}"
        + (f" ({result.handoff_reason})" if result.handoff_reason else "")
        + (f" · confidence {result.reply.confidence:.2f}" if result.reply else ""),
        dim=True,
    )


@eval_app.command("conversation")
def eval_conversation(
    questions: Annotated[Path, typer.Option(help="JSON Lines file.")] = DATA
    / "conversation_test.jsonl",
    check: Annotated[bool, typer.Option(help="Exit 1 below evals/thresholds.json.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Urgent and requested recall, false urgent rate, decline accuracy, language match, hits."""
    from bot.assembly import build_assistant, open_store
    from evals.conversation_eval import evaluate_conversation

    settings = _settings()
    items = load_items(questions)
    with tempfile.TemporaryDirectory(prefix="consular-eval-") as tmp:
        # Conversations of an evaluation never mix with real ones.
        store = open_store(
            settings.model_copy(update={"data_dir": Path(tmp), "database_url": None})
        )
        report = evaluate_conversation(build_assistant(settings, store=store).engine, items)
    finish_report(report, "conversation", check, as_json, _print_conversation_report)


def _print_conversation_report(report: dict) -> None:
    for name, value in report["overall"].items():
        typer.echo(f"{name:<20} {value}")
    typer.echo(f"\nmisses ({len(report['misses'])}):")
    for miss in report["misses"]:
        typer.echo(f"  {miss['id']} [{miss['lang']}] {miss['turns'][-1][:60]!r}: {miss['why']}")
