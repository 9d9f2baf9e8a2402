"""Issue 12's console defects in a real browser against the real service (the fixtures of
test_console_browser.py: one service process, no Rasa, no translator, so a visitor's message gets
the "assistant unavailable" note with its "Talk to a person" button, and tapping it escalates):

3. the queue's History follows the waiting chat (new messages; a hand-back and a new escalation);
4. the pre-chat name and email reach the agent (title, tab, packet);
5. agents read what the visitor tapped ("একজন মানুষের সাথে কথা বলুন"), not "/request_human";
8. a transferred chat is marked "transferred", not "ended"; transferring to an agent without the
   visitor's language warns first; the console is usable at phone width.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.support.console import log_in, pane_of, shot

TAPPED = "একজন মানুষের সাথে কথা বলুন"  # the button's title in Bengali (data/handoff/messages.yml)
FIRST = "আমার অর্ডার NS2650391 কোথায়?"
LATER = "অনুগ্রহ করে তাড়াতাড়ি করুন"
AGAIN = "আবার একজন মানুষ চাই"
HANDBACK = "আপনি আবার সহকারীর সাথে আছেন"  # the hand-back note (data/handoff/messages.yml)
PHONE = {"width": 390, "height": 780}


async def tapped_escalation(visitor: Any) -> str:
    """The visitor writes; the assistant is down and offers the button; the visitor taps it."""
    ack = await visitor.call("visitor_message", {"text": FIRST, "client_id": "d-1"})
    note = await visitor.wait_message("system", kind="bot_unavailable")
    button = note["meta"]["buttons"][0]
    assert button["title"] == TAPPED, button
    assert (await visitor.call("visitor_message", {"text": button["payload"], "client_id": "d-2"}))["ok"]
    await visitor.wait_state("queued")
    return ack["conversation_id"]


async def claimed(page: Page, server: SimpleNamespace, cid: str) -> Any:
    await log_in(page, server, "asha")
    await (
        page.locator(f'.nc-queue-item[data-conversation-id="{cid}"]')
        .get_by_role("button", name="Claim")
        .click()
    )
    pane = pane_of(page, cid)
    await expect(pane).to_be_visible()
    return pane


@pytest.mark.asyncio
async def test_agents_read_what_the_visitor_tapped(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await clients("visitor", {"language": "bn"})
    cid = await tapped_escalation(visitor)
    await log_in(page, handoff_server, "asha")
    card = page.locator(f'.nc-queue-item[data-conversation-id="{cid}"]')
    await expect(card.locator(".nc-preview")).to_have_text(TAPPED)  # not "/request_human"
    await card.get_by_role("button", name="History").click()
    history = card.get_by_role("list", name="History")
    await expect(history).to_contain_text(TAPPED)
    await expect(history).not_to_contain_text("/request_human")
    await card.get_by_role("button", name="Claim").click()
    pane = pane_of(page, cid)
    await expect(pane.locator(".nc-msg--visitor .nc-msg-text")).to_have_text([FIRST, TAPPED])
    tried = pane.locator(".nc-packet table")
    await expect(tried).to_contain_text(TAPPED)
    await expect(tried).not_to_contain_text("/request_human")
    await shot(page, "tapped-buttons")


@pytest.mark.asyncio
async def test_the_prechat_name_and_email_reach_the_agent(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    info = {"name": "Rahim Uddin", "email": "rahim@example.com"}
    visitor = await clients("visitor", {"language": "bn", "visitor_info": info})
    cid = await tapped_escalation(visitor)
    pane = await claimed(page, handoff_server, cid)
    await expect(pane.locator(".nc-pane-title")).to_have_text("Rahim Uddin · Bengali (bn)")
    await expect(page.locator(f'.nc-tab[data-conversation-id="{cid}"]')).to_contain_text("Rahim Uddin")
    await expect(pane.locator(".nc-packet")).to_contain_text("rahim@example.com")
    await shot(page, "prechat-name")


@pytest.mark.asyncio
async def test_the_queue_history_follows_the_waiting_chat(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await clients("visitor", {"language": "bn"})
    cid = await tapped_escalation(visitor)
    await log_in(page, handoff_server, "asha")
    other_tab = await clients("agent", "asha")  # the same agent in another tab, over the socket
    card = page.locator(f'.nc-queue-item[data-conversation-id="{cid}"]')
    await card.get_by_role("button", name="History").click()
    history = card.get_by_role("list", name="History")
    await expect(history).to_contain_text(FIRST)
    # A new message while the history is open shows up there (it was cached at first open).
    await visitor.call("visitor_message", {"text": LATER, "client_id": "d-3"})
    await expect(card.locator(".nc-preview")).to_have_text(LATER)
    await expect(history).to_contain_text(LATER)
    # Claimed (in the other tab), handed back, escalated again: the History open for it is the new one.
    assert (await other_tab.claim(cid))["ok"]
    await expect(card).to_have_count(0)
    assert (await other_tab.call("handback", {"conversation_id": cid}))["ok"]
    await visitor.wait_state("bot")
    assert (await visitor.call("request_human", {}))["state"] == "queued"
    await expect(card).to_be_visible()
    await expect(history).to_contain_text(HANDBACK)
    await visitor.call("visitor_message", {"text": AGAIN, "client_id": "d-4"})
    await expect(history).to_contain_text(AGAIN)


@pytest.mark.asyncio
async def test_transfer_warns_about_the_language_and_the_tab_says_transferred(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    ravi = await clients("agent", "ravi")  # English only
    visitor = await clients("visitor", {"language": "bn"})
    cid = await tapped_escalation(visitor)
    pane = await claimed(page, handoff_server, cid)
    await pane.get_by_role("button", name="Transfer…").click()
    form = pane.get_by_role("form", name="Transfer the conversation")
    await expect(form.get_by_role("status")).to_contain_text("Ravi does not speak Bengali (bn)")
    await shot(page, "transfer-language-warning")
    await form.get_by_role("button", name="Transfer", exact=True).click()
    await ravi.wait_for("conversation", lambda p: p["conversation_id"] == cid)
    mark = page.locator(f'.nc-tab[data-conversation-id="{cid}"] .nc-ended-mark')
    await expect(mark).to_have_text("transferred")


@pytest.mark.asyncio
async def test_the_console_is_usable_at_phone_width(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await clients("visitor", {"language": "bn"})
    cid = await tapped_escalation(visitor)
    for n in range(12):
        await visitor.call("visitor_message", {"text": f"{LATER} {n}", "client_id": f"p-{n}"})
    await page.set_viewport_size(PHONE)
    pane = await claimed(page, handoff_server, cid)
    reply = pane.get_by_label("Reply to the visitor")
    await expect(reply).to_be_enabled()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    transcript = await pane.locator(".nc-transcript").bounding_box()
    assert transcript["height"] >= PHONE["height"] * 0.4, transcript  # readable, not squeezed
    packet, composer = await pane.locator(".nc-packet").bounding_box(), await reply.bounding_box()
    assert composer["y"] < packet["y"], (composer, packet)  # the reply box comes before the packet
    await reply.scroll_into_view_if_needed()
    await expect(reply).to_be_in_viewport()
    await reply.fill("নমস্কার")
    await reply.press("Enter")
    await visitor.wait_for("message", lambda m: m["sender"] == "agent" and m["text"] == "নমস্কার")
    await shot(page, "phone-width")


@pytest.mark.asyncio
async def test_the_visitors_rating_reaches_the_agent_who_closed_the_chat(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await clients("visitor", {"language": "en"})
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    pane = await claimed(page, handoff_server, cid)
    await pane.get_by_role("button", name="Close…").click()
    close_form = pane.get_by_role("form", name="Close the conversation")
    await close_form.get_by_label("Resolved", exact=True).check()
    await close_form.get_by_role("button", name="Close conversation").click()
    await visitor.wait_state("closed")
    rated = await visitor.call("rate", {"score": 4, "comment": "Quick, thanks", "resolved": True})
    assert rated["ok"], rated
    packet = pane.locator(".nc-packet")
    await expect(packet).to_contain_text("4 of 5")
    await expect(packet).to_contain_text("Quick, thanks")
    await shot(page, "rating-shown")


@pytest.mark.asyncio
async def test_an_internal_note_stays_with_the_agents(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await clients("visitor", {"language": "en"})
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    pane = await claimed(page, handoff_server, cid)
    await pane.get_by_label("Internal note (agents only)").check()
    composer = pane.get_by_label("Reply to the visitor")
    await composer.fill("Double charge: ask finance before refunding.")
    await pane.get_by_role("button", name="Add note").click()
    note = pane.locator(".nc-msg--note")
    await expect(note).to_contain_text("Double charge: ask finance before refunding.")
    await expect(note).to_contain_text("Note by Asha (agents only)")
    await pane.get_by_label("Internal note (agents only)").uncheck()
    await composer.fill("Hello, I am looking into it.")
    await composer.press("Enter")
    await visitor.wait_for("message", lambda m: m["text"] == "Hello, I am looking into it.")
    assert [m for m in visitor.received("message") if "Double charge" in m["text"]] == []
    await shot(page, "internal-note")


@pytest.mark.asyncio
async def test_offline_messages_are_work_items(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await clients("visitor", {"language": "bn"})
    await visitor.call("request_human", {})
    await visitor.wait_for("status", lambda s: s["state"] == "queued" and s["offline"])  # no one online
    sent = await visitor.call(
        "offline_message", {"text": FIRST, "contact": "rina@example.com", "client_id": "o-1"}
    )
    assert sent["ok"], sent
    await log_in(page, handoff_server, "asha")
    await page.get_by_role("button", name="Offline messages").click()
    section = page.locator(".nc-offline")
    await expect(section.get_by_role("status")).to_have_text("1 open.")
    item = section.locator(".nc-offline-item")
    await expect(item).to_contain_text("unassigned")
    await item.get_by_role("button", name="Assign to me").click()
    await expect(item).to_contain_text("assigned to asha")
    await shot(page, "offline-work-item")
    await item.get_by_role("button", name="Mark done").click()
    await expect(section.get_by_role("status")).to_have_text("0 open, 1 done.")
    await expect(item).to_have_count(0)
    await section.get_by_label("Show done").check()
    await expect(item).to_contain_text("done by asha")
    await item.get_by_role("button", name="Open again").click()
    await expect(section.get_by_role("status")).to_have_text("1 open.")
    other = await clients("agent", "ravi")
    items = (await other.call("offline_messages"))["items"]
    assert items[0]["offline"]["assignee"] == "asha" and items[0]["offline"]["done_at"] is None
    bad = await other.call("offline_update", {"conversation_id": items[0]["conversation_id"], "done": "yes"})
    assert bad["error"]["code"] == "bad_request"


@pytest.mark.asyncio
async def test_keyboard_shortcuts_and_the_slash_canned_reply(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    first_visitor = await clients("visitor", {"language": "en"})
    first = (await first_visitor.call("request_human", {}))["conversation_id"]
    second_visitor = await clients("visitor", {"language": "en"})
    second = (await second_visitor.call("request_human", {}))["conversation_id"]
    await log_in(page, handoff_server, "asha")
    await expect(page.locator(".nc-queue-item")).to_have_count(2)
    await page.keyboard.press("Alt+c")  # claim the longest-waiting chat
    await expect(page.locator(".nc-tab")).to_have_count(1)
    await page.keyboard.press("Alt+c")
    await expect(page.locator(".nc-tab")).to_have_count(2)
    await expect(page.locator(".nc-queue-item")).to_have_count(0)
    active = await page.locator('.nc-tab[aria-selected="true"]').get_attribute("data-conversation-id")
    other, other_visitor = (first, first_visitor) if active == second else (second, second_visitor)
    await other_visitor.call("visitor_message", {"text": "still there?", "client_id": "k-1"})
    await expect(page.locator(f'.nc-tab[data-conversation-id="{other}"] .nc-unread')).to_have_text("1")
    await page.keyboard.press("Alt+n")  # the chat with the unread message
    await expect(pane_of(page, other)).to_be_visible()
    first, first_visitor = other, other_visitor
    composer = pane_of(page, first).get_by_label("Reply to the visitor")
    await expect(composer).to_be_focused()

    # "/" + a word: the matching canned reply; Enter puts it in the reply box (not sent yet).
    await composer.type("/moment")
    canned = pane_of(page, first).get_by_role("list", name="Canned replies")
    await expect(canned).to_be_visible()
    await expect(canned.get_by_role("button")).to_have_count(1)
    await composer.press("Enter")
    await expect(composer).to_have_value("Thank you. Please give me a moment while I check this for you.")
    await expect(canned).to_be_hidden()
    await composer.press("Enter")
    await first_visitor.wait_for(
        "message", lambda m: m["text"].startswith("Thank you. Please give me a moment")
    )

    await page.keyboard.press("Alt+x")  # close the chat I am in
    await expect(pane_of(page, first).get_by_role("form", name="Close the conversation")).to_be_visible()
    await shot(page, "shortcuts")


@pytest.mark.asyncio
async def test_the_supervisor_sees_live_chats_and_agents_and_takes_one_over(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
    redis_url: str,
) -> None:
    from tests.support.handoff_service import add_agent

    add_agent(redis_url, "boss", languages="en", role="admin", display_name="Boss")
    asha = await clients("agent", "asha")
    visitor = await clients("visitor", {"language": "en"})
    assigned = (await visitor.call("request_human", {}))["conversation_id"]
    assert (await asha.claim(assigned))["ok"]
    waiting_visitor = await clients("visitor", {"language": "bn"})
    queued = (await waiting_visitor.call("request_human", {}))["conversation_id"]

    await log_in(page, handoff_server, "boss")
    await page.get_by_role("button", name="Supervisor").click()
    chats = page.get_by_role("table", name="Live conversations")
    row = chats.locator(f'tr[data-conversation-id="{assigned}"]')
    await expect(row).to_contain_text("assigned")
    await expect(row).to_contain_text("asha")
    await expect(chats.locator(f'tr[data-conversation-id="{queued}"]')).to_contain_text("queued")
    await expect(page.get_by_role("table", name="Agents").locator('tr[data-agent="asha"]')).to_contain_text(
        "1/3"
    )
    await shot(page, "supervisor")
    await row.get_by_role("button", name="Take over").click()
    await expect(pane_of(page, assigned)).to_be_visible()
    gone = await asha.wait_for("unassigned", lambda u: u["conversation_id"] == assigned)
    assert gone["reason"] == "taken_over"
    await visitor.wait_for("status", lambda s: s["state"] == "assigned" and s["agent"]["name"] == "Boss")


@pytest.mark.asyncio
async def test_an_admin_manages_canned_replies_and_agents_get_them_at_once(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
    redis_url: str,
) -> None:
    from tests.support.handoff_service import add_agent

    add_agent(redis_url, "boss", languages="en", role="admin", display_name="Boss")
    asha = await clients("agent", "asha")
    assert (await asha.call("canned_save", {"id": "x", "lang": "en", "title": "t", "text": "t"}))["error"][
        "code"
    ] == "forbidden"
    await log_in(page, handoff_server, "boss")
    await page.get_by_role("button", name="Canned replies").click()
    form = page.get_by_role("form", name="Add or change a canned reply")
    await form.get_by_label("Id").fill("refund_sent")
    await form.get_by_label("Language").fill("en")
    await form.get_by_label("Title").fill("Refund sent")
    await form.get_by_label("Text").fill("Your refund was sent today; it reaches your bank in 3-5 days.")
    await form.get_by_role("button", name="Save reply").click()
    table = page.get_by_role("table", name="Canned replies in use")
    await expect(table.locator('tr[data-canned="refund_sent|en"]')).to_contain_text("Refund sent")
    await table.locator('tr[data-canned="greeting|bn"]').get_by_role("button", name="Delete").click()
    await expect(table.locator('tr[data-canned="greeting|bn"]')).to_have_count(0)
    await shot(page, "canned-admin")
    replies = (await asha.call("canned_replies", {"language": "en"}))["replies"]
    assert "Your refund was sent today; it reaches your bank in 3-5 days." in [r["text"] for r in replies]
    assert "greeting" not in [
        r["id"] for r in (await asha.call("canned_replies", {"language": "bn"}))["replies"]
    ]
    bad = await asha.call("canned_save", {"id": "Bad Id", "lang": "en", "title": "t", "text": "t"})
    assert bad["error"]["code"] == "bad_request"
