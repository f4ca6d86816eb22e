"""Engines and schema migrations for the conversation database (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = MIGRATIONS_DIR / "alembic.ini"


def default_database_url(data_dir: Path) -> str:
    """``sqlite:///<data_dir>/consular.db``, creating ``data_dir``."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'consular.db').as_posix()}"


def make_engine(url: str) -> sqlalchemy.Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and cross-thread use."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre_ping: a long-running server outlives PostgreSQL restarts and idle timeouts.
        return sqlalchemy.create_engine(url, pool_pre_ping=True)

    in_memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        # Web handlers and the Telegram poller share the engine across threads; each
        # session still uses one connection at a time. timeout: wait for the writer lock.
        "connect_args": {"check_same_thread": False, "timeout": 30},
    }
    if in_memory:
        # One shared connection, or every pooled connection would see its own empty database.
        kwargs["poolclass"] = StaticPool
    engine = sqlalchemy.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # SQLite ignores foreign keys unless asked, per connection.
            cursor.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                # WAL lets readers (officer console) run while a message is written.
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    return engine


def upgrade_database(engine_or_url: sqlalchemy.Engine | str) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    owned = isinstance(engine_or_url, str)
    engine = make_engine(engine_or_url) if owned else engine_or_url
    try:
        config = Config(str(ALEMBIC_INI))
        # Absolute, so that the working directory never matters.
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as connection:
            # env.py runs on this connection instead of opening its own.
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if owned:
            engine.dispose()
