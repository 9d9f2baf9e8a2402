"""Internal notes (issue 12): agents only, in the transcript and so in the SQL log, never shown to the
visitor (live, in the session or in history). The real service in-process on a real Redis."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOTE = "Customer sounded upset; refund was double-charged, check with finance."


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_a_note_reaches_agents_only(live):
    asha = await live.agent("asha", "en")
    ravi = await live.agent("ravi", "en")
    visitor = await live.visitor(language="en")
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    assert (await asha.claim(cid))["ok"]
    assert (await asha.reply(cid, "Hello"))["ok"]
    forbidden = await ravi.call("add_note", {"conversation_id": cid, "text": "mine?", "client_id": "n-0"})
    assert forbidden["error"]["code"] == "forbidden"
    first = await asha.call("add_note", {"conversation_id": cid, "text": NOTE, "client_id": "n-1"})
    again = await asha.call("add_note", {"conversation_id": cid, "text": NOTE, "client_id": "n-1"})
    assert first["ok"] and again == first  # a retry is stored once
    note = await asha.wait_for("message", lambda m: m["sender"] == "note")
    assert note["text"] == NOTE and note["meta"]["agent"]["username"] == "asha"
    assert (await asha.reply(cid, "One moment"))["ok"]
    await visitor.wait_for("message", lambda m: m["text"] == "One moment")
    await asyncio.sleep(0.2)
    assert [m for m in visitor.received("message") if m["sender"] == "note"] == []
    history = await visitor.call("history", {"after_seq": 0})
    assert NOTE not in [m["text"] for m in history["messages"]]
    again_visitor = await live.visitor(visitor_token=visitor.received("session")[0]["visitor_token"])
    session = again_visitor.received("session")[0]
    assert NOTE not in [m["text"] for m in session["messages"]]
    packet = (await asha.call("open", {"conversation_id": cid}))["conversation"]
    assert [m["text"] for m in packet["messages"] if m["sender"] == "note"] == [NOTE]
    stored = await live.service.store.messages(cid)
    assert [m["sender"] for m in stored].count("note") == 1
