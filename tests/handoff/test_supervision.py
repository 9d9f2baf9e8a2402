"""The supervisor's view and take-over (issue 12): admins only; the real service in-process."""

from __future__ import annotations

import time

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


async def test_an_admin_joins_a_chat_writes_alongside_its_agent_and_leaves(live):
    asha = await live.agent("asha", "en")
    ravi = await live.agent("ravi", "en")
    boss = await live.agent("boss", "en", role="admin")
    visitor = await live.visitor(language="en")
    queued = await live.visitor(language="en")
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    waiting = (await queued.call("request_human", {}))["conversation_id"]
    assert (await asha.claim(cid))["ok"]

    assert (await ravi.call("join_chat", {"conversation_id": cid}))["error"]["code"] == "forbidden"
    assert (await boss.call("join_chat", {"conversation_id": waiting}))["error"]["code"] == "invalid_state"
    assert (await boss.call("join_chat", {"conversation_id": "c_0000000000000000"}))["error"]["code"] == (
        "not_found"
    )
    assert (await boss.call("leave_chat", {"conversation_id": cid}))["error"]["code"] == "bad_request"
    before = await boss.call("agent_message", {"conversation_id": cid, "text": "x", "client_id": "b-0"})
    assert before["error"]["code"] == "forbidden"  # not joined yet: not the admin's chat

    joined = await boss.call("join_chat", {"conversation_id": cid})
    assert joined["ok"] and joined["conversation"]["conversation_id"] == cid
    view = {c["conversation_id"]: c for c in (await boss.call("supervise"))["conversations"]}
    assert view[cid]["joined"] == ["boss"] and view[cid]["agent"] == "asha"
    conv = await live.service.store.get(cid)
    assert (conv.state.value, conv.agent) == ("assigned", "asha")  # no state change: asha keeps it

    # the admin writes: the visitor sees the admin's name, the agent sees it too
    assert (await boss.reply(cid, "Supervisor here, I am looking into it too."))["ok"]
    seen = await visitor.wait_for("message", lambda m: m["text"].startswith("Supervisor here"))
    assert seen["sender"] == "agent" and seen["meta"]["agent"]["name"].lower() == "boss"
    await asha.wait_for("message", lambda m: m["text"].startswith("Supervisor here"))
    # the visitor and the agent write: the admin gets both live, and the visitor's typing
    await visitor.emit("typing", {"typing": True})
    await boss.wait_for("typing", lambda t: t["conversation_id"] == cid and t["typing"])
    await visitor.say("Thank you both")
    await boss.wait_for("message", lambda m: m["text"] == "Thank you both")
    assert (await asha.reply(cid, "Asha again"))["ok"]
    await boss.wait_for("message", lambda m: m["text"] == "Asha again")
    # another tab of the admin (or a reload) has the joined chat in its session
    again = await live.agent("boss", "en", role="admin")
    session = again.received("agent_session")[0]
    assert [c["conversation_id"] for c in session["conversations"]] == [cid]
    # the chat is still asha's: she replies, transfers, closes; the admin cannot hand it back
    assert (await boss.call("handback", {"conversation_id": cid}))["error"]["code"] == "forbidden"

    assert (await boss.call("leave_chat", {"conversation_id": cid}))["ok"]
    left = await boss.wait_for("unassigned", lambda u: u["conversation_id"] == cid)
    assert left["reason"] == "left"
    after = await boss.call("agent_message", {"conversation_id": cid, "text": "late", "client_id": "b-9"})
    assert after["error"]["code"] == "forbidden"
    view = {c["conversation_id"]: c for c in (await boss.call("supervise"))["conversations"]}
    assert view[cid]["joined"] == []
    after_leaving = await live.agent("boss", "en", role="admin")
    assert after_leaving.received("agent_session")[0]["conversations"] == []

    # joined again, the agent closes: the admin is told as the agent is
    assert (await boss.call("join_chat", {"conversation_id": cid}))["ok"]
    assert (await asha.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]
    closed = await boss.wait_for(
        "unassigned", lambda u: u["conversation_id"] == cid and u["reason"] == "closed"
    )
    assert closed
    late = await boss.call("agent_message", {"conversation_id": cid, "text": "late", "client_id": "b-10"})
    assert late["error"]["code"] == "invalid_state"
    entries = await live.redis.xrange("log:events")
    joins = [e for _, e in entries if e["type"] == "conversation" and '"joined"' in e["body"]]
    assert [e["body"] for e in joins] == [
        '{"joined": {"boss": true}}',
        '{"joined": {"boss": false}}',
        '{"joined": {"boss": true}}',
    ]


async def test_a_joined_admin_is_told_when_the_chat_goes_back_to_the_queue(live):
    asha = await live.agent("asha", "en")
    boss = await live.agent("boss", "en", role="admin")
    visitor = await live.visitor(language="en")
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    assert (await asha.claim(cid))["ok"]
    assert (await boss.call("join_chat", {"conversation_id": cid}))["ok"]
    await asha.disconnect()
    sweeper = live.service.sweeper
    assert await sweeper.requeue_abandoned(now=time.time() + sweeper.timing.agent_grace + 30) == 1
    gone = await boss.wait_for("unassigned", lambda u: u["conversation_id"] == cid)
    assert gone["reason"] == "requeued"
    view = {c["conversation_id"]: c for c in (await boss.call("supervise"))["conversations"]}
    assert view[cid]["state"] == "queued" and view[cid]["joined"] == []
    late = await boss.call("agent_message", {"conversation_id": cid, "text": "late", "client_id": "b-1"})
    assert late["error"]["code"] in ("forbidden", "invalid_state")
    # the next agent's chat is theirs alone: the admin did not stay joined through the queue
    ravi = await live.agent("ravi", "en")
    assert (await ravi.claim(cid))["ok"]
    conv = await live.service.store.get(cid)
    assert not [name for name in conv.raw if name.startswith("joined:")]
