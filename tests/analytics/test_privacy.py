"""Export / erase one customer across SQL and Redis, and retention that keeps the aggregates."""

from __future__ import annotations

import json
import time
from datetime import date

import redis as redis_sync
from sqlalchemy import func, select

from handoff.analytics import db
from handoff.analytics.metrics import DAY, conversation_facts, epoch, table
from handoff.analytics.models import Conversation, Event, Message, Visitor
from handoff.analytics.privacy import delete_customer, export_customer
from handoff.analytics.retention import apply_retention
from handoff.analytics.writer import STREAM, Writer
from handoff.store import Store
from synthetic.script import Script
from tests.support.processes import free_port


async def two_customers(store: Store):
    """cust-1 on two devices (v_a, v_b), and somebody else (v_other); all through the real Store."""
    cids = {}
    for vid, verified in (("v_a", "cust-1"), ("v_b", "cust-1"), ("v_other", None)):
        await store.touch_visitor(vid, language="en", **({"verified_id": verified} if verified else {}))
        conv, _ = await store.open_or_create(vid, "en")
        text = f"my address is 1 Main St ({vid})"
        await store.append(
            conv.id, {"conversation_id": conv.id, "sender": "visitor", "text": text, "meta": {}}
        )
        fields = {"queued_at": repr(time.time()), "escalation": {"reason": "requested"}}
        await store.transition(conv, "escalate", fields)
        cids[vid] = conv.id
    return cids


def write_all(redis_url: str, database_url: str) -> None:
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    writer = Writer(client, database_url, consumer="privacy", block_ms=50)
    try:
        writer.run(idle_exit=True)
    finally:
        writer.close()
        client.close()


async def test_export_then_delete_one_customer_everywhere(redis_url, redis_client, database_url):
    store = Store(redis_client)
    cids = await two_customers(store)
    write_all(redis_url, database_url)
    # one more entry for cust-1 that the writer has not written yet (still in the outbox)
    await store.append(cids["v_a"], {"conversation_id": cids["v_a"], "sender": "visitor", "text": "late"})
    engine = db.make_engine(database_url)
    dead_rasa = f"http://127.0.0.1:{free_port()}"
    try:
        exported = await export_customer(engine, redis_client, "cust-1", dead_rasa)
        assert exported["visitor_ids"] == ["v_a", "v_b"]
        assert sorted(exported["conversation_ids"]) == sorted([cids["v_a"], cids["v_b"]])
        texts = [m["text"] for c in exported["sql"]["conversations"] for m in c["messages"]]
        assert sorted(texts) == ["my address is 1 Main St (v_a)", "my address is 1 Main St (v_b)"]
        assert [m["text"] for m in exported["redis"][f"conv:{cids['v_a']}:msgs"]] == [
            "my address is 1 Main St (v_a)",
            "late",
        ]
        assert exported["rasa"]["status"].startswith("unreachable")  # said plainly, the rest exported
        json.dumps(exported, default=str)

        held = Writer(
            redis_sync.Redis.from_url(redis_url, decode_responses=True), database_url, consumer="slow"
        )
        held.ensure_group()
        in_flight = held._read(block=False)  # read before the erasure, written after it
        assert [f["text"] for f in (json.loads(e[1]["body"]) for e in in_flight)] == ["late"]
        result = await delete_customer(engine, redis_client, "cust-1", dead_rasa)
        assert held._write(in_flight) == (0, 1)  # the tombstone stops it
        held._ack_and_trim([entry_id for entry_id, _ in in_flight])
        held.close()
        assert result["redis"]["outbox_entries"] >= 1 and result["sql"]["conversations"] == 2
        for vid in ("v_a", "v_b"):
            assert not await redis_client.exists(
                f"visitor:{vid}", f"visitor:{vid}:convs", f"visitor:{vid}:open"
            )
            cid = cids[vid]
            assert not await redis_client.exists(f"conv:{cid}", f"conv:{cid}:msgs", f"conv:{cid}:clients")
            assert await redis_client.zscore("queue", cid) is None
        # nothing anywhere in Redis still names them (keys come from handoff/keyspace.py for both
        # the store and the erasure, so a renamed key cannot be left behind)
        erased = {"v_a", "v_b", cids["v_a"], cids["v_b"]}
        # ... except the queue of Rasa trackers still to clear (Rasa is down here): bare random ids
        assert set(await redis_client.zrange("rasa:erase", 0, -1)) == {cids["v_a"], cids["v_b"]}
        assert result["rasa"]["pending_retry"] == sorted([cids["v_a"], cids["v_b"]])
        await redis_client.delete("rasa:erase")
        async for key in redis_client.scan_iter("*"):
            assert not any(i in key for i in erased), key
            kind = await redis_client.type(key)
            if kind == "set":
                assert not erased & await redis_client.smembers(key), key
            elif kind == "zset":
                assert not erased & set(await redis_client.zrange(key, 0, -1)), key
        # the other customer is untouched, and the writer cannot bring anything back
        write_all(redis_url, database_url)
        with db.sessions(engine)() as session:
            assert set(session.scalars(select(Conversation.id))) == {cids["v_other"]}
            assert set(session.scalars(select(Visitor.id))) == {"v_other"}
            assert session.scalar(select(func.count()).select_from(Message)) == 1
            assert (
                session.scalar(
                    select(func.count()).select_from(Event).where(Event.visitor_id.in_(["v_a", "v_b"]))
                )
                == 0
            )
        assert await redis_client.exists(f"conv:{cids['v_other']}")
        entries = await redis_client.xrange(STREAM)
        assert not [f for _, f in entries if f.get("vid") in ("v_a", "v_b")]
        # the same visitor id coming back later is logged again like anyone else
        again = Script("c_again", "v_a", time.time() + 1, "en").say("hello again")
        for entry in again.entries:
            await redis_client.xadd(STREAM, entry)
        write_all(redis_url, database_url)
        with db.sessions(engine)() as session:
            assert session.get(Conversation, "c_again").visitor_id == "v_a"
    finally:
        engine.dispose()


