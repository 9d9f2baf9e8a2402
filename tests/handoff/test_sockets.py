"""handoff/sockets.py on the real service: connecting (tokens, sessions) and dispatching every event
from the route table, with failures as error acks (or `error` events for events without an ack)."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from handoff import keyspace
from tests.support.handoff_service import AgentClient

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_agents_need_an_agent_token(live):
    await live.service.users.create("ravi", "password-123", "agent", "en")
    visitor_token = live.signer.issue("v_1", "visitor", 60)
    for auth in ({"token": visitor_token}, {"token": "forged.token"}, {}):
        intruder = AgentClient(live.base_url)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await intruder.connect(auth)
        assert intruder.received("connect_error") == [{"message": "unauthorized"}]
    ravi = await live.agent("ravi")
    session = ravi.received("agent_session")[0]
    assert (
        session["agent"]["username"] == "ravi" and session["conversations"] == [] and session["queue"] == []
    )
    await live.service.users.delete("ravi")
    await ravi.emit("queue", {})  # a deleted agent is refused at once: disconnected
    for _ in range(50):
        if not ravi.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not ravi.sio.connected


async def test_a_returning_visitor_gets_only_what_they_have_not_seen(live):
    first = await live.visitor(language="en")
    session = first.received("session")[0]
    assert session["conversation_id"] is None and session["status"]["state"] == "bot"
    for i in range(3):
        await first.say(f"message {i}")
    await first.wait_message("system", kind="bot_unavailable")
    token = session["visitor_token"]
    back = await live.visitor(visitor_token=token, last_seq=2)
    again = back.received("session")[0]
    assert again["visitor_id"] == session["visitor_id"]
    assert [m["seq"] for m in again["messages"]][0] == 3
    stranger = await live.visitor(visitor_token=token[:-2] + "xx")
    assert stranger.received("session")[0]["visitor_id"] != session["visitor_id"]


@pytest.mark.parametrize(
    "event, payload, code",
    [
        ("visitor_message", "just a string", "bad_request"),
        ("visitor_message", {"text": "x" * 4001, "client_id": "e1"}, "too_long"),
        ("visitor_message", {"text": " ", "client_id": "e2"}, "empty"),
        ("request_human", ["not", "an", "object"], "bad_request"),
        ("rate", {"score": 9}, "bad_request"),
        ("offline_message", {"text": "hi"}, "bad_request"),
    ],
)
async def test_rejected_events_get_the_documented_code_and_store_nothing(live, event, payload, code):
    visitor = await live.visitor()
    ack = await visitor.call(event, payload)
    assert ack == {"ok": False, "error": {"code": code, "message": ack["error"]["message"]}}
    assert await live.redis.keys(keyspace.conversation("*")) == []


async def test_an_event_without_an_ack_reports_its_error_as_an_event(live):
    visitor = await live.visitor()
    await visitor.emit("typing", {"typing": "yes"})
    assert (await visitor.wait_for("error"))["code"] == "bad_request"
