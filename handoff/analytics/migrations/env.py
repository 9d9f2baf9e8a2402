"""Alembic environment for the SQL log: run by handoff.analytics.db.migrate (a connection in
config.attributes) or with the URL in the config's sqlalchemy.url."""

from __future__ import annotations

from alembic import context

from handoff.analytics.db import make_engine
from handoff.analytics.models import Base

config = context.config
target_metadata = Base.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
    else:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            run(conn)
        engine.dispose()
