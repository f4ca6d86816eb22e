"""Database fixtures shared by every test module: SQLite and PostgreSQL, migrated.

PostgreSQL comes from CONSULAR_TEST_POSTGRES_URL (default: the local ``test`` database);
each test gets a schema of its own, dropped afterwards. When PostgreSQL cannot be
reached those cases are skipped, except under CI=true, where they fail.

``db_engine`` is the SQLAlchemy engine; the name ``engine`` belongs to the conversation
engine of ``tests/conftest.py``.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.database import default_database_url, make_engine, upgrade_database
from bot.store import ConversationStore

POSTGRES_URL = os.environ.get(
    "CONSULAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1")


@functools.cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None; probed once per session."""
    # A short connect timeout: an unreachable host must not stall the suite.
    engine = sqlalchemy.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        shown = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        return f"PostgreSQL unreachable at {shown}: {exc.orig}"
    finally:
        engine.dispose()
    return None


def skip_or_fail_without_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"{problem} (CI=true: the PostgreSQL tests must run)")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sqlalchemy.Engine]:
    """An engine on the test database, or a skip (a failure under CI) when it is down."""
    skip_or_fail_without_postgres()
    engine = make_engine(POSTGRES_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: sqlalchemy.Engine) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, so every test starts from nothing."""
    schema = f"consular_test_{secrets.token_hex(6)}"
    with postgres_admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return default_database_url(tmp_path / "data")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db_engine(database_url: str) -> Iterator[sqlalchemy.Engine]:
    engine = make_engine(database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(db_engine: sqlalchemy.Engine) -> ConversationStore:
    return ConversationStore(db_engine)
