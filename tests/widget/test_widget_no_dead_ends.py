"""Issue 12: a widget with no dead ends, end to end in Debian's Chromium on the real stack (the
fixtures and helpers of test_widget_browser.py). Each test is one defect of the issue:

1. after a closed chat the visitor goes on: a new message opens a new conversation, the header,
   quick replies and the "talk to a person" link come back, no rating form, no raw error;
2. a reload shows the latest message, and a reply that lands below the visible part shows a hint;
6. the "talk to a person" link keeps the bot's context (intents tried, FAQ topic) for the agent;
7. offline visitors get no queue place; the Bengali status uses Bengali digits;
8. "End chat" asks first and sits above the message box on a phone; after erasure the browser no
   longer shows the transcript as a live chat.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from typing import Any, Dict

from playwright.async_api import Browser, expect

from tests.support.processes import SVC_VENV, base_env
from tests.widget.test_widget_browser import (
    PHONE,
    Visit,
    agent_for,
    answer_start,
    claim,
    example,
    shot,
)


async def at_end(visit: Visit) -> bool:
    return await visit.frame.evaluate(
        "() => { const l = document.querySelector('.nw-messages');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight <= 40 && l.scrollHeight > l.clientHeight; }"
    )


async def until_at_end(visit: Visit, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await at_end(visit):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the message list is not scrolled to its end")


async def test_offline_visitor_gets_no_queue_place_and_bengali_digits(
    stack: Dict[str, Any], browser: Browser
) -> None:
    """First in this module's stack: no agent is online yet."""
    visit = await Visit.start(browser, stack["url"], locale="bn-BD")
    chat = visit.chat
    agent = None
    try:
        await visit.open()
        await visit.say(example("request_human", "bn"))
        status = chat.locator(".nw-status")
        await expect(chat.locator("form.nw-offline")).to_be_visible()
        await expect(status).to_have_text("একজন মানুষের জন্য অপেক্ষা করছেন।")  # no "number 1 in the queue"
        await shot(visit.page, "desktop-bn-offline")
        agent = await agent_for(stack["url"], "asha")
        await expect(status).to_contain_text("সারিতে আপনার অবস্থান ১।")
        await expect(status).to_contain_text("আনুমানিক অপেক্ষা: ")
        assert not re.search(r"[0-9]", await status.inner_text()), await status.inner_text()
    finally:
        if agent is not None:
            await agent.disconnect()
        await visit.close()


async def test_after_a_closed_chat_the_visitor_goes_on_and_the_link_keeps_the_bots_context(
    stack: Dict[str, Any], browser: Browser
) -> None:
    base = stack["url"]
    visit = await Visit.start(browser, base)
    chat, page = visit.chat, visit.page
    agent = await agent_for(base, "ravi")
    try:
        await visit.open()
        question = example("refund_status", "en")
        await visit.say(question)
        await expect(visit.bot_bubbles().filter(has_text=answer_start("refund_status", "en"))).to_have_count(
            1
        )
        # The "talk to a person" link right after an answer: the agent sees what the bot knew.
        await chat.get_by_role("button", name="Talk to a person", exact=True).click()
        await expect(chat.locator(".nw-status")).to_contain_text("Waiting for a person")
        cid = (await visit.saved())["conversationId"]
        packet = await claim(agent, cid)
        escalation = packet["escalation"]
        assert escalation["faq_topic"] == "refund_status", escalation
        tried = escalation["intents_tried"]
        assert tried and tried[0]["text"] == question and tried[0]["intent"] == "refund_status", tried
        assert escalation["last_intent"] == "refund_status" and escalation["confidence"] > 0, escalation

        # The agent closes; the visitor rates; then writes again.
        status = chat.locator(".nw-status")
        assert (await agent.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]
        await expect(status).to_have_text("The conversation has ended.")
        rating = chat.locator("form.nw-rating")
        await rating.get_by_label("5 of 5").check(force=True)
        await rating.get_by_role("button", name="Send rating").click()
        await expect(chat.locator(".nw-extra .nw-note")).to_contain_text("Thank you for your feedback")
        await visit.say(example("order_status", "en"))
        await expect(status).to_have_text("You are chatting with our assistant.")
        await expect(visit.bot_bubbles().filter(has_text=answer_start("order_status", "en"))).to_have_count(1)
        await expect(chat.locator(".nw-quick .nw-chip").first).to_be_visible()  # yes / no again
        await expect(chat.get_by_role("button", name="Talk to a person", exact=True)).to_be_visible()
        await expect(rating).to_have_count(0)
        new_cid = (await visit.saved())["conversationId"]
        assert new_cid != cid
        await shot(page, "desktop-new-chat-after-closed")

        # Again, and this time the visitor does not rate: writing takes the form away, no error.
        await chat.get_by_role("button", name="Talk to a person", exact=True).click()
        await claim(agent, new_cid)
        assert (await agent.call("close", {"conversation_id": new_cid, "resolution": "resolved"}))["ok"]
        await expect(rating).to_be_visible()
        await visit.say(example("payment_methods", "en"))
        await expect(status).to_have_text("You are chatting with our assistant.")
        await expect(rating).to_have_count(0)
        await expect(chat.locator(".nw-connection")).to_be_hidden()  # no raw error
    finally:
        await agent.disconnect()
        await visit.close()


