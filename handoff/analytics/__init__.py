"""The durable conversation log (SQL) and the analytics computed from it (issue 5; docs/metrics.md).

- models.py: the tables (SQLAlchemy 2.x ORM); migrations/: their Alembic history; db.py: engines,
  sessions, `migrate()` (`make migrate`).
- writer.py: the outbox consumer (`python -m handoff.analytics.writer`), Redis `log:events` -> SQL;
  projection.py: what one outbox entry does to the SQL tables.
- metrics.py: FCR and the other measures; report.py: the CLI behind `make report`.
- privacy.py: export / erase one customer; retention.py: the retention period; api.py: the admin
  HTTP API (Sanic Blueprint).
"""
