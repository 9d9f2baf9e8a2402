"""The log writer against real Redis and real SQLite / PostgreSQL: projections, idempotency,
acknowledgement and trimming, and a database outage that loses nothing and writes nothing twice."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any, Dict, List

import pytest
import redis as redis_sync
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from handoff.analytics import db
from handoff.analytics.models import Base, Conversation, Event, Message, RejectedEvent, Transition, Visitor
from handoff.analytics.writer import GROUP, STREAM, Writer
from handoff.store import Store
from synthetic.script import Script

T0 = 1_790_000_000.0


def sync_redis(url: str) -> redis_sync.Redis:
    return redis_sync.Redis.from_url(url, decode_responses=True)


def push(client: redis_sync.Redis, entries: List[Dict[str, str]]) -> None:
    for entry in entries:
        client.xadd(STREAM, entry)


def counts(url: str) -> Dict[str, int]:
    engine = db.make_engine(url)
    try:
        with db.sessions(engine)() as session:
            return {
                model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Event, Conversation, Message, Transition, Visitor, RejectedEvent)
            }
    finally:
        engine.dispose()


def drain(writer: Writer) -> None:
    writer.run(idle_exit=True)


def full_script(cid: str = "c_full", vid: str = "v_full") -> Script:
    s = Script(cid, vid, T0, "bn", verified_id="cust-1")
    s.say("রিফান্ড কবে পাব").bot("...", topic="refund_status", confidence=0.97).translate(1, "when refund")
    s.wait(20).say("না").escalate("answer_not_helpful", topic="refund_status")
    s.wait(45).claim("asha").wait(15).agent("asha", "Hello", translated="হ্যালো")
    s.wait(30).transfer("ravi").wait(100).close("ravi", "resolved").wait(10).rate(4, True, "ভালো")
    return s


def test_migration_is_idempotent_and_creates_every_table(empty_database_url):
    db.migrate(empty_database_url)
    db.migrate(empty_database_url)  # again: nothing to do
    engine = db.make_engine(empty_database_url)
    try:
        names = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    tables = {"events", "visitors", "conversations", "messages", "transitions", "rejected_events", "erasures"}
    assert tables <= names
    head = ScriptDirectory.from_config(db.alembic_config(empty_database_url)).get_current_head()
    assert version == head  # one head (get_current_head raises on two), and the database is at it
    assert differences == []  # the migrations build exactly the models


def test_a_scripted_conversation_is_projected_completely(redis_url, database_url):
    client = sync_redis(redis_url)
    script = full_script()
    push(client, script.entries)
    writer = Writer(client, database_url, consumer="t1", block_ms=100)
    try:
        drain(writer)
    finally:
        writer.close()
    assert writer.stats["written"] == len(script.entries)
    engine = db.make_engine(database_url)
    with db.sessions(engine)() as session:
        conv = session.get(Conversation, "c_full")
        assert (conv.state, conv.language, conv.verified_id, conv.visitor_id) == (
            "closed",
            "bn",
            "cust-1",
            "v_full",
        )
        assert (conv.escalation_reason, conv.escalation_topic, conv.last_faq_topic) == (
            "answer_not_helpful",
            "refund_status",
            "refund_status",
        )
        assert (conv.first_agent, conv.agent, conv.agent_count, conv.transfers) == ("asha", "ravi", 2, 1)
        assert conv.escalated_at == T0 + 20 and conv.first_claimed_at == T0 + 65
        assert conv.first_agent_message_at == T0 + 80
        assert (conv.resolution_code, conv.resolved_by, conv.end_event, conv.closed_at) == (
            "resolved",
            "ravi",
            "close",
            T0 + 210,
        )
        assert (conv.rating_score, conv.rating_resolved, conv.rating_comment) == (4, True, "ভালো")
        messages = session.scalars(select(Message).order_by(Message.seq)).all()
        assert [(m.seq, m.sender, m.lang) for m in messages] == [
            (1, "visitor", "bn"),
            (2, "bot", "bn"),
            (3, "visitor", "bn"),
            (4, "agent", "en"),
        ]
        assert messages[0].translation == {"text": "when refund", "lang": "en"}  # the message_update
        assert (messages[1].reply, messages[1].topic, messages[1].intent_confidence) == (
            "faq/refund_status",
            "refund_status",
            0.97,
        )
        assert messages[3].translated == {"text": "হ্যালো", "lang": "bn"}
        events = [t.event for t in session.scalars(select(Transition).order_by(Transition.at))]
        assert events == ["escalate", "claim", "transfer", "close"]
        assert session.get(Visitor, "v_full").verified_id == "cust-1"
    engine.dispose()
    # acknowledged and trimmed: nothing pending, at most the last entry left
    assert client.xpending(STREAM, GROUP)["pending"] == 0
    assert client.xlen(STREAM) <= 1
    client.close()


async def test_entries_of_the_real_store_are_understood(redis_url, redis_client, database_url):
    store = Store(redis_client)
    await store.touch_visitor("v_9", language="ml", verified_id="cust-9", page="https://shop.example/")
    conv, _ = await store.open_or_create("v_9", "ml")
    message = {"conversation_id": conv.id, "sender": "visitor", "text": "hello", "lang": "ml", "meta": {}}
    await store.append(conv.id, message, "k1")
    await store.update_message(conv.id, 1, lang="en")
    fields = {"queued_at": repr(time.time()), "escalation": {"reason": "requested"}, "language": "ml"}
    await store.transition(conv, "escalate", fields)
    await store.transition(await store.get(conv.id), "abandon", {"closed_at": repr(time.time())})
    await store.set_fields(conv.id, rating={"score": 2, "comment": "", "resolved": False, "at": time.time()})
    client = sync_redis(redis_url)
    produced = client.xlen(STREAM)
    writer = Writer(client, database_url, consumer="t2", block_ms=100)
    try:
        drain(writer)
    finally:
        writer.close()
        client.close()
    assert counts(database_url)["events"] == produced == 7
    engine = db.make_engine(database_url)
    with db.sessions(engine)() as session:
        row = session.get(Conversation, conv.id)
        assert (row.state, row.end_event, row.escalation_reason, row.rating_score, row.verified_id) == (
            "closed",
            "abandon",
            "requested",
            2,
            "cust-9",
        )
        assert session.scalars(select(Message)).one().lang == "en"
    engine.dispose()


def test_a_crash_between_commit_and_ack_writes_nothing_twice(redis_url, database_url):
    client = sync_redis(redis_url)
    script = full_script()
    push(client, script.entries)
    first = Writer(client, database_url, consumer="crashy", block_ms=100)
    first.ensure_group()
    entries = first._read(block=False)
    assert first._write(entries) == (len(script.entries), 0)  # committed, then "crashed" before XACK
    first.close()
    assert client.xpending(STREAM, GROUP)["pending"] == len(script.entries)
    restarted = Writer(client, database_url, consumer="crashy", block_ms=100)  # the same consumer name
    try:
        drain(restarted)
    finally:
        restarted.close()
    assert restarted.stats == {**restarted.stats, "written": 0, "skipped": len(script.entries)}
    assert counts(database_url)["events"] == len(script.entries)
    assert counts(database_url)["messages"] == 4
    # another writer (a different consumer) claims what a dead one left pending
    push(client, full_script("c_two", "v_two").entries)
    Writer(client, database_url, consumer="dead", block_ms=100)._read(block=False)  # read, never acked
    other = Writer(client, database_url, consumer="other", block_ms=100, claim_idle=0.2)
    time.sleep(0.3)
    try:
        drain(other)
    finally:
        other.close()
    assert counts(database_url)["conversations"] == 2
    assert client.xpending(STREAM, GROUP)["pending"] == 0
    client.close()


def test_a_malformed_entry_is_set_aside_and_does_not_block_the_log(redis_url, database_url):
    client = sync_redis(redis_url)
    push(client, [{"type": "message", "cid": "c_x", "vid": "v", "at": "1.0", "body": "not json"}])
    push(client, full_script().entries)
    writer = Writer(client, database_url, consumer="t3", block_ms=100)
    try:
        drain(writer)
    finally:
        writer.close()
    assert counts(database_url)["rejected_events"] == 1
    assert counts(database_url)["conversations"] == 1
    # a NUL in a chat text (the protocol allows it; PostgreSQL text cannot hold it) is not a poison entry
    push(client, Script("c_nul", "v_nul", T0, "en").say("a\x00b").entries)
    writer = Writer(client, database_url, consumer="t3", block_ms=100)
    try:
        drain(writer)
    finally:
        writer.close()
    assert counts(database_url)["rejected_events"] == 1 and counts(database_url)["conversations"] == 2
    engine = db.make_engine(database_url)
    with db.sessions(engine)() as session:
        assert (
            session.scalars(select(Message.text).where(Message.conversation_id == "c_nul")).one()
            == "a\ufffdb"
        )
    engine.dispose()
    assert client.xpending(STREAM, GROUP)["pending"] == 0
    client.close()


class Outage:
    """Takes the database away and brings it back: PostgreSQL renamed (its connections cut),
    SQLite locked by another process (every write fails with `database is locked`)."""

    def __init__(self, url: str, pg_admin: Any) -> None:
        self.url, self.pg_admin = url, pg_admin
        self.lock: Any = None

    def begin(self) -> None:
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[1].split("?", 1)[0]
            self.lock = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.lock.execute("BEGIN EXCLUSIVE")
            return
        self.name = name = self.url.rsplit("/", 1)[1].split("?", 1)[0]
        for _ in range(50):  # renaming fails while anyone is connected: cut them (they reconnect)
            self.pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            try:
                self.pg_admin(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')
                return
            except Exception:
                time.sleep(0.05)
        pytest.fail("could not rename the database")

    def end(self) -> None:
        if self.lock is not None:
            self.lock.execute("ROLLBACK")
            self.lock.close()
            return
        self.pg_admin(f'ALTER DATABASE "{self.name}_away" RENAME TO "{self.name}"')


def wait_until(predicate, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_database_outage_keeps_events_and_writes_each_once_after_recovery(redis_url, database_url, pg_admin):
    url = database_url + ("?timeout=0.3" if database_url.startswith("sqlite") else "")
    client = sync_redis(redis_url)
    writer = Writer(client, url, consumer="live", block_ms=100, backoff=(0.1, 0.4))
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        before = [full_script(f"c_before_{i}", f"v_b{i}") for i in range(3)]
        for script in before:
            push(client, script.entries)
        produced = sum(len(s.entries) for s in before)
        wait_until(lambda: writer.stats["written"] == produced, what="the first entries")

        outage = Outage(url, pg_admin)
        outage.begin()
        during = [full_script(f"c_during_{i}", f"v_d{i}") for i in range(4)]
        for script in during:
            push(client, script.entries)
        produced += sum(len(s.entries) for s in during)
        wait_until(lambda: writer.stats["outages"] >= 1, what="the writer to notice the outage")
        time.sleep(0.8)  # a few failed retries
        assert writer.stats["written"] < produced
        pending = client.xpending(STREAM, GROUP)["pending"]
        assert pending + client.xlen(STREAM) > 0 and len(writer.held) > 0  # kept in Redis, unacknowledged
        outage.end()
        wait_until(lambda: writer.stats["written"] == produced, what="writing after recovery")
        after = full_script("c_after", "v_after")
        push(client, after.entries)
        produced += len(after.entries)
        wait_until(lambda: writer.stats["written"] == produced, what="entries after recovery")
    finally:
        writer.stop()
        thread.join(10)
        writer.close()
    found = counts(database_url)
    assert found["events"] == produced  # none lost, none twice (the entry id is the primary key)
    assert found["conversations"] == 8 and found["messages"] == 8 * 4 and found["transitions"] == 8 * 4
    assert client.xpending(STREAM, GROUP)["pending"] == 0
    assert client.xlen(STREAM) <= 1  # trimmed once written
    engine = db.make_engine(database_url)
    with db.sessions(engine)() as session:
        seqs = session.execute(select(Message.conversation_id, Message.seq)).all()
        assert len(seqs) == len(set(seqs))
        bodies = [json.dumps(e.body, sort_keys=True) for e in session.scalars(select(Event))]
        assert len(bodies) == produced
    engine.dispose()
    client.close()
