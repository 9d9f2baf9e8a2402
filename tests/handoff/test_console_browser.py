"""The agent console in a real browser, against the real handoff service.

The shared console set-up (tests/support/console.py): Debian's Chromium driven by Playwright, a
real service process on a real Redis serving the built console at /console/, no Rasa and no
translator (these chats escalate with `request_human`, which works without the bot); visitors (and
a second agent) are python-socketio clients (tests/support/handoff_service.py).

Screenshots go to results/screenshots/console-*.png.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, List

import pytest
from playwright.async_api import Page, expect

from tests.support import console
from tests.support.console import SCREENSHOTS, log_in, pane_of, shot  # noqa: F401 (imported from here too)

WAITING = "হ্যালো, কেউ আছেন?"
BENGALI = "আমার অর্ডার NS2650391 এখনও আসেনি, কোথায় আছে?"
HOSTILE = "<img src=x onerror=alert(1)>"
REPLY = "Hello! I am checking order NS2650391 for you now."
OFFLINE_TEXT = "আমার রিফান্ড এখনও আসেনি। অনুগ্রহ করে আমাকে ইমেল করুন।"
CONTACT = "visitor@example.com"
CLOSE_NOTE = "Order located; courier delivers tomorrow."


# --- helpers --------------------------------------------------------------------------------


async def fonts_for(page: Page, selector: str) -> List[str]:
    """The platform fonts Chromium used to draw the text of `selector` (DevTools CSS domain)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument", {"depth": -1})
    found = await cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector})
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": found["nodeId"]})
    await cdp.detach()
    return [font["familyName"] for font in fonts["fonts"]]


def from_agent(text: str) -> Callable[[Any], bool]:
    return lambda message: message["sender"] == "agent" and message["text"] == text


