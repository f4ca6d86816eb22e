"""The ``consular`` command line: knowledge base, index, search and evaluations."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from consular.errors import ConsularError
from consular.settings import Settings

app = typer.Typer(help="Trợ lý Lãnh sự (Consular Assistant)", no_args_is_help=True)
kb_app = typer.Typer(
    help="Knowledge base: list, show, check and import guidance.", no_args_is_help=True
)
eval_app = typer.Typer(help="Quality evaluations on labelled question sets.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _settings() -> Settings:
    return Settings()


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def main() -> None:
    """Entry point that turns domain errors into one readable line."""
    try:
        app()
    except ConsularError as exc:
        typer.secho(exc.user_message, fg=typer.colors.RED, err=True)
        sys.exit(1)


from consular import (  # noqa: E402,F401  (register commands)
    cli_bot,
    cli_content,
    cli_eval,
    cli_kb,
    cli_retention,
    cli_search,
    cli_serve,
    cli_telegram,
    cli_users,
)
