"""Offline messages as work items (issue 12): two agents changing one item at the same moment both
count. Assigning, marking done and replying read the item and write it back; run concurrently
(asyncio tasks on the real service's desk and the real Redis), no change may be lost.
The real service in-process (tests/support/live_service.py)."""

from __future__ import annotations

import asyncio

import pytest

from handoff import desk_payloads as d
from handoff.mailer import Mailer
from handoff.protocol import AgentMessage
from tests.handoff.test_email import inbox  # noqa: F401 (fixture: a local SMTP server)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def offline_item(live, n: int) -> str:
    visitor = await live.visitor(language="en")
    assert (await visitor.call("request_human", {}))["ok"]  # nobody online: the offline form
    ack = await visitor.call(
        "offline_message",
        {"text": f"please call me back ({n})", "contact": "rina@example.com", "client_id": f"o{n}"},
    )
    assert ack["ok"], ack
    return await live.service.store.latest_conversation_id(visitor.received("session")[0]["visitor_id"])


async def agents(live):
    for name in ("asha", "ravi"):
        await live.service.users.create(name, "password-123", "agent", "en", None, 3)
    return [await live.service.users.get(name) for name in ("asha", "ravi")]


async def test_assigning_and_marking_done_at_once_keeps_both(live):
    asha, ravi = await agents(live)
    desk = live.service.agents
    cids = [await offline_item(live, n) for n in range(5)]
    for cid in cids:
        assign = d.OfflineUpdate(cid, True, "asha", None)
        done = d.OfflineUpdate(cid, False, None, True)
        await asyncio.gather(desk.offline_update(asha, assign), desk.offline_update(ravi, done))
        item = (await live.service.store.get(cid)).offline
        assert item["assignee"] == "asha" and item["done_by"] == "ravi", item
        assert item["text"].startswith("please call me back")


async def test_two_replies_at_once_are_both_kept(live, inbox):  # noqa: F811
    asha, ravi = await agents(live)
    desk = live.service.agents
    original, desk.mailer = desk.mailer, Mailer(inbox.url)  # the real SMTP client, a local server
    try:
        cid = await offline_item(live, 9)
        await asyncio.gather(
            desk.offline_reply(asha, AgentMessage(cid, "From Asha", "r-a")),
            desk.offline_reply(ravi, AgentMessage(cid, "From Ravi", "r-r")),
            desk.offline_update(ravi, d.OfflineUpdate(cid, False, None, True)),
        )
    finally:
        desk.mailer = original
    item = (await live.service.store.get(cid)).offline
    assert sorted(r["text"] for r in item["replies"]) == ["From Asha", "From Ravi"], item
    assert item["done_by"] == "ravi" and item["assignee"] in ("asha", "ravi"), item
    assert len(await inbox.handler.wait(2)) == 2
