"""Alembic environment: runs on the caller's connection, or opens one from the settings."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from bot.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url_from_command_line() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if url:
        return url
    # The alembic command line is an entry point of its own, so it builds the settings.
    from consular.settings import Settings

    return Settings().resolved_database_url()


def run_migrations_offline() -> None:
    context.configure(
        url=_url_from_command_line(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # bot.database.upgrade_database: the application owns logging and the connection.
        _configure(connection)
        return

    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    from bot.database import make_engine

    engine = make_engine(_url_from_command_line())
    try:
        with engine.begin() as connection:
            _configure(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
