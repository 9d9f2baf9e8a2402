"""When Rasa fails, against the real stack (the handoff service process with its sweeper, Redis, the
action server and the Rasa server with the trained model): Rasa trackers are cleared by retention, an
erasure that could not reach Rasa is retried until it succeeds (handoff/tracker_erasure.py,
handoff/analytics/retention.py, privacy.py), and a turn Rasa answers with nothing (its custom action
failed) is not left in silence (handoff/bot_turn.py)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
import redis as redis_sync
import redis.asyncio as redis_async
from sqlalchemy import select

from bot.content import load_content
from handoff import keyspace, tracker_erasure
from handoff.analytics import db, privacy
from handoff.analytics.models import Visitor as VisitorRow
from handoff.analytics.retention import apply_retention
from handoff.analytics.writer import Writer
from handoff.rasa_client import RasaClient
from tests.support.handoff_service import Visitor, running_stack
from tests.support.processes import MODEL, free_port

CONTENT = load_content()


@pytest.fixture(autouse=True, scope="module")
def trained_model():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("erasure-stack"), ("a",)) as stack:
        yield stack


@pytest.fixture
def redis(stack):
    client = redis_sync.Redis.from_url(stack["redis_url"], decode_responses=True)
    yield client
    client.close()


def tracker_texts(stack, cid):
    url = f"{stack['rasa_url']}/conversations/{cid}/tracker?token={stack['rasa_token']}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return [e.get("text") for e in json.loads(response.read())["events"] if e.get("event") == "user"]


def health(stack):
    with urllib.request.urlopen(stack["a"] + "/health", timeout=10) as response:
        return json.loads(response.read())


async def chat_with_canary(stack, canary):
    """A visitor on the service tells the bot something with `canary` in it; Rasa's tracker keeps it."""
    visitor = await Visitor(stack["a"]).connect({"language": "en"})
    vid = (await visitor.wait_for("session"))["visitor_id"]
    text = CONTENT.intents["refund_status"].languages["en"].examples[0] + " " + canary
    ack = await visitor.say(text)
    await visitor.wait_message("bot")
    return visitor, vid, ack["conversation_id"]


async def wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.3)


async def test_a_failed_rasa_erasure_is_queued_and_retried_by_the_sweeper(stack, redis, tmp_path):
    visitor, vid, cid = await chat_with_canary(stack, "canary-erasure-5150")
    await visitor.disconnect()
    assert any("canary-erasure-5150" in (t or "") for t in tracker_texts(stack, cid))
    url = f"sqlite:///{tmp_path / 'log.db'}"
    db.migrate(url)
    engine = db.make_engine(url)
    client = redis_async.Redis.from_url(stack["redis_url"], decode_responses=True)
    rasa_down = f"http://127.0.0.1:{free_port()}"  # nothing listens: Rasa is down for the privacy tool
    try:
        result = await privacy.delete_customer(engine, client, vid, rasa_down, stack["rasa_token"])
    finally:
        await client.aclose()
        engine.dispose()
    assert result["rasa"]["status"].startswith("unreachable"), result
    assert result["rasa"]["pending_retry"] == [cid] and result["rasa"]["pending_total"] >= 1
    assert not redis.exists(keyspace.conversation(cid))  # Redis and SQL are erased at once
    # the service's sweeper (its Rasa is up) clears the tracker; /health shows the queue emptying
    await wait_until(lambda: redis.zscore(keyspace.RASA_ERASURES, cid) is None)
    assert not any("canary-erasure-5150" in (t or "") for t in tracker_texts(stack, cid))
    assert health(stack)["rasa_erasures_pending"] == 0