async def test_reload_shows_the_latest_reply_and_a_hint_for_replies_below(
    stack: Dict[str, Any], browser: Browser
) -> None:
    base = stack["url"]
    visit = await Visit.start(browser, base)
    chat, page = visit.chat, visit.page
    agent = await agent_for(base, "ravi")
    try:
        await visit.open()
        await visit.say(example("request_human", "en"))
        cid = (await visit.saved())["conversationId"]
        await claim(agent, cid)
        for n in range(1, 26):
            await agent.reply(cid, f"Step {n} of the refund check.")
        bubbles = chat.locator(".nw-msg--agent .nw-bubble")
        await expect(bubbles.last).to_have_text("Step 25 of the refund check.")
        await page.reload()
        await expect(bubbles.last).to_have_text("Step 25 of the refund check.")
        await until_at_end(visit)  # not the top of the transcript
        await expect(bubbles.last).to_be_in_viewport()
        # Reading further up: a new reply does not move the list; a hint says it came.
        await visit.frame.evaluate("document.querySelector('.nw-messages').scrollTop = 0")
        hint = chat.get_by_role("button", name="New message ↓")
        await expect(hint).to_be_hidden()
        await agent.reply(cid, "Your refund was sent today.")
        await expect(hint).to_be_visible()
        assert not await at_end(visit)
        await shot(page, "desktop-new-message-hint")
        await hint.click()
        await until_at_end(visit)
        await expect(hint).to_be_hidden()
        await expect(bubbles.last).to_be_in_viewport()
    finally:
        await agent.disconnect()
        await visit.close()


async def test_end_chat_asks_first_and_sits_above_the_message_box_on_a_phone(
    stack: Dict[str, Any], browser: Browser
) -> None:
    base = stack["url"]
    visit = await Visit.start(browser, base, viewport=PHONE)
    chat = visit.chat
    agent = await agent_for(base, "ravi")
    try:
        await visit.open()
        await visit.say(example("request_human", "en"))
        cid = (await visit.saved())["conversationId"]
        await claim(agent, cid)
        status = chat.locator(".nw-status")
        await expect(status).to_have_text("You are chatting with Ravi.")
        end = chat.get_by_role("button", name="End chat")
        end_box, input_box = await end.bounding_box(), await visit.input().bounding_box()
        assert end_box["y"] + end_box["height"] <= input_box["y"], (end_box, input_box)
        await end.click()
        confirm = chat.get_by_role("group", name="End this chat?")
        await expect(confirm).to_be_visible()
        await shot(visit.page, "phone-end-confirm")
        await confirm.get_by_role("button", name="Keep chatting").click()
        await expect(confirm).to_be_hidden()
        await expect(status).to_have_text("You are chatting with Ravi.")
        await end.click()
        await confirm.get_by_role("button", name="Yes, end it").click()
        await expect(status).to_have_text("The conversation has ended.")
        await expect(chat.locator("form.nw-rating")).to_be_visible()
    finally:
        await agent.disconnect()
        await visit.close()


async def test_after_erasure_the_widget_no_longer_shows_the_transcript(
    stack: Dict[str, Any], browser: Browser, tmp_path: Any
) -> None:
    base = stack["url"]
    visit = await Visit.start(browser, base)
    chat, page = visit.chat, visit.page
    try:
        await visit.open()
        question = example("delivery_time", "en")
        await visit.say(question)
        await expect(visit.bot_bubbles().filter(has_text=answer_start("delivery_time", "en"))).to_have_count(
            1
        )
        vid = (await visit.saved())["visitorId"]
        database = f"sqlite:///{tmp_path / 'log.db'}"
        env = base_env(RASA_URL=stack["rasa_url"])
        python = str(SVC_VENV / "bin" / "python")
        subprocess.run(
            [python, "-m", "handoff.analytics.db", "migrate", "--database-url", database],
            check=True,
            env=env,
            capture_output=True,
            timeout=120,
        )
        erased = subprocess.run(
            [
                python,
                "-m",
                "handoff.analytics.privacy",
                "delete",
                "--customer",
                vid,
                "--yes",
                "--database-url",
                database,
                "--redis-url",
                stack["redis_url"],
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert erased.returncode == 0, erased.stderr
        await page.reload()
        await expect(chat.locator(".nw-msg--greeting")).to_be_visible()
        await expect(chat.locator(".nw-msg--visitor")).to_have_count(0)
        await expect(visit.bot_bubbles()).to_have_count(0)
        assert (await visit.saved())["conversationId"] is None
        await expect(chat.locator(".nw-status")).to_have_text("You are chatting with our assistant.")
    finally:
        await visit.close()
