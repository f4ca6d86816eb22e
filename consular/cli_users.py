"""``consular users add``: console accounts (officer, content editor, administrator)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from consular.cli import _fail, _settings, app
from consular.errors import ConsularError

users_app = typer.Typer(help="Officer console accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="Lower-case login name, e.g. 'lan.nguyen'.")],
    role: Annotated[
        str, typer.Option(help="officer | content_editor | admin (also: content-editor).")
    ] = "officer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account; the password is asked twice (or read from stdin), stored hashed."""
    from bot.assembly import open_store
    from bot.officer_store import UserStore

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        _fail("No password given.")
    store = open_store(_settings())
    try:
        user = UserStore(store.sessions).add(username, password, role.replace("-", "_"))
    except ConsularError as exc:
        _fail(exc.user_message)
        return
    typer.echo(f"Created {user.role.replace('_', ' ')} account {user.username!r}.")
