"""handoff/sweeper.py on the real service: the grace period and idle bot conversations.
Time is passed in (`now`), not waited for."""

from __future__ import annotations

import asyncio
import time

import pytest

from handoff import keyspace

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_an_agent_gone_past_the_grace_period_loses_their_chats_keeping_the_queue_place(live):
    meera = await live.agent("meera", "en")
    visitor = await live.visitor(language="en")
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    queued_at = (await live.service.store.get(cid)).queued_at
    assert (await meera.claim(cid))["ok"]
    sweeper, grace = live.service.sweeper, live.service.sweeper.timing.agent_grace
    assert await sweeper.requeue_abandoned() == 0  # online
    await meera.disconnect()
    assert await sweeper.requeue_abandoned(now=time.time() + 1) == 0  # within the grace period
    assert await sweeper.requeue_abandoned(now=time.time() + grace + 30) == 1
    conv = await live.service.store.get(cid)
    assert conv.state.value == "queued" and conv.agent == "" and conv.claimed_at is None
    assert await live.redis.zscore(keyspace.QUEUE, cid) == queued_at
    assert await live.redis.smembers(keyspace.agent_chats("meera")) == set()
    note = await visitor.wait_message("system", kind="agent_left")
    assert "meera" in note["meta"]["note"].lower()
    await visitor.wait_state("queued")


async def test_a_conversation_left_with_the_bot_ends_when_idle(live):
    visitor = await live.visitor(language="en")
    first = await visitor.say("hello")
    await visitor.wait_message("system", kind="bot_unavailable")
    sweeper = live.service.sweeper
    assert await sweeper.end_idle_bot_conversations() == 0
    assert await sweeper.end_idle_bot_conversations(now=time.time() + sweeper.timing.bot_idle + 5) == 1
    await visitor.wait_state("closed")
    conv = await live.service.store.get(first["conversation_id"])
    assert conv.state.value == "closed" and conv.raw["close_reason"] == "idle"
    again = await visitor.say("hello again")
    assert again["conversation_id"] != first["conversation_id"] and again["seq"] == 1


async def test_a_queued_visitor_without_a_socket_abandons_after_the_limit(live):
    stays = await live.visitor(language="en")
    leaves = await live.visitor(language="en")
    kept = (await stays.call("request_human", {}))["conversation_id"]
    gone = (await leaves.call("request_human", {}))["conversation_id"]
    sweeper, limit = live.service.sweeper, live.service.sweeper.timing.queue_abandon
    assert await sweeper.abandon_queued(now=time.time() + limit + 30) == 0  # both connected
    await leaves.disconnect()
    await asyncio.sleep(0.2)
    assert await sweeper.abandon_queued(now=time.time() + 1) == 0  # gone, but not for long
    assert await sweeper.abandon_queued(now=time.time() + limit + 30) == 1
    conv = await live.service.store.get(gone)
    assert conv.state.value == "closed" and conv.raw["close_reason"] == "abandoned"
    assert await live.redis.zscore(keyspace.QUEUE, gone) is None
    assert (await live.service.store.get(kept)).state.value == "queued"
    events = await live.redis.xrange(keyspace.EVENTS)
    assert any(gone in str(fields) and "abandon" in str(fields) for _, fields in events)
