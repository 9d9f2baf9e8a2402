"""Engines, sessions and migrations for the SQL log.

`DATABASE_URL` (handoff/config.py) picks the database: by default an SQLite file in the data folder
(var/handoff/log.db, nothing to install), in production a PostgreSQL URL
(`postgresql+psycopg://user@host/db`; a plain `postgresql://` URL is read as psycopg 3).
`migrate(url)` brings the schema to the latest Alembic revision (handoff/analytics/migrations);
the writer runs it at start, `make migrate` on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if "timeout" not in parsed.query:  # seconds to wait for another writer's lock
            kwargs.setdefault("connect_args", {"timeout": 15})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


def sessions(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (idempotent)."""
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def main(argv: Any = None) -> int:
    import argparse

    from handoff.config import Settings

    parser = argparse.ArgumentParser(prog="python -m handoff.analytics.db", description="Migrate the SQL log")
    parser.add_argument("command", choices=["migrate"])
    parser.add_argument("--database-url", help="default: DATABASE_URL or the SQLite file in the data dir")
    args = parser.parse_args(argv)
    url = args.database_url or Settings.from_env().database_url
    migrate(url)
    print(f"migrated {make_url(normalise_url(url)).render_as_string(hide_password=True)} to head")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
