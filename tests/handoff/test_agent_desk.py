"""handoff/agent_desk.py on the real service (in-process, real Redis, real sockets; no translator)."""

from __future__ import annotations

import asyncio

import pytest

from handoff import keyspace
from handoff.sockets import answer
from handoff.transitions import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def queued(live, language="en"):
    visitor = await live.visitor(language=language)
    ack = await visitor.call("request_human", {})
    assert ack["ok"] and ack["state"] == "queued"
    return visitor, ack["conversation_id"]


async def test_claim_race_one_winner_then_reply_typing_and_close(live):
    asha = await live.agent("asha", "en,bn")
    ravi = await live.agent("ravi", "en")
    visitor, cid = await queued(live)
    first, second = await asyncio.gather(asha.claim(cid), ravi.claim(cid))
    assert [first["ok"], second["ok"]].count(True) == 1, (first, second)
    assert (first if not first["ok"] else second)["error"]["code"] == "taken"
    owner, other = (asha, ravi) if first["ok"] else (ravi, asha)
    packet = (first if first["ok"] else second)["conversation"]
    assert packet["state"] == "assigned" and packet["escalation"]["reason"] == "requested"
    assert packet["translation"]["enabled"] is False
    await visitor.wait_for("status", lambda s: s["state"] == "assigned")
    assert (await other.reply(cid, "mine?"))["error"]["code"] == "forbidden"
    sent = await owner.reply(cid, "hello", client_id="r-1")
    assert sent["ok"] and (await owner.reply(cid, "hello", client_id="r-1")) == sent
    assert (await visitor.wait_message("agent"))["text"] == "hello"
    await owner.emit("typing", {"conversation_id": cid, "typing": True})
    assert (await visitor.wait_for("typing")) == {"sender": "agent", "typing": True}
    await owner.emit("typing", {"conversation_id": "nonsense", "typing": True})
    assert (await owner.wait_for("error"))["code"] == "bad_request"  # no ack: an `error` event
    closed = await owner.call("close", {"conversation_id": cid, "resolution": "resolved", "note": "done"})
    assert closed == {"ok": True}
    await visitor.wait_state("closed")
    assert (await owner.wait_for("unassigned"))["reason"] == "closed"
    assert await live.redis.smembers(keyspace.agent_chats(owner_name(owner, asha))) == set()
    assert (await owner.reply(cid, "too late"))["error"]["code"] == "invalid_state"


def owner_name(client, asha):
    return "asha" if client is asha else "ravi"


async def test_capacity_transfer_and_handback(live):
    solo = await live.agent("solo", "en", capacity=1)
    ravi = await live.agent("ravi", "en", capacity=1)
    _, first = await queued(live)
    visitor, second = await queued(live)
    assert (await solo.claim(first))["ok"]
    assert (await solo.claim(second))["error"]["code"] == "capacity"
    assert (await ravi.claim(second))["ok"]
    refused = await solo.call("transfer", {"conversation_id": first, "to": "ravi"})
    assert refused["error"]["code"] == "capacity"  # ravi is full
    assert (await solo.call("transfer", {"conversation_id": first, "to": "nobody"}))["error"][
        "code"
    ] == "not_found"
    back = await ravi.call("handback", {"conversation_id": second})
    assert back == {"ok": True}
    await visitor.wait_state("bot")
    moved = await solo.call("transfer", {"conversation_id": first, "to": "ravi"})
    assert moved == {"ok": True}
    assert (await ravi.wait_for("conversation", lambda c: c["conversation_id"] == first))[
        "state"
    ] == "assigned"
    assert await live.redis.smembers(keyspace.agent_chats("solo")) == set()
    assert await live.redis.smembers(keyspace.agent_chats("ravi")) == {first}
    agents = {a["username"]: a for a in (await ravi.call("agents"))["agents"]}
    assert agents["ravi"]["load"] == 1 and agents["solo"]["load"] == 0 and agents["solo"]["online"]


async def test_a_conflict_in_handback_or_close_becomes_an_error_ack(live):
    """A Conflict (the agent changed since the conversation was read) used to escape the socket's
    error funnel: the console never got an ack. Now it is `invalid_state`, like any stale step."""
    await live.agent("asha", "en")
    await live.agent("ravi", "en")
    _, cid = await queued(live)
    store = live.service.store
    await store.transition(await store.get(cid), "claim", receiver=Receiver("asha", 3))
    stale = await store.get(cid)  # asha's tab read it...
    await store.transition(await store.get(cid), "transfer", receiver=Receiver("ravi", 3))  # ...then it moved
    for event in ("handback", "close"):
        ack = await answer(store.transition(await copy(stale), event))
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_state", ack
    assert (await store.get(cid)).agent == "ravi"
    assert await live.redis.smembers(keyspace.agent_chats("ravi")) == {cid}


async def copy(conv):
    return type(conv).from_hash(dict(conv.raw))


async def test_routing_canned_replies_open_and_offline_messages(live):
    ravi = await live.agent("ravi", "en")
    meera = await live.agent("meera", "ml")
    _, cid = await queued(live, "ml")
    assert cid not in [e["conversation_id"] for e in (await ravi.call("queue"))["queue"]]
    assert (await ravi.claim(cid))["error"]["code"] == "not_offered"
    assert (await ravi.call("open", {"conversation_id": cid}))["error"]["code"] == "forbidden"
    peek = await meera.call("open", {"conversation_id": cid})
    assert peek["ok"] and peek["conversation"]["state"] == "queued"
    entry = (await meera.call("queue"))["queue"][0]
    assert (entry["conversation_id"], entry["offered_to_all"]) == (cid, False)
    canned = await ravi.call("canned_replies", {"language": "bn"})
    assert canned["ok"] and {r["lang"] for r in canned["replies"]} == {"bn"}
    assert (await ravi.call("canned_replies", {"language": "bengali"}))["error"]["code"] == "bad_request"
    assert (await ravi.call("offline_messages")) == {"ok": True, "items": [], "email": False}  # no SMTP_URL
    assert (await ravi.call("claim", {"conversation_id": "c_" + "0" * 16}))["error"]["code"] == "not_found"
