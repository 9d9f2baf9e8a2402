"""Per-agent rate limits on the /agent namespace (handoff/quotas.py agent_*): a real handoff service
process on a real Redis with low limits, real Socket.IO clients. A limited event gets `rate_limited`
with `retry_after` and does nothing; another agent is not slowed down."""

from __future__ import annotations

import pytest

from tests.support.handoff_service import AgentClient, Visitor, add_agent, handoff_service
from tests.support.processes import free_port

LIMITS = {
    "HANDOFF_LIMIT_AGENT_MESSAGE": "3/minute",
    "HANDOFF_LIMIT_AGENT_CLAIM": "1/minute",
    "HANDOFF_LIMIT_AGENT_TRANSFER": "1/minute",
    "HANDOFF_LIMIT_AGENT_EVENT": "6/minute",
}


@pytest.fixture
def service(redis_url, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # no Rasa, no translator: not needed here
    process = handoff_service("limits", free_port(), redis_url, dead, dead, tmp_path, **LIMITS).start()
    for name in ("asha", "ravi"):
        add_agent(redis_url, name, languages="en", capacity=5)
    yield process.health_url.rsplit("/", 1)[0]
    process.stop()


async def queued_visitor(base):
    visitor = await Visitor(base).connect({"language": "en"})
    await visitor.wait_for("session")
    ack = await visitor.call("request_human")
    assert ack["ok"] and ack["state"] == "queued", ack
    return visitor, ack["conversation_id"]


def limited(ack):
    return not ack["ok"] and ack["error"]["code"] == "rate_limited" and ack["error"]["retry_after"] >= 1


async def test_agent_messages_claims_and_handbacks_are_limited_per_agent(service):
    asha = await AgentClient.logged_in(service, "asha")
    ravi = await AgentClient.logged_in(service, "ravi")
    first, first_cid = await queued_visitor(service)
    second, second_cid = await queued_visitor(service)
    try:
        assert (await asha.claim(first_cid))["ok"]
        assert limited(await asha.claim(second_cid))  # the second claim within the minute
        assert (await ravi.claim(second_cid))["ok"]  # another agent is not limited by asha's count
        acks = [await asha.reply(first_cid, f"answer {n}") for n in range(5)]
        assert [a["ok"] for a in acks] == [True, True, True, False, False]
        assert all(limited(a) for a in acks[3:])
        assert limited(
            await asha.call("add_note", {"conversation_id": first_cid, "text": "n", "client_id": "n1"})
        )
        await first.wait_for("message", lambda m: m["text"] == "answer 2")
        shown = [m["text"] for m in first.messages("agent")]
        assert shown == ["answer 0", "answer 1", "answer 2"]  # the limited ones were not stored
        assert (await asha.call("handback", {"conversation_id": first_cid}))["ok"]
        assert limited(await ravi.call("transfer", {"conversation_id": second_cid, "to": "asha"})) is False
        assert limited(await ravi.call("handback", {"conversation_id": second_cid}))
        # any other event: 6 a minute per agent (the connect's own reads are not events)
        acks = [await ravi.call("queue") for _ in range(7)]
        assert [a["ok"] for a in acks] == [True] * 6 + [False] and limited(acks[-1])
        assert (await asha.call("agents"))["ok"]
    finally:
        for client in (asha, ravi, first, second):
            await client.disconnect()
