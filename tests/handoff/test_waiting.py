"""handoff/waiting.py on the real service: statuses with position and estimate, routing by language
and waiting time, coalesced queue updates."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from handoff import keyspace
from handoff.agents import Agent

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_position_and_estimate_follow_the_queue_and_the_recorded_waits(live):
    waiting = live.service.waiting
    asha = await live.agent("asha", "en")
    visitors = [await live.visitor(language="en") for _ in range(3)]
    cids = [(await v.call("request_human", {}))["conversation_id"] for v in visitors]
    await live.redis.lpush(keyspace.WAITS, 30, 90)  # mean 60 s
    statuses = [await waiting.status(await live.service.store.get(cid)) for cid in cids]
    assert [(s["position"], s["eta_seconds"], s["offline"]) for s in statuses] == [
        (1, 60, False),
        (2, 120, False),
        (3, 180, False),
    ]
    assert (await asha.claim(cids[0]))["ok"]
    last = await visitors[2].wait_for("status", lambda s: s["state"] == "queued" and s["position"] == 2)
    waits = await live.service.store.recent_waits()  # the claim recorded its own wait
    assert len(waits) == 3 and last["eta_seconds"] == math.ceil(2 * sum(waits) / 3)
    assert (await waiting.status(None)) == {
        "state": "bot",
        "position": None,
        "eta_seconds": None,
        "agent": None,
        "offline": False,
    }


async def test_routing_offers_a_conversation_to_speakers_first_then_to_everyone(live):
    waiting = live.service.waiting
    visitor = await live.visitor(language="bn")
    conv = await live.service.store.get((await visitor.call("request_human", {}))["conversation_id"])
    english = Agent("ravi", "Ravi", "agent", ("en",), 3)
    bengali = Agent("asha", "Asha", "agent", ("bn", "en"), 3)
    admin = Agent("boss", "Boss", "admin", ("en",), 3)
    later = conv.queued_at + waiting.timing.route_all_after
    assert waiting.offered(bengali, conv, conv.queued_at) and waiting.offered(admin, conv, conv.queued_at)
    assert not waiting.offered(english, conv, later - 1) and waiting.offered(english, conv, later)
    view = await waiting.view(bengali)
    assert [(e["conversation_id"], e["offered_to_all"], e["reason"]) for e in view] == [
        (conv.id, False, "requested")
    ]
    assert await waiting.view(english) == []


async def test_a_burst_of_escalations_is_announced_together(live):
    asha = await live.agent("asha", "en")
    await asyncio.sleep(0.3)  # the connect's own update
    before = len(asha.received("queue"))
    visitors = [await live.visitor(language="en") for _ in range(8)]
    await asyncio.gather(*(v.call("request_human", {}) for v in visitors))
    await asha.wait_for("queue", lambda q: len(q["queue"]) == 8)
    await asyncio.sleep(0.3)
    sent = len(asha.received("queue")) - before
    assert 1 <= sent <= 4, sent  # coalesced: not one per escalation
    started = time.time()
    assert (await asha.call("queue"))["queue"][0]["wait_seconds"] <= time.time() - started + 5
