"""handoff/visitor_desk.py on the real service (in-process, real Redis, real sockets; Rasa is down)."""

from __future__ import annotations

import json

import pytest

from handoff import keyspace

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_a_message_is_stored_once_in_one_script_and_echoed(live):
    visitor = await live.visitor(language="bn")
    first = await visitor.call("visitor_message", {"text": "হ্যালো", "client_id": "m-1"})
    again = await visitor.call("visitor_message", {"text": "হ্যালো", "client_id": "m-1"})
    assert first["ok"] and again == first  # a retry gets the same id and seq
    echo = await visitor.wait_message("visitor")
    assert (echo["text"], echo["lang"], echo["seq"]) == ("হ্যালো", "bn", 1)
    cid = first["conversation_id"]
    stored = [json.loads(m) for m in await live.redis.lrange(keyspace.messages(cid), 0, -1)]
    assert [m["text"] for m in stored] == ["হ্যালো"] + [m["text"] for m in stored[1:]]
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    conv = await live.redis.hgetall(keyspace.conversation(cid))
    assert conv["language"] == "bn" and conv["state"] == "bot"
    notice = await visitor.wait_message("system", kind="bot_unavailable")  # Rasa is down
    assert notice["lang"] == "bn" and notice["meta"]["buttons"][0]["payload"] == "/request_human"


async def test_request_human_then_leave_closes_and_the_next_message_opens_a_new_conversation(live):
    visitor = await live.visitor(language="en")
    asked = await visitor.call("request_human", {})
    assert asked["ok"] and asked["state"] == "queued"
    status = await visitor.wait_state("queued")
    assert status["position"] == 1 and status["offline"] is True  # no agent online
    assert (await visitor.call("leave", {})) == {"ok": True, "state": "closed"}
    await visitor.wait_state("closed")
    assert await live.service.store.queue() == []
    again = await visitor.call("visitor_message", {"text": "hello again", "client_id": "m-2"})
    assert again["conversation_id"] != asked["conversation_id"] and again["seq"] == 1


async def test_the_offline_form_stores_its_message_only_with_its_transition(live):
    visitor = await live.visitor(language="en")
    early = await visitor.call("offline_message", {"text": "call me", "contact": "a@b.c", "client_id": "o-1"})
    assert early["error"]["code"] == "invalid_state"  # not waiting: nothing stored, nothing created
    assert await live.redis.keys(keyspace.conversation("*")) == []
    asked = await visitor.call("request_human", {})
    cid = asked["conversation_id"]
    sent = await visitor.call("offline_message", {"text": "call me", "contact": "a@b.c", "client_id": "o-2"})
    assert sent["ok"], sent
    await visitor.wait_state("closed")
    conv = await live.service.store.get(cid)
    assert conv.state.value == "closed" and conv.offline["contact"] == "a@b.c"
    assert await live.redis.zscore(keyspace.OFFLINE, cid) is not None
    assert await live.redis.get(keyspace.open_conversation(conv.visitor_id)) is None
    texts = [m["text"] for m in await live.service.store.messages(cid)]
    assert texts.count("call me") == 1
    retried = await visitor.call(
        "offline_message", {"text": "call me", "contact": "a@b.c", "client_id": "o-2"}
    )
    assert retried["error"]["code"] == "invalid_state"
    assert [m["text"] for m in await live.service.store.messages(cid)].count("call me") == 1


async def test_rate_set_language_visitor_info_and_history(live):
    visitor = await live.visitor()
    assert (await visitor.call("rate", {"score": 5}))["error"]["code"] == "invalid_state"
    assert (await visitor.call("set_language", {"language": "ml"})) == {"ok": True, "language": "ml"}
    assert (await visitor.call("set_language", {"language": "malayalam"}))["error"]["code"] == "bad_request"
    assert (await visitor.call("visitor_info", {"name": "Rina"})) == {"ok": True}
    asked = await visitor.call("request_human", {})
    conv = await live.service.store.get(asked["conversation_id"])
    assert conv.language == "ml"  # the chosen language
    await visitor.call("leave", {})
    rated = await visitor.call("rate", {"score": 4, "resolved": False})
    assert rated == {"ok": True, "conversation_id": asked["conversation_id"]}
    history = await visitor.call("history", {"after_seq": 0})
    assert history["conversation_id"] == asked["conversation_id"]
    assert [m["seq"] for m in history["messages"]] == list(range(1, len(history["messages"]) + 1))
    assert (await visitor.call("history", {"after_seq": -1}))["error"]["code"] == "bad_request"
