"""The supervisor's view and take-over (issue 12): admins only; the real service in-process."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_an_admin_sees_every_live_chat_and_takes_one_over(live):
    asha = await live.agent("asha", "en")
    boss = await live.agent("boss", "en", role="admin")
    visitors = [await live.visitor(language="en") for _ in range(2)]
    cids = [(await v.call("request_human", {}))["conversation_id"] for v in visitors]
    assert (await asha.claim(cids[0]))["ok"]
    assert (await asha.call("supervise"))["error"]["code"] == "forbidden"
    view = await boss.call("supervise")
    live_chats = {c["conversation_id"]: c for c in view["conversations"]}
    assert (live_chats[cids[0]]["state"], live_chats[cids[0]]["agent"]) == ("assigned", "asha")
    assert live_chats[cids[1]]["state"] == "queued" and live_chats[cids[1]]["wait_seconds"] >= 0
    agents = {a["username"]: a for a in view["agents"]}
    assert (agents["asha"]["load"], agents["asha"]["status"]) == (1, "online")

    assert (await asha.call("take_over", {"conversation_id": cids[0]}))["error"]["code"] == "forbidden"
    assert (await boss.call("take_over", {"conversation_id": cids[1]}))["error"]["code"] == "invalid_state"
    assert (await boss.call("take_over", {"conversation_id": cids[0]}))["ok"]
    gone = await asha.wait_for("unassigned", lambda u: u["conversation_id"] == cids[0])
    assert gone["reason"] == "taken_over"
    packet = await boss.wait_for("conversation", lambda c: c["conversation_id"] == cids[0])
    assert packet["state"] == "assigned"
    await visitors[0].wait_for(
        "status", lambda s: s["state"] == "assigned" and s["agent"]["name"].lower() == "boss"
    )
    assert (await boss.reply(cids[0], "I am taking over, hello."))["ok"]
