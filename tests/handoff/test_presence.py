"""handoff/presence.py against a real Redis: heartbeats going stale, one process leading the sweep."""

from __future__ import annotations

from handoff.presence import Presence


async def test_presence_goes_stale_and_one_process_leads_the_sweep(redis_client):
    store = Presence(redis_client)
    await store.heartbeat([("asha", "sid1"), ("asha", "sid2"), ("ravi", "sid3")], now=1000.0)
    assert await store.online_agents(stale_after=10, now=1005.0) == {"asha": 2, "ravi": 1}
    await store.drop("asha", "sid1")
    assert await store.online_agents(stale_after=10, now=1005.0) == {"asha": 1, "ravi": 1}
    assert await store.online_agents(stale_after=10, now=1011.0) == {}
    assert await store.try_lead("process-a", ttl=5)
    assert not await store.try_lead("process-b", ttl=5)
    assert await store.try_lead("process-a", ttl=5)
