"""An admin joins a live chat from the supervisor view (issue 12), in a real Chromium against the real
service process (the fixtures of test_console_browser.py): the admin reads the transcript live and
writes into it alongside the assigned agent, who keeps the chat; the visitor sees the admin's name;
the agent sees the admin's message; the admin leaves. The visitor and the agent are real Socket.IO
clients.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.support.console import log_in, pane_of, shot
from tests.support.handoff_service import add_agent

ASKED = "My parcel NS2650391 says delivered but it is not here."
FROM_ASHA = "Let me check with the courier."
FROM_BOSS = "Hello, I am the team lead: I have asked the courier for the delivery photo."
THANKS = "Thank you both!"


@pytest.mark.asyncio
async def test_an_admin_joins_a_chat_writes_into_it_and_leaves(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
    redis_url: str,
) -> None:
    add_agent(redis_url, "boss", languages="en", role="admin", display_name="Boss")
    asha = await clients("agent", "asha")
    visitor = await clients("visitor", {"language": "en"})
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    assert (await asha.claim(cid))["ok"]
    await visitor.say(ASKED)
    assert (await asha.reply(cid, FROM_ASHA))["ok"]

    await log_in(page, handoff_server, "boss")
    await page.get_by_role("button", name="Supervisor").click()
    row = page.get_by_role("table", name="Live conversations").locator(f'tr[data-conversation-id="{cid}"]')
    await expect(row).to_contain_text("asha")
    await row.get_by_role("button", name="Join").click()

    # The transcript so far, live, in a pane the admin can write in.
    pane = pane_of(page, cid)
    await expect(pane).to_be_visible()
    transcript = pane.get_by_role("log", name="Transcript")
    await expect(transcript.locator(".nc-msg--visitor .nc-msg-text")).to_have_text([ASKED])
    await expect(transcript).to_contain_text(FROM_ASHA)
    # The chat stays asha's: only she transfers or hands it back (the server would say forbidden).
    await expect(pane.get_by_role("button", name="Transfer…")).to_be_hidden()
    await expect(pane.get_by_role("button", name="Hand back to bot")).to_be_hidden()
    await expect(pane.get_by_role("button", name="Close…")).to_be_visible()
    await pane.get_by_label("Reply to the visitor").fill(FROM_BOSS)
    await pane.get_by_role("button", name="Send").click()

    # The visitor sees it with the admin's name; the assigned agent sees it; the chat stays hers.
    seen = await visitor.wait_for("message", lambda m: m["text"] == FROM_BOSS)
    assert seen["sender"] == "agent" and seen["meta"]["agent"]["name"] == "Boss", seen
    mirrored = await asha.wait_for("message", lambda m: m["text"] == FROM_BOSS)
    assert mirrored["meta"]["agent"]["name"] == "Boss"
    assert not [u for u in asha.received("unassigned") if u["conversation_id"] == cid]
    assert (await asha.reply(cid, "Thanks, Boss."))["ok"]  # still assigned to asha

    # What the visitor and the agent write next reaches the admin live.
    await visitor.say(THANKS)
    await expect(transcript.locator(".nc-msg--visitor .nc-msg-text")).to_have_text([ASKED, THANKS])
    await expect(transcript).to_contain_text("Thanks, Boss.")
    await shot(page, "joined-chat")

    # A reload keeps the joined chat.
    await page.reload()
    await expect(page.locator(".nc-connection")).to_have_text("online")
    await expect(pane_of(page, cid).get_by_role("log", name="Transcript")).to_contain_text(FROM_BOSS)

    # Leave: the pane goes, the row offers Join again, the admin can no longer write.
    await page.get_by_role("button", name="Supervisor").click()
    await expect(row).to_contain_text("(+ boss)")
    await row.get_by_role("button", name="Leave").click()
    await expect(row.get_by_role("button", name="Join")).to_be_visible()
    await expect(pane).to_have_count(0)
    boss = await clients("agent", "boss")
    late = await boss.call("agent_message", {"conversation_id": cid, "text": "late", "client_id": "late-1"})
    assert late["error"]["code"] == "forbidden", late
