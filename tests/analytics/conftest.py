"""Fixtures for the SQL log: real Redis (the handoff fixtures), real SQLite and real PostgreSQL.

- `database_url` (function, parametrised `sqlite` / `postgresql`): an empty, migrated database.
  SQLite: a file in the test's tmp_path. PostgreSQL: a fresh database `nimbus_log_test_<random>`
  on `HANDOFF_TEST_POSTGRES_URL` (default postgresql://postgres@127.0.0.1:5432/postgres),
  dropped after the test; the PostgreSQL cases are skipped, saying why, if the server is not there.
- `pg_admin`: a function running one SQL statement on the server's maintenance database.
- `chromium`, `page`: the console in Chromium (tests/support/console.py).
"""

from __future__ import annotations

import os
import secrets
from typing import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from handoff.analytics import db
from tests.handoff.conftest import redis_client, redis_server, redis_url  # noqa: F401 (fixtures)
from tests.support.console import chromium, page  # noqa: F401 (console fixtures)

POSTGRES_URL = os.environ.get(
    "HANDOFF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin(statement: str) -> None:
    engine = create_engine(db.normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def pg_admin() -> Callable[[str], None]:
    return _admin


@pytest.fixture(scope="session")
def postgres_available() -> str:
    try:
        _admin("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
    return ""


def new_database(kind: str, tmp_path, postgres_available: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'log.db'}"
        return
    if postgres_available:
        pytest.skip(postgres_available)
    name = f"nimbus_log_test_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield (
            make_url(db.normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path, postgres_available) -> Iterator[str]:
    """An empty database (not migrated)."""
    yield from new_database(request.param, tmp_path, postgres_available)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    db.migrate(empty_database_url)
    return empty_database_url