async def test_retry_backs_off_while_rasa_is_down_and_clears_once_it_answers(stack, redis):
    visitor, _vid, cid = await chat_with_canary(stack, "canary-backoff-6160")
    await visitor.disconnect()
    client = redis_async.Redis.from_url(stack["redis_url"], decode_responses=True)
    down = RasaClient(f"http://127.0.0.1:{free_port()}", token=stack["rasa_token"])
    up = RasaClient(stack["rasa_url"], token=stack["rasa_token"])
    # a time far in the future: the service's own sweeper (real time) never finds it due meanwhile
    now = time.time() + 10 * 86400
    try:
        redis.zadd(keyspace.RASA_ERASURES, {cid: now})
        assert await tracker_erasure.retry_due(client, down.clear_tracker, now=now) == {
            "cleared": 0,
            "failed": 1,
        }
        assert redis.zscore(keyspace.RASA_ERASURES, cid) == now + tracker_erasure.FIRST_RETRY
        assert await tracker_erasure.retry_due(client, up.clear_tracker, now=now + 5) == {
            "cleared": 0,
            "failed": 0,
        }
        assert await tracker_erasure.retry_due(client, down.clear_tracker, now=now + 11) == {
            "cleared": 0,
            "failed": 1,
        }
        assert redis.zscore(keyspace.RASA_ERASURES, cid) == now + 11 + 2 * tracker_erasure.FIRST_RETRY
        assert any("canary-backoff-6160" in (t or "") for t in tracker_texts(stack, cid))
        done = await tracker_erasure.retry_due(client, up.clear_tracker, now=now + 40)
        assert done == {"cleared": 1, "failed": 0}
        assert redis.zscore(keyspace.RASA_ERASURES, cid) is None
        assert redis.hget(keyspace.RASA_ERASURE_ATTEMPTS, cid) is None
        assert tracker_texts(stack, cid) == []
    finally:
        await down.close()
        await up.close()
        await client.aclose()


async def test_retention_removes_the_visitor_record_and_the_rasa_tracker(stack, redis, tmp_path):
    visitor, vid, cid = await chat_with_canary(stack, "canary-retention-7170")
    assert (await visitor.call("leave"))["ok"]
    await visitor.disconnect()
    url = f"sqlite:///{tmp_path / 'log.db'}"
    db.migrate(url)
    # the SQL log as the log writer keeps it (the outbox stream, consumed into SQL)
    writer_redis = redis_sync.Redis.from_url(stack["redis_url"], decode_responses=True)
    writer = Writer(writer_redis, url, consumer="retention-test", block_ms=50)
    try:
        writer.run(idle_exit=True)
    finally:
        writer.close()
        writer_redis.close()
    engine = db.make_engine(url)
    try:
        with db.sessions(engine)() as session:
            assert session.get(VisitorRow, vid) is not None
        counts = apply_retention(engine, 1, "anonymise", now=time.time() + 2 * 86400, redis=redis)
        with db.sessions(engine)() as session:
            assert session.get(VisitorRow, vid) is None
            assert session.scalars(select(VisitorRow.id).where(VisitorRow.id == vid)).first() is None
    finally:
        engine.dispose()
    assert counts["redis_conversations"] >= 1 and counts["redis_visitors"] >= 1, counts
    assert counts["rasa_trackers_queued"] >= 1 and counts["visitors"] >= 1, counts
    assert not redis.exists(*keyspace.visitor_keys(vid), *keyspace.conversation_keys(cid))
    await wait_until(lambda: redis.zscore(keyspace.RASA_ERASURES, cid) is None)
    assert not any("canary-retention-7170" in (t or "") for t in tracker_texts(stack, cid))


async def test_a_turn_rasa_answers_with_nothing_gets_the_bot_unavailable_notice(stack, redis):
    """Found by bench/chaos.py: Rasa whose call to the action server fails answers `[]` (the action's
    events are lost); the visitor got silence. Last in this module: it stops the action server."""
    actions = next(s for s in stack["services"] if s.name == "actions")
    actions.stop()
    visitor = await Visitor(stack["a"]).connect({"language": "en"})
    try:
        await visitor.wait_for("session")
        ack = await visitor.say(CONTENT.intents["refund_status"].languages["en"].examples[0])
        notice = await visitor.wait_message("system", after_seq=ack["seq"], kind="bot_unavailable")
        assert notice["meta"]["buttons"][0]["payload"] == "/request_human"
        assert not visitor.messages("bot")
        assert redis.zscore(keyspace.PENDING_TURNS, f"{ack['conversation_id']}|{ack['seq']}") is None
    finally:
        await visitor.disconnect()