async def escalate(clients: Callable[..., Awaitable[Any]], **auth: Any) -> tuple:
    """A visitor who asked for a person (no bot involved): (visitor, conversation id)."""
    visitor = await clients("visitor", auth)
    ack = await visitor.call("request_human", {})
    assert ack["ok"] and ack["state"] == "queued", ack
    return visitor, ack["conversation_id"]


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_agent_console_handles_a_bengali_chat_end_to_end(
    handoff_server: SimpleNamespace, clients: Callable[..., Awaitable[Any]], page: Page
) -> None:
    # While no agent is online, a first visitor leaves an offline message.
    early, _ = await escalate(clients, language="bn")
    status = await early.wait_state("queued")
    assert status["offline"] is True, status
    ack = await early.call(
        "offline_message", {"text": OFFLINE_TEXT, "contact": CONTACT, "client_id": "t-off-1"}
    )
    assert ack["ok"], ack
    await early.wait_state("closed")

    # A Bengali visitor asks for a person.
    visitor, cid = await escalate(clients, language="bn", locale="bn-BD", page="https://shop.example/orders")
    session = visitor.received("session")[0]

    # Log in (the login form, then the token in sessionStorage).
    await page.goto(f"{handoff_server.base_url}/console/")
    await page.get_by_label("Username").fill(handoff_server.agent_username)
    await page.get_by_label("Password").fill(handoff_server.agent_password)
    await shot(page, "login")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator(".nc-connection")).to_have_text("online")
    assert await page.evaluate("sessionStorage.getItem('nc-agent-token')"), "token kept in sessionStorage"

    # The queued chat: language, reason, live wait, and what the visitor writes
    # while waiting (the queue's preview, in Bengali).
    entry = page.locator(f'.nc-queue-item[data-conversation-id="{cid}"]')
    await expect(entry).to_be_visible()
    await expect(entry.locator(".nc-badge")).to_have_text("bn")
    await expect(entry.locator(".nc-reason")).to_have_text("Asked for a person")
    await expect(entry.locator(".nc-wait")).to_have_text(re.compile(r"^waiting \d+ (s|min)"))
    await visitor.say(WAITING)
    await expect(entry.locator(".nc-preview")).to_have_text(WAITING)
    await expect(entry.locator(".nc-preview")).to_have_attribute("lang", "bn")
    # The whole history before claiming (offered to this agent: she speaks Bengali).
    await entry.get_by_role("button", name="History").click()
    history = entry.get_by_role("list", name="History")
    await expect(history).to_contain_text(WAITING)
    await expect(entry.get_by_role("button", name="History")).to_have_attribute("aria-expanded", "true")
    await shot(page, "queue")

    # Claim it: the handoff packet and the transcript so far.
    await entry.get_by_role("button", name="Claim").click()
    pane = pane_of(page, cid)
    await expect(pane).to_be_visible()
    await expect(entry).to_have_count(0)
    await expect(pane.locator(".nc-state")).to_have_text("assigned")
    packet = pane.get_by_role("complementary", name="Handoff packet")
    await expect(packet).to_contain_text("Asked for a person")
    await expect(packet).to_contain_text(session["visitor_id"])
    await expect(packet).to_contain_text("https://shop.example/orders")
    await expect(packet).to_contain_text("bn-BD")
    transcript = pane.get_by_role("log", name="Transcript")
    await expect(transcript.locator(".nc-msg--system").first).to_be_visible()
    await expect(transcript.locator(".nc-msg--visitor .nc-msg-text")).to_have_text([WAITING])
    await visitor.wait_state("assigned")

    # The visitor types, then writes in Bengali: the console shows both.
    await visitor.emit("typing", {"typing": True})
    await expect(pane.locator(".nc-typing")).to_have_text("The visitor is typing…")
    await visitor.say(BENGALI)
    bengali = transcript.locator(".nc-msg--visitor .nc-msg-text", has_text=BENGALI)
    await expect(bengali).to_have_count(1)
    await expect(bengali).to_have_attribute("lang", "bn")
    await expect(pane.locator(".nc-typing")).to_have_text("")
    await pane.get_by_label("Show originals").check()
    await expect(transcript.get_by_text(BENGALI, exact=True)).to_be_visible()
    fonts = await fonts_for(page, f'[data-conversation-id="{cid}"] .nc-msg--visitor .nc-msg-text[lang="bn"]')
    assert any("Bengali" in family for family in fonts), f"Bengali drawn with {fonts}: run `make browser`"
    await shot(page, "bengali")

    # The translate toggle goes through `set_translation` and back (the agent
    # reads Bengali, so it starts off; with no translator the note says why).
    translate = pane.get_by_label("Translate")
    await expect(translate).not_to_be_checked()
    await translate.check()
    await expect(translate).to_be_checked()
    await expect(translate).to_be_enabled()
    await expect(pane.locator(".nc-pane-tools .nc-note")).not_to_have_text("")
    await translate.uncheck()
    await expect(translate).to_be_enabled()
    await expect(translate).not_to_be_checked()

    # Messages are text, never HTML.
    await visitor.say(HOSTILE)
    await expect(transcript.get_by_text(HOSTILE, exact=True)).to_be_visible()
    assert await page.locator("img").count() == 0

    # The agent types (the visitor sees it) and replies with Enter.
    composer = pane.get_by_label("Reply to the visitor")
    await composer.press_sequentially("Hello!", delay=20)
    await visitor.wait_for("typing", lambda t: t["sender"] == "agent" and t["typing"] is True)
    await composer.fill(REPLY)
    await composer.press("Enter")
    got = await visitor.wait_for("message", from_agent(REPLY))
    assert got["conversation_id"] == cid and got["meta"]["agent"]["name"] == "Asha"
    await expect(composer).to_have_value("")
    mine = transcript.locator(".nc-msg--agent .nc-msg-text", has_text=REPLY)
    await expect(mine).to_have_count(1)  # the ack and the server's echo are one message
    await expect(transcript.locator(".nc-msg--pending")).to_have_count(0)

    # A canned reply, in the conversation's language.
    await pane.get_by_role("button", name="Canned replies").click()
    canned = pane.get_by_role("list", name="Canned replies")
    await expect(canned.locator(".nc-canned-item").first).to_be_visible()
    await pane.get_by_label("Search canned replies").fill("greeting")
    await shot(page, "canned")
    await canned.locator(".nc-canned-item").first.click()
    canned_text = await composer.input_value()
    assert any("\u0980" <= ch <= "\u09ff" for ch in canned_text), f"not Bengali: {canned_text!r}"
    await pane.get_by_role("button", name="Send").click()
    await visitor.wait_for("message", from_agent(canned_text))
    await expect(transcript.locator(".nc-msg--agent .nc-msg-text", has_text=canned_text)).to_have_count(1)

    # The transcript is in seq order with no duplicates (merge and dedupe).
    seqs = await transcript.locator(".nc-msg[data-seq]").evaluate_all(
        "els => els.map(e => Number(e.dataset.seq))"
    )
    assert seqs == sorted(set(seqs)), seqs
    await shot(page, "conversation")

    # Close as resolved with a note; the visitor is told.
    await pane.get_by_role("button", name="Close…").click()
    close_form = pane.get_by_role("form", name="Close the conversation")
    await close_form.get_by_label("Resolved", exact=True).check()
    await close_form.get_by_label("Note (optional)").fill(CLOSE_NOTE)
    await shot(page, "close-form")
    await close_form.get_by_role("button", name="Close conversation").click()
    await visitor.wait_state("closed")
    await expect(pane.locator(".nc-ended")).to_contain_text("Closed (Resolved)")
    await expect(pane.locator(".nc-state")).to_have_text("closed")
    await expect(pane.get_by_label("Reply to the visitor")).to_be_disabled()
    await shot(page, "closed")

    # The offline message left at the start.
    await page.get_by_role("button", name="Offline messages").click()
    await expect(page.get_by_role("heading", name="Offline messages")).to_be_visible()
    items = page.get_by_role("list", name="Offline messages, newest first").get_by_role("listitem")
    await expect(items).to_have_count(1)
    await expect(items.first.locator(".nc-msg-text")).to_have_text(OFFLINE_TEXT)
    await expect(items.first).to_contain_text(CONTACT)
    await shot(page, "offline")

    # Logging out forgets the token and shows the form again.
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('nc-agent-token')") is None


