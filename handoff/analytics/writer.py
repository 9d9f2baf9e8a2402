"""The log writer: the outbox consumer that copies Redis `log:events` into the SQL log.

    python -m handoff.analytics.writer [--redis-url URL] [--database-url URL] [--consumer NAME]

Its own process (Procfile `logwriter`), so the chat service never waits for SQL:

1. Migrates the database to the latest revision (Alembic), retrying while it is unreachable.
2. Reads the stream with a consumer group (`sql-log`): first its own pending entries (delivered
   before a crash, never acknowledged), then stale entries of other consumers (XAUTOCLAIM,
   idle > --claim-idle seconds), then new ones (XREADGROUP, blocking 1 s).
3. Writes a batch in one transaction: each entry's id is the primary key of `events`, so an entry
   written before (a crash between COMMIT and XACK) is skipped: nothing is written twice.
4. Acknowledges (XACK) only after the commit, then trims the stream below the oldest entry that
   some consumer group has not acknowledged (XTRIM MINID): nothing unwritten is ever trimmed.

If the database is down (connection refused, database missing, SQLite file unwritable) the batch
is kept, unacknowledged, and retried with exponential backoff (0.5 s doubling to 30 s); the service
keeps appending to the stream meanwhile, so nothing is lost. An entry that can never be applied
(malformed) is stored in `rejected_events` and acknowledged, so it cannot block the log.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import time
from typing import Any, List, Optional, Sequence, Tuple

import redis as redis_sync
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from handoff import keyspace
from handoff.analytics import db
from handoff.analytics.models import Event, RejectedEvent
from handoff.analytics.projection import Entry, apply_entry, erased_ids, is_erased
from handoff.analytics.retention import apply_retention
from handoff.attachments.storage import LocalDirectory
from handoff.config import Settings
from handoff.embedded_redis import resolve_redis_url

log = logging.getLogger("handoff.analytics.writer")

STREAM = keyspace.EVENTS
GROUP = keyspace.LOG_GROUP


class DatabaseDown(Exception):
    """The database cannot be reached or written (retry later); the entries stay pending in Redis."""


def _outage(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, ProgrammingError):  # e.g. the database was recreated empty: migrate and retry
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


# --- the consumer --------------------------------------------------------------------------


class Writer:
    def __init__(
        self,
        redis: redis_sync.Redis,
        database_url: str,
        consumer: Optional[str] = None,
        batch: int = 200,
        block_ms: int = 1000,
        claim_idle: float = 60.0,
        backoff: Tuple[float, float] = (0.5, 30.0),
        migrate: bool = True,
        retention: Tuple[int, str] = (0, "anonymise"),
        attachments: Any = None,
    ) -> None:
        self.redis, self.database_url = redis, database_url
        self.consumer = consumer or f"{socket.gethostname()}-writer"
        self.batch, self.block_ms, self.claim_idle = batch, block_ms, claim_idle
        self.backoff = backoff
        self.engine: Engine = db.make_engine(database_url)
        self.sessions = db.sessions(self.engine)
        self.stop_requested = threading.Event()
        self.needs_migration = migrate
        self.own_pending_done = False
        self.next_claim = 0.0
        self.retention, self.attachments = retention, attachments  # storage: retention deletes files
        self.next_retention = 0.0
        self.held: List[Entry] = []  # a batch read but not yet written (the database was down)
        self.stats = {"written": 0, "skipped": 0, "rejected": 0, "outages": 0, "batches": 0}

    def close(self) -> None:
        self.engine.dispose()

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis_sync.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # reading ---------------------------------------------------------------------------------

    def _live(self, raw: Sequence[Any]) -> List[Entry]:
        """Entries with their fields; ids whose entry is gone (deleted) are acknowledged and dropped."""
        gone = [entry_id for entry_id, fields in raw if not fields]
        if gone:
            self.redis.xack(STREAM, GROUP, *gone)
        return [(entry_id, fields) for entry_id, fields in raw if fields]

    def _read(self, block: bool) -> List[Entry]:
        if not self.own_pending_done:  # entries delivered to this consumer before a restart
            result = self.redis.xreadgroup(GROUP, self.consumer, {STREAM: "0"}, count=self.batch)
            raw = result[0][1] if result else []
            if raw:
                entries = self._live(raw)
                if entries:
                    return entries
                return self._read(block)
            self.own_pending_done = True
        if time.monotonic() >= self.next_claim:
            self.next_claim = time.monotonic() + max(1.0, self.claim_idle / 2)
            claimed = self.redis.xautoclaim(
                STREAM, GROUP, self.consumer, int(self.claim_idle * 1000), "0-0", count=self.batch
            )
            entries = self._live(claimed[1])
            if entries:
                return entries
        result = self.redis.xreadgroup(
            GROUP, self.consumer, {STREAM: ">"}, count=self.batch, block=self.block_ms if block else None
        )
        return self._live(result[0][1] if result else [])

    # writing ---------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """At start, and after an outage (the database may have been recreated empty)."""
        if not self.needs_migration:
            return
        try:
            db.migrate(self.database_url)
        except Exception as exc:
            raise DatabaseDown(f"migration failed: {str(exc).splitlines()[0]}") from exc
        self.needs_migration = False

    def _write(self, entries: Sequence[Entry]) -> Tuple[int, int]:
        """Write a batch in one transaction; returns (written, skipped). Raises DatabaseDown."""
        self._migrate()
        ids = [entry_id for entry_id, _ in entries]
        try:
            with self.sessions() as session, session.begin():
                seen = set(session.scalars(select(Event.entry_id).where(Event.entry_id.in_(ids))))
                erased = erased_ids(session, entries)
                for entry_id, fields in entries:
                    if entry_id in seen:
                        continue
                    if is_erased(erased, fields):
                        seen.add(entry_id)  # the customer was erased after this entry was read
                        continue
                    apply_entry(session, entry_id, fields)
            return len(entries) - len(seen), len(seen)
        except Exception as exc:
            if _outage(exc):
                raise DatabaseDown(str(exc).splitlines()[0]) from exc
            if len(entries) == 1:
                raise
            log.warning("batch failed (%s); writing its entries one by one", exc)
        written = skipped = 0
        for entry in entries:
            try:
                w, s = self._write([entry])
            except DatabaseDown:
                raise
            except Exception as exc:
                self._reject(entry, exc)
                continue
            written, skipped = written + w, skipped + s
        return written, skipped

    def _reject(self, entry: Entry, exc: Exception) -> None:
        entry_id, fields = entry
        log.error("entry %s cannot be applied (%s); kept in rejected_events", entry_id, exc)
        try:
            with self.sessions() as session, session.begin():
                if session.get(RejectedEvent, entry_id) is None:
                    session.add(
                        RejectedEvent(entry_id=entry_id, fields=dict(fields), error=repr(exc), at=time.time())
                    )
        except Exception as inner:
            if _outage(inner):
                raise DatabaseDown(str(inner)) from inner
            raise
        self.stats["rejected"] += 1

    def _ack_and_trim(self, ids: Sequence[str]) -> None:
        self.redis.xack(STREAM, GROUP, *ids)
        self.trim()

    def trim(self) -> None:
        """Delete entries every consumer group has acknowledged (ids below the oldest unacknowledged)."""
        floor: Optional[Tuple[int, int]] = None
        for group in self.redis.xinfo_groups(STREAM):
            if int(group.get("pending") or 0):
                summary = self.redis.xpending(STREAM, group["name"])
                candidate = summary["min"]
            else:
                candidate = group["last-delivered-id"]
            key = tuple(int(part) for part in str(candidate).split("-"))
            floor = key if floor is None or key < floor else floor
        if floor is not None and floor > (0, 0):
            self.redis.xtrim(STREAM, minid=f"{floor[0]}-{floor[1]}", approximate=False)

    # the loop --------------------------------------------------------------------------------

    def step(self, block: bool = True) -> int:
        """One round: read (or retry the held batch), write, acknowledge. Returns entries handled."""
        self._migrate()
        entries = self.held or self._read(block)
        if not entries:
            return 0
        self.held = list(entries)
        written, skipped = self._write(entries)  # DatabaseDown propagates; the batch stays held
        self.held = []
        self._ack_and_trim([entry_id for entry_id, _ in entries])
        self.stats["written"] += written
        self.stats["skipped"] += skipped
        self.stats["batches"] += 1
        return len(entries)

    def run(self, idle_exit: bool = False) -> None:
        """Until stop() (or, with idle_exit, until the stream has nothing more to read)."""
        delay = self.backoff[0]
        down_since: Optional[float] = None
        group_ready = False
        while not self.stop_requested.is_set():
            try:
                if not group_ready:
                    self.ensure_group()
                    group_ready = True
                handled = self.step(block=not idle_exit)
                self._retention()
                if down_since is not None:
                    log.info("database back after %.1f s; writing resumed", time.monotonic() - down_since)
                    down_since = None
                delay = self.backoff[0]
                if idle_exit and not handled and not self.held:
                    return
            except DatabaseDown as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    self.stats["outages"] += 1
                    log.warning(
                        "database unavailable (%s); retrying. %d entries read and unacknowledged, "
                        "new ones wait in the Redis stream",
                        exc,
                        len(self.held),
                    )
                self.needs_migration = True
                self.engine.dispose()
                self.stop_requested.wait(delay)
                delay = min(delay * 2, self.backoff[1])
            except redis_sync.RedisError as exc:
                log.warning("redis unavailable (%s); retrying", exc)
                group_ready = False
                self.stop_requested.wait(delay)
                delay = min(delay * 2, self.backoff[1])
            except Exception:  # a bug must not stop the log: the batch stays held, retried later
                log.exception("unexpected error; retrying")
                self.stop_requested.wait(delay)
                delay = min(delay * 2, self.backoff[1])

    def _retention(self) -> None:
        """Once an hour, when a retention period is set (HANDOFF_RETENTION_DAYS)."""
        days, mode = self.retention
        if days <= 0 or time.monotonic() < self.next_retention:
            return
        self.next_retention = time.monotonic() + 3600
        try:
            counts = apply_retention(self.engine, days, mode, redis=self.redis, attachments=self.attachments)
        except Exception as exc:
            if _outage(exc):
                raise DatabaseDown(str(exc).splitlines()[0]) from exc
            log.exception("retention failed")
            return
        if counts.get("conversations"):
            log.info("retention (%d days, %s): %s", days, mode, counts)

    def stop(self) -> None:
        self.stop_requested.set()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handoff.analytics.writer", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--redis-url", help="default: REDIS_URL, else the embedded Redis of the data dir")
    parser.add_argument("--database-url", help="default: DATABASE_URL, else the SQLite file in the data dir")
    parser.add_argument(
        "--consumer", default=os.environ.get("LOG_WRITER_NAME"), help="consumer name in the group"
    )
    parser.add_argument(
        "--claim-idle", type=float, default=60.0, help="claim others' entries idle this long, s"
    )
    parser.add_argument("--max-backoff", type=float, default=30.0, help="longest wait between retries, s")
    parser.add_argument("--once", action="store_true", help="write what is in the stream, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    redis_url, embedded = resolve_redis_url(args.redis_url or settings.redis_url, settings.embedded_redis_dir)
    client = keyspace.sync_client(redis_url)
    writer = Writer(
        client,
        args.database_url or settings.database_url,
        consumer=args.consumer,
        claim_idle=args.claim_idle,
        backoff=(0.5, args.max_backoff),
        retention=(settings.retention_days, settings.retention_mode),
        attachments=LocalDirectory(settings.attachment_dir),
    )
    signal.signal(signal.SIGTERM, lambda *_: writer.stop())
    signal.signal(signal.SIGINT, lambda *_: writer.stop())
    log.info(
        "log writer %s: %s -> %s",
        writer.consumer,
        keyspace.redacted(redis_url),
        writer.engine.url.render_as_string(),
    )
    try:
        writer.run(idle_exit=args.once)
    finally:
        writer.close()
        client.close()
        if embedded is not None:
            embedded.stop()
    log.info("log writer stopped: %s", writer.stats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