def test_retention_blanks_old_transcripts_and_keeps_every_measure(redis_url, database_url):
    now = epoch(date(2026, 11, 1))
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    scripts = []
    for i, age in enumerate((40, 35, 5)):  # days ago; retention 30 days: the first two go
        s = Script(f"r{i}", f"v{i}", now - age * DAY, "en", verified_id=f"cust-{i}")
        s.say(f"secret {i}").wait(5).bot("answer", topic="refund_status").wait(10).say("no")
        s.escalate("answer_not_helpful", "refund_status").wait(30).claim("asha").agent("asha", "private")
        s.wait(60).close("asha", "resolved", note="called back on +1 555").rate(5, True, "great, thanks Ann")
        scripts.append(s)
        for entry in s.entries:
            client.xadd(STREAM, entry)
        client.hset(f"conv:r{i}", mapping={"id": f"r{i}", "state": "closed", "visitor_id": f"v{i}"})
        client.rpush(f"conv:r{i}:msgs", "{}")
        client.rpush(f"visitor:v{i}:convs", f"r{i}")
    client.close()
    write_all(redis_url, database_url)
    engine = db.make_engine(database_url)
    start, end = date(2026, 9, 1), date(2026, 11, 1)
    try:
        with db.sessions(engine)() as session:
            before = table(conversation_facts(session, start, end, 7, as_of=now))
        rds = redis_sync.Redis.from_url(redis_url, decode_responses=True)
        counts = apply_retention(engine, 30, "anonymise", now=now, redis=rds)
        assert counts["conversations"] == 2 and counts["messages"] == 8 and counts["redis_conversations"] == 2
        assert not rds.exists("conv:r0", "conv:r0:msgs") and rds.exists("conv:r2")
        assert rds.lrange("visitor:v0:convs", 0, -1) == []
        rds.close()
        with db.sessions(engine)() as session:
            after = table(conversation_facts(session, start, end, 7, as_of=now))
            texts = {
                m.conversation_id: m.text for m in session.scalars(select(Message).where(Message.seq == 1))
            }
            assert texts == {"r0": None, "r1": None, "r2": "secret 2"}
            old = session.get(Conversation, "r0")
            assert old.rating_comment is None and "note" not in old.resolution and old.anonymised_at
            assert old.rating_score == 5 and old.resolution_code == "resolved"
            assert (
                session.scalar(select(func.count()).select_from(Event).where(Event.conversation_id == "r0"))
                == 0
            )
            assert session.get(Conversation, "r2").rating_comment == "great, thanks Ann"
        assert after == before  # every measure, every split
        assert apply_retention(engine, 30, "anonymise", now=now)["conversations"] == 0  # done once
        assert apply_retention(engine, 1, "delete", now=now)["conversations"] == 1
        with db.sessions(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Message)) == 8  # only the anonymised
            assert table(conversation_facts(session, start, end, 7, as_of=now)) == before
    finally:
        engine.dispose()


