"""A visitor whose queued chat was abandoned (no socket for HANDOFF_QUEUE_ABANDON) comes back: the
`session` says so (`status.reason` `abandoned`, and whether anyone could answer now), and asking for
a person again queues a new chat, or opens the offline form when no agent is online. The real service
(in-process, real Redis, real sockets), the sweeper called with a chosen `now`."""

from __future__ import annotations

import time

import pytest

from tests.support.handoff_service import Visitor

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def abandoned_visitor(live):
    first = await live.visitor(language="en")
    session = await first.wait_for("session")
    ack = await first.call("request_human")
    assert ack["ok"] and ack["state"] == "queued"
    await first.disconnect()
    assert await live.service.sweeper.abandon_queued(now=time.time() + 3600) == 1
    return session["visitor_token"], ack["conversation_id"]


async def back(live, token, cid):
    visitor = await Visitor(live.base_url).connect({"visitor_token": token, "conversation_id": cid})
    live.clients.append(visitor)
    return visitor, await visitor.wait_for("session")


async def test_a_returning_abandoned_visitor_with_no_agent_online_gets_the_offline_path(live_clean):
    live = live_clean
    token, cid = await abandoned_visitor(live)
    visitor, session = await back(live, token, cid)
    assert session["conversation_id"] == cid
    assert session["status"] == {
        "state": "closed",
        "reason": "abandoned",
        "offline": True,
        "position": None,
        "eta_seconds": None,
        "agent": None,
    }
    # what the widget's "Leave a message" does: ask for a person, then the offline form
    again = await visitor.call("request_human")
    assert again["ok"] and again["state"] == "queued" and again["conversation_id"] != cid
    await visitor.wait_for("status", lambda s: s["state"] == "queued" and s["offline"])
    sent = await visitor.call(
        "offline_message", {"text": "call me", "contact": "a@b.example", "client_id": "o1"}
    )
    assert sent["ok"], sent


async def test_with_an_agent_online_the_returning_visitor_can_wait_again(live_clean):
    live = live_clean
    token, cid = await abandoned_visitor(live)
    agent = await live.agent("asha")
    visitor, session = await back(live, token, cid)
    assert session["status"]["reason"] == "abandoned" and session["status"]["offline"] is False
    again = await visitor.call("request_human")
    assert again["ok"] and again["state"] == "queued"
    entry = await agent.wait_queued(again["conversation_id"])
    assert entry["conversation_id"] == again["conversation_id"]


async def test_a_chat_the_visitor_ended_is_not_called_abandoned(live_clean):
    live = live_clean
    visitor = await live.visitor(language="en")
    token = (await visitor.wait_for("session"))["visitor_token"]
    ack = await visitor.call("request_human")
    assert (await visitor.call("leave"))["ok"]
    await visitor.disconnect()
    _, session = await back(live, token, ack["conversation_id"])
    assert session["status"]["state"] == "closed" and "reason" not in session["status"]