@pytest.mark.asyncio
async def test_agent_console_two_chats_at_once_transfer_and_hand_back(
    handoff_server: SimpleNamespace, clients: Callable[..., Awaitable[Any]], page: Page
) -> None:
    ravi = await clients("agent", "ravi")  # online, so there is someone to transfer to
    first, first_cid = await escalate(clients, language="bn")
    second, second_cid = await escalate(clients, language="en")
    await first.say("প্রথম চ্যাট")
    await second.say("second chat")

    await log_in(page, handoff_server, "asha")
    for cid in (first_cid, second_cid):
        await (
            page.locator(f'.nc-queue-item[data-conversation-id="{cid}"]')
            .get_by_role("button", name="Claim")
            .click()
        )
        await expect(pane_of(page, cid)).to_be_visible()  # the chat just claimed is shown
    tabs = page.get_by_role("tablist", name="My conversations").get_by_role("tab")
    await expect(tabs).to_have_count(2)
    first_tab = page.locator(f'.nc-tab[data-conversation-id="{first_cid}"]')
    second_tab = page.locator(f'.nc-tab[data-conversation-id="{second_cid}"]')
    await expect(second_tab).to_have_attribute("aria-selected", "true")

    # A draft in the second chat survives switching; a message to the hidden
    # chat marks its tab unread.
    await pane_of(page, second_cid).get_by_label("Reply to the visitor").fill("draft for the second")
    await first_tab.click()
    await expect(pane_of(page, first_cid)).to_be_visible()
    await expect(pane_of(page, second_cid)).to_be_hidden()
    await second.say("are you there?")
    await expect(second_tab.locator(".nc-unread")).to_have_text("1")
    await shot(page, "two-chats")
    await second_tab.click()
    await expect(second_tab.locator(".nc-unread")).to_have_count(0)
    composer = pane_of(page, second_cid).get_by_label("Reply to the visitor")
    await expect(composer).to_have_value("draft for the second")
    await composer.press("Enter")
    await second.wait_for("message", from_agent("draft for the second"))
    assert not [m for m in first.messages("agent") if m["text"] == "draft for the second"]

    # Transfer the second chat to Ravi, the only other agent online.
    pane = pane_of(page, second_cid)
    await pane.get_by_role("button", name="Transfer…").click()
    form = pane.get_by_role("form", name="Transfer the conversation")
    target = form.get_by_label("Transfer to")
    await expect(target.locator("option")).to_have_count(1)
    await expect(target.locator("option")).to_contain_text("Ravi")
    await shot(page, "transfer")
    await form.get_by_role("button", name="Transfer", exact=True).click()
    packet = await ravi.wait_for("conversation", lambda p: p["conversation_id"] == second_cid)
    assert packet["state"] == "assigned"
    await second.wait_for("status", lambda s: s["state"] == "assigned" and s["agent"]["name"] == "Ravi")
    await expect(pane.locator(".nc-ended")).to_contain_text("Transferred to another agent")
    await expect(pane.get_by_label("Reply to the visitor")).to_be_disabled()

    # Hand the first chat back to the bot.
    await first_tab.click()
    pane = pane_of(page, first_cid)
    await pane.get_by_role("button", name="Hand back to bot").click()
    await (
        pane.get_by_role("form", name="Hand back to the bot").get_by_role("button", name="Hand back").click()
    )
    await first.wait_state("bot")
    await expect(pane.locator(".nc-ended")).to_contain_text("Handed back to the bot")
    await shot(page, "handed-back")

    # Dismissed tabs go away.
    await pane.get_by_role("button", name="Dismiss").click()
    await expect(tabs).to_have_count(1)
    await pane_of(page, second_cid).get_by_role("button", name="Dismiss").click()
    await expect(tabs).to_have_count(0)
    await expect(page.get_by_text("Claim a chat from the queue to start.")).to_be_visible()


# The fixtures are in tests/support/console.py (the conftests import them); modules that imported
# them from here still find them.
chromium, clients, handoff_server, page = (
    console.chromium,
    console.clients,
    console.handoff_server,
    console.page,
)
