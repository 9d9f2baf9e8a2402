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
import json
import logging
import os
import signal
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import redis as redis_sync
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from handoff.analytics import db
from handoff.analytics.models import (
    Conversation,
    Erasure,
    Event,
    Message,
    RejectedEvent,
    Transition,
    Visitor,
)

log = logging.getLogger("handoff.analytics.writer")

STREAM = "log:events"
GROUP = "sql-log"
END_EVENTS = frozenset({"end", "abandon", "offline", "close"})
MESSAGE_COLUMNS = ("sender", "text", "lang", "client_id", "meta", "translation", "translated")

Entry = Tuple[str, Dict[str, str]]


class DatabaseDown(Exception):
    """The database cannot be reached or written (retry later); the entries stay pending in Redis."""


def _outage(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, ProgrammingError):  # e.g. the database was recreated empty: migrate and retry
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


# --- applying one entry to the projections -------------------------------------------------


def _conversation(session: Session, cid: str, vid: str, at: float) -> Conversation:
    conv = session.get(Conversation, cid)
    if conv is None:
        visitor = session.get(Visitor, vid) if vid else None
        conv = Conversation(
            id=cid,
            visitor_id=vid or "",
            verified_id=visitor.verified_id if visitor else None,
            state="bot",
            created_at=at,
            updated_at=at,
            agent_count=0,
            transfers=0,
            requeues=0,
            handbacks=0,
            message_count=0,
        )
        session.add(conv)
    elif vid and not conv.visitor_id:
        conv.visitor_id = vid
    return conv


def _apply_fields(conv: Conversation, fields: Dict[str, Any], at: float) -> None:
    """Conversation-hash fields (from `conversation` entries and transitions' `fields`)."""
    for name, value in fields.items():
        if name == "state" and value:
            conv.state = value
        elif name == "language" and value:
            conv.language = value
        elif name == "created_at" and value:
            conv.created_at = float(value)
        elif name == "queued_at" and value is not None and conv.escalated_at is None:
            conv.escalated_at = float(value)
        elif name == "escalation" and isinstance(value, dict):
            conv.escalation = value
            if conv.escalation_reason is None:
                conv.escalation_reason = value.get("reason") or "unknown"
                conv.escalation_topic = value.get("faq_topic") or None
        elif name == "agent" and value:
            agents = list((conv.agents or {}).get("list", []))
            if value not in agents:
                agents.append(value)
            conv.agents = {"list": agents}
            conv.agent_count = len(agents)
            conv.agent = value
            conv.first_agent = conv.first_agent or value
        elif name == "claimed_at" and value is not None and conv.first_claimed_at is None:
            conv.first_claimed_at = float(value)
        elif name == "resolution" and isinstance(value, dict):
            conv.resolution = value
            conv.resolution_code = value.get("code")
            conv.resolved_by = value.get("by")
        elif name == "closed_at" and value is not None:
            conv.closed_at = float(value)
        elif name == "offline" and isinstance(value, dict):
            conv.offline = value
        elif name == "bot_resolution" and isinstance(value, dict):
            conv.bot_resolution = value
            conv.bot_resolved_at = float(value.get("at") or at)
        elif name == "rating" and isinstance(value, dict):
            conv.rating_score = value.get("score")
            conv.rating_resolved = value.get("resolved")
            conv.rating_comment = value.get("comment") or None
            conv.rated_at = float(value.get("at") or at)


def _message(session: Session, cid: str, seq: int) -> Optional[Message]:
    return session.execute(
        select(Message).where(Message.conversation_id == cid, Message.seq == seq)
    ).scalar_one_or_none()


def _set_message(message: Message, body: Dict[str, Any]) -> None:
    extra = dict(message.extra or {})
    for name, value in body.items():
        if name in MESSAGE_COLUMNS:
            setattr(message, name, value)
        elif name not in ("seq", "at", "conversation_id"):
            extra[name] = value
    message.extra = extra or None
    meta = message.meta or {}
    message.reply = meta.get("reply")
    message.topic = meta.get("topic")
    confidence = meta.get("intent_confidence")
    message.intent_confidence = float(confidence) if isinstance(confidence, (int, float)) else None


