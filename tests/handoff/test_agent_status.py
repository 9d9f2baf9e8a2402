"""Agent status (issue 12): online / away / busy, set by the agent, respected by the visitors'
estimate, the offline form and transfers. The real service in-process on a real Redis."""

from __future__ import annotations

import pytest

from handoff import keyspace

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_away_and_busy_agents_do_not_count_for_the_wait_nor_take_transfers(live):
    asha = await live.agent("asha", "en")
    ravi = await live.agent("ravi", "en")
    await live.redis.lpush(keyspace.WAITS, 60, 60)  # mean 60 s
    visitor = await live.visitor(language="en")
    asked = await visitor.call("request_human", {})
    cid = asked["conversation_id"]
    two = await visitor.wait_for("status", lambda s: s["state"] == "queued" and s["eta_seconds"] == 30)
    assert two["offline"] is False  # 1 x 60 s / 2 agents

    assert await asha.call("set_status", {"status": "away"}) == {"ok": True, "status": "away"}
    one = await visitor.wait_for("status", lambda s: s["eta_seconds"] == 60)  # ravi alone
    assert one["offline"] is False
    agents = {a["username"]: a for a in (await ravi.call("agents"))["agents"]}
    assert (agents["asha"]["status"], agents["ravi"]["status"]) == ("away", "online")

    assert (await ravi.call("set_status", {"status": "busy"}))["ok"]
    none = await visitor.wait_for("status", lambda s: s["offline"] is True)
    assert none["state"] == "queued"  # no one takes chats: the offline form is offered

    # A busy agent takes no transfer; back online, they do.
    assert (await asha.call("set_status", {"status": "online"}))["ok"]
    assert (await asha.claim(cid))["ok"]
    refused = await asha.call("transfer", {"conversation_id": cid, "to": "ravi"})
    assert refused["error"]["code"] == "offline" and "busy" in refused["error"]["message"]
    assert (await ravi.call("set_status", {"status": "online"}))["ok"]
    assert (await asha.call("transfer", {"conversation_id": cid, "to": "ravi"}))["ok"]


async def test_the_status_is_checked_and_kept_across_reconnects(live):
    asha = await live.agent("asha", "en")
    bad = await asha.call("set_status", {"status": "sleeping"})
    assert bad["error"]["code"] == "bad_request"
    assert (await asha.call("set_status", {"status": "busy"}))["ok"]
    await asha.disconnect()
    again = await live.agent("asha", "en")
    session = again.received("agent_session")[0]
    assert session["status"] == "busy"
