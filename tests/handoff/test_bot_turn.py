"""handoff/bot_turn.py: what a bot turn leaves behind (`Store.record_bot_turn`, one script) on a real
Redis, and the turn when Rasa is down on the real service. The turn with the real Rasa server is
covered by tests/handoff/test_service.py."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from handoff import bot_turn, keyspace
from handoff.bot_turn import reply_body
from handoff.rasa_client import BotReply
from handoff.store import Store


async def test_the_detected_language_is_written_once_with_the_replies(redis_client):
    store = Store(redis_client)
    turn = await store.visitor_message("v_1", "আমার অর্ডার কোথায়", "m-1")
    cid, seq = turn.conversation.id, turn.message["seq"]
    assert turn.message["lang"] is None and turn.fresh and turn.created
    replies = [
        BotReply("উত্তর", meta={"reply": "faq/order_status", "topic": "order_status", "requested_lang": "bn"}),
        BotReply("সাহায্য হলো?", buttons=[{"title": "হ্যাঁ", "payload": "/affirm"}], meta={"lang": "bn"}),
    ]
    before = await redis_client.xlen(keyspace.EVENTS)
    stored = await store.record_bot_turn(
        cid, seq, "bn", {"by": "bot", "at": 1.5}, [reply_body(r) for r in replies]
    )
    assert [(m["seq"], m["sender"], m["lang"]) for m in stored] == [(2, "bot", "bn"), (3, "bot", "bn")]
    assert stored[0]["meta"] == {"reply": "faq/order_status", "topic": "order_status", "requested_lang": "bn"}
    assert stored[1]["meta"]["buttons"] == [{"title": "হ্যাঁ", "payload": "/affirm"}]
    visitor = await store.message(cid, seq)
    assert (visitor["lang"], visitor["text"], visitor["at"]) == ("bn", "আমার অর্ডার কোথায়", turn.message["at"])
    conv = await store.get(cid)
    assert (conv.language, conv.bot_resolution, conv.last_seq) == ("bn", {"by": "bot", "at": 1.5}, 3)
    entries = [(f["type"], json.loads(f["body"])) for _, f in await redis_client.xrange(keyspace.EVENTS)][
        before:
    ]
    assert entries[:3] == [
        ("conversation", {"language": "bn"}),
        ("message_update", {"seq": 1, "lang": "bn"}),
        ("conversation", {"bot_resolution": {"by": "bot", "at": 1.5}}),
    ]
    assert [kind for kind, _ in entries[3:]] == ["message", "message"]
    # the next turn in the same language writes no language at all
    again = await store.visitor_message("v_1", "ধন্যবাদ", "m-2")
    assert again.message["lang"] == "bn" and again.conversation.id == cid
    before = await redis_client.xlen(keyspace.EVENTS)
    await store.record_bot_turn(cid, again.message["seq"], "bn", None, [])
    assert await redis_client.xlen(keyspace.EVENTS) == before


async def test_a_message_stored_by_an_older_version_still_gets_its_language(redis_client):
    store = Store(redis_client)
    conv, _ = await store.open_or_create("v_2")
    old = json.dumps({"conversation_id": conv.id, "seq": 1, "sender": "visitor", "text": "hola", "at": 2.0})
    await redis_client.rpush(keyspace.messages(conv.id), old)
    await store.record_bot_turn(conv.id, 1, "es", None, [])
    assert (await store.message(conv.id, 1))["lang"] == "es"


@pytest.mark.asyncio(loop_scope="session")
async def test_rasa_down_offers_a_person_and_the_button_escalates_without_rasa(live_clean):
    live = live_clean
    visitor = await live.visitor(language="ml")
    await visitor.say("എന്റെ ഓർഡർ എവിടെ?")
    notice = await visitor.wait_message("system", kind="bot_unavailable")
    assert notice["lang"] == "ml"
    ack = await visitor.say(notice["meta"]["buttons"][0]["payload"])
    await visitor.wait_state("queued")
    conv = await live.service.store.get(ack["conversation_id"])
    assert (conv.escalation["reason"], conv.escalation["source"]) == ("requested", "service")
    # What the visitor wrote and tapped goes with it (the button's title, not its payload).
    tried = [t["text"] for t in conv.escalation["intents_tried"]]
    assert tried == ["എന്റെ ഓർഡർ എവിടെ?", notice["meta"]["buttons"][0]["title"]], tried


class CountingRedis(redis.asyncio.Redis):
    """A real client that counts its round trips (each command or pipeline sent)."""

    round_trips = 0

    async def execute_command(self, *args, **options):
        type(self).round_trips += 1
        return await super().execute_command(*args, **options)


async def test_a_visitor_message_and_a_bot_turn_take_one_round_trip_each(redis_url):
    client = CountingRedis.from_url(redis_url, decode_responses=True)
    try:
        store = Store(client)
        warm = await store.visitor_message("v_warm", "hi", "w-1")  # scripts loaded once per process
        await store.record_bot_turn(warm.conversation.id, 1, "en", None, [{"sender": "bot", "text": "hello"}])
        CountingRedis.round_trips = 0
        turn = await store.visitor_message("v_3", "hello", "m-1")
        assert CountingRedis.round_trips == 1
        reply = {"sender": "bot", "text": "hi!", "lang": None, "meta": {"reply": "greet"}}
        await store.record_bot_turn(
            turn.conversation.id, turn.message["seq"], "en", {"by": "bot"}, [reply, reply]
        )
        assert CountingRedis.round_trips == 2
    finally:
        await client.aclose()


async def test_a_message_is_answered_once_when_two_runs_race(redis_client):
    """A re-drive and a slow original run both reach Rasa: the second to record stores nothing."""
    store = Store(redis_client)
    turn = await store.visitor_message("v_race", "where is my order", "m-1")
    cid, seq = turn.conversation.id, turn.message["seq"]
    reply = {"sender": "bot", "text": "It ships today.", "lang": "en", "meta": {"reply": "faq/order_status"}}
    first = await store.record_bot_turn(cid, seq, "en", None, [reply])
    assert [m["seq"] for m in first] == [2]
    assert await store.record_bot_turn(cid, seq, "en", None, [reply]) is None
    assert [m["sender"] for m in await store.messages(cid)] == ["visitor", "bot"]


async def test_a_run_whose_write_went_through_but_whose_reply_was_lost_gets_its_replies_back(redis_client):
    """Storing is tried again after a lost reply: the same run finds the replies it stored (to
    announce them, and escalate), another run finds the message answered, and nothing is doubled."""
    store = Store(redis_client)
    turn = await store.visitor_message("v_lost_reply", "where is my order", "m-1")
    cid, seq = turn.conversation.id, turn.message["seq"]
    replies = [
        {"sender": "bot", "text": "It ships today.", "lang": "en", "meta": {"reply": "faq/order_status"}},
        {"sender": "bot", "text": "Did that help?", "lang": "en", "meta": {"reply": "ask_feedback"}},
    ]
    first = await store.record_bot_turn(cid, seq, "en", None, replies, run="r1")
    again = await store.record_bot_turn(cid, seq, "en", None, replies, run="r1")
    assert [m["seq"] for m in again] == [m["seq"] for m in first] == [2, 3]
    assert await store.record_bot_turn(cid, seq, "en", None, replies, run="r2") is None
    assert [m["sender"] for m in await store.messages(cid)] == ["visitor", "bot", "bot"]


async def test_a_turn_lock_outlives_its_ttl_while_held_and_expires_when_its_holder_is_gone(
    redis_client, monkeypatch
):
    monkeypatch.setattr(bot_turn, "LOCK_TTL", 0.3)
    store = Store(redis_client)
    turns = bot_turn.BotTurn(store, rasa=None, announcer=None, transcript=None, waiting=None)
    key = keyspace.turn_lock("c_lock")
    async with turns._turn_lock("c_lock"):
        await asyncio.sleep(1.0)  # a slow Rasa call: more than three times the TTL
        assert await redis_client.exists(key)  # renewed: no re-drive while the turn runs
    assert not await redis_client.exists(key)
    # a holder that dies renews nothing: the lock it leaves is gone within the TTL
    await redis_client.set(key, "dead-holder", px=300)
    await asyncio.sleep(0.5)
    assert not await redis_client.exists(key)


async def test_a_turn_that_finds_redis_gone_leaves_its_message_to_the_sweeper(
    embedded_factory, caplog, monkeypatch
):
    """Redis down for longer than a turn waits: a warning, no traceback out of the background task,
    and the message stays pending for the sweeper, whose re-drive (which counts failures) still
    sees the error."""
    monkeypatch.setattr(bot_turn, "STORAGE_PATIENCE", 2.0)
    server = embedded_factory("data")
    client = keyspace.async_client(server.start())
    store = Store(client)
    turns = bot_turn.BotTurn(store, rasa=None, announcer=None, transcript=None, waiting=None)
    try:
        turn = await store.visitor_message("v_gone", "where is my order", "m-1")
        server.stop()
        await turns.run(turn.conversation, turn.message)
        assert "taking the turn lock of" in caplog.text and "trying again for up to 2 s" in caplog.text
        assert "waits for a re-drive: storage unavailable" in caplog.text
        with pytest.raises(RedisError):
            await turns.run(turn.conversation, turn.message, redriven=True)
        embedded_factory("data").start()
        assert await store.stalled_turns(time.time() + 60) == [(turn.conversation.id, turn.message["seq"])]
    finally:
        await client.aclose()


async def test_only_a_transient_error_is_tried_again(caplog):
    """A refused connection is waited out; an error Redis answered (a bug, not an outage) is not."""
    calls = []

    async def refused_once():
        calls.append("refused")
        if len(calls) == 1:
            raise RedisConnectionError("Connection refused")
        return "ok"

    assert await bot_turn.patiently("a step", refused_once) == "ok" and len(calls) == 2

    async def answered_with_an_error():
        calls.append("answered")
        raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    with pytest.raises(ResponseError):
        await bot_turn.patiently("another step", answered_with_an_error)
    assert calls.count("answered") == 1 and "another step" not in caplog.text