def _clean(value: Any) -> Any:
    """NUL characters (allowed in chat text) replaced by U+FFFD: PostgreSQL text cannot hold them."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def apply_entry(session: Session, entry_id: str, fields: Dict[str, str]) -> None:
    """Record one outbox entry: its raw row in `events`, and its effect on the projections."""
    kind = fields["type"]
    cid, vid = fields.get("cid") or "", fields.get("vid") or ""
    at = float(fields["at"])
    body = _clean(json.loads(fields.get("body") or "{}"))
    if not isinstance(body, dict):
        raise ValueError("body is not a JSON object")
    session.add(
        Event(
            entry_id=entry_id,
            type=kind,
            conversation_id=cid or None,
            visitor_id=vid or None,
            at=at,
            body=body,
            written_at=time.time(),
        )
    )
    if kind == "visitor":
        visitor = session.get(Visitor, vid)
        if visitor is None:
            visitor = Visitor(id=vid, first_seen=at)
            session.add(visitor)
        for name in ("page", "locale", "language", "verified_id"):
            if body.get(name):
                setattr(visitor, name, body[name])
        visitor.updated_at = at
        if body.get("verified_id"):
            session.flush()
            for conv in session.scalars(
                select(Conversation).where(
                    Conversation.visitor_id == vid,
                    Conversation.closed_at.is_(None),
                    Conversation.verified_id.is_(None),
                )
            ):
                conv.verified_id = body["verified_id"]
        return
    if not cid:
        return
    conv = _conversation(session, cid, vid, at)
    if kind in ("conversation", "rating"):
        _apply_fields(conv, body if kind == "conversation" else {"rating": body}, at)
        conv.updated_at = max(conv.updated_at or at, at)
    elif kind == "message":
        seq = int(body["seq"])
        session.flush()
        message = _message(session, cid, seq)
        if message is None:
            message = Message(conversation_id=cid, seq=seq, sender=body.get("sender") or "?", at=at)
            session.add(message)
            conv.message_count = (conv.message_count or 0) + 1
        message.at = float(body.get("at") or at)
        _set_message(message, body)
        if message.sender == "agent" and conv.first_agent_message_at is None:
            conv.first_agent_message_at = message.at
        if message.sender == "bot" and (message.reply or "").startswith("faq/"):
            conv.last_faq_topic = message.topic or message.reply[4:]
        conv.updated_at = max(conv.updated_at or at, at)
    elif kind == "message_update":
        session.flush()
        message = _message(session, cid, int(body["seq"]))
        if message is not None:  # an update of a message never logged (erased): nothing to update
            _set_message(message, body)
    elif kind == "transition":
        event, changed = body["event"], body.get("fields") or {}
        _apply_fields(conv, changed, at)
        conv.state = body.get("to") or conv.state
        conv.updated_at = max(conv.updated_at or at, at)
        if event == "transfer":
            conv.transfers = (conv.transfers or 0) + 1
        elif event == "requeue":
            conv.requeues = (conv.requeues or 0) + 1
        elif event == "handback":
            conv.handbacks = (conv.handbacks or 0) + 1
        if event in END_EVENTS:
            conv.end_event = event
            conv.closed_at = conv.closed_at or at
        agent = changed.get("agent") or conv.agent
        session.add(
            Transition(
                entry_id=entry_id,
                conversation_id=cid,
                event=event,
                from_state=body.get("from") or "",
                to_state=body.get("to") or "",
                agent=agent or None,
                at=at,
                fields=changed,
            )
        )


def _erased(session: Session, entries: Sequence[Entry]) -> Dict[Tuple[str, str], float]:
    keys = {("conversation", f.get("cid") or "") for _, f in entries} | {
        ("visitor", f.get("vid") or "") for _, f in entries
    }
    ids = {key for _, key in keys if key}
    if not ids:
        return {}
    rows = session.execute(select(Erasure.kind, Erasure.id, Erasure.at).where(Erasure.id.in_(ids)))
    return {(kind, id_): at for kind, id_, at in rows if (kind, id_) in keys}


def _is_erased(erased: Dict[Tuple[str, str], float], fields: Dict[str, str]) -> bool:
    if not erased:
        return False
    if ("conversation", fields.get("cid") or "") in erased:
        return True
    at = erased.get(("visitor", fields.get("vid") or ""))
    return at is not None and float(fields.get("at") or 0) <= at


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
        self.retention = retention
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
                erased = _erased(session, entries)
                for entry_id, fields in entries:
                    if entry_id in seen:
                        continue
                    if _is_erased(erased, fields):
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
        from handoff.analytics.privacy import apply_retention

        self.next_retention = time.monotonic() + 3600
        try:
            counts = apply_retention(self.engine, days, mode, redis=self.redis)
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
    from handoff.config import Settings
    from handoff.embedded_redis import resolve_redis_url

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
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True, socket_timeout=10)
    writer = Writer(
        client,
        args.database_url or settings.database_url,
        consumer=args.consumer,
        claim_idle=args.claim_idle,
        backoff=(0.5, args.max_backoff),
        retention=(settings.retention_days, settings.retention_mode),
    )
    signal.signal(signal.SIGTERM, lambda *_: writer.stop())
    signal.signal(signal.SIGINT, lambda *_: writer.stop())
    log.info("log writer %s: %s -> %s", writer.consumer, redis_url, writer.engine.url.render_as_string())
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