async def test_erasure_finds_a_customer_by_email_or_phone_and_clears_rejected_events(
    redis_url, redis_client, database_url
):
    from handoff.analytics.models import RejectedEvent

    store = Store(redis_client)
    await store.touch_visitor(
        "v_pre", language="en", info=json.dumps({"name": "Ann", "email": "Ann@Example.com"})
    )
    pre, _ = await store.open_or_create("v_pre", "en")
    await store.append(pre.id, {"conversation_id": pre.id, "sender": "visitor", "text": "canary-email-77"})
    await store.touch_visitor("v_off", language="en")
    off, _ = await store.open_or_create("v_off", "en")
    await store.transition(
        off, "escalate", {"queued_at": repr(time.time()), "escalation": {"reason": "requested"}}
    )
    off = await store.get(off.id)
    offline = {"contact": "+91 98765 43210", "text": "canary-phone-88", "at": time.time()}
    await store.transition(off, "offline", {"offline": offline, "closed_at": repr(time.time())})
    await store.touch_visitor("v_else", language="en", info=json.dumps({"email": "bob@example.com"}))
    write_all(redis_url, database_url)
    engine = db.make_engine(database_url)
    try:
        with db.sessions(engine)() as session, session.begin():
            session.add(
                RejectedEvent(entry_id="1-1", fields={"cid": pre.id, "body": "canary"}, error="x", at=1.0)
            )
            session.add(RejectedEvent(entry_id="1-2", fields={"cid": "c_other"}, error="x", at=1.0))
        by_email = await delete_customer(engine, redis_client, "ann@example.COM ")
        assert by_email["visitor_ids"] == ["v_pre"] and by_email["conversation_ids"] == [pre.id]
        assert by_email["sql"]["rejected_events"] == 1
        by_phone = await delete_customer(engine, redis_client, "98765-43210")
        assert by_phone["visitor_ids"] == ["v_off"] and by_phone["conversation_ids"] == [off.id]
        with db.sessions(engine)() as session:
            assert session.scalars(select(RejectedEvent.entry_id)).all() == ["1-2"]
            texts = " ".join(m.text or "" for m in session.scalars(select(Message)))
            assert "canary" not in texts
        assert await redis_client.exists("visitor:v_else") and not await redis_client.exists("visitor:v_pre")
        dump = await everything_in(redis_client)
        assert "canary-email-77" not in dump and "canary-phone-88" not in dump
    finally:
        engine.dispose()


async def everything_in(redis) -> str:
    """Every value in the Redis database, as text."""
    parts = []
    for key in await redis.keys("*"):
        kind = await redis.type(key)
        if kind == "string":
            parts.append(await redis.get(key))
        elif kind == "hash":
            parts.append(str(await redis.hgetall(key)))
        elif kind == "list":
            parts.append(str(await redis.lrange(key, 0, -1)))
        elif kind == "set":
            parts.append(str(await redis.smembers(key)))
        elif kind == "zset":
            parts.append(str(await redis.zrange(key, 0, -1)))
        elif kind == "stream":
            parts.append(str(await redis.xrange(key)))
    return " ".join(parts)
