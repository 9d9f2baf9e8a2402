"""A visitor who left the queue comes back (issue 11): in Debian's Chromium on the real stack (the
fixtures and helpers of test_widget_browser.py). The sweeper gave their place up while they had no
socket; the widget says so and, with no agent online, "Leave a message" opens the offline form."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

import redis as redis_sync
from playwright.async_api import Browser, expect

from handoff import keyspace
from tests.widget.test_widget_browser import Visit, example, shot


async def abandoned(redis: Any, cid: str, timeout: float = 30.0) -> None:
    """The visitor's socket is gone: mark them unseen for long, until the sweeper abandons the chat."""
    vid = redis.hget(keyspace.conversation(cid), "visitor_id")
    for _ in range(int(timeout / 0.25)):
        redis.zadd(keyspace.VISITORS_SEEN, {vid: 1.0})  # their last socket long ago
        if redis.hget(keyspace.conversation(cid), "close_reason") == "abandoned":
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"{cid} was not abandoned: {redis.hgetall(keyspace.conversation(cid))}")


async def test_a_visitor_back_after_the_queue_gave_up_their_place_can_leave_a_message(
    stack: Dict[str, Any], browser: Browser
) -> None:
    base = stack["url"]
    redis = redis_sync.Redis.from_url(stack["redis_url"], decode_responses=True)
    visit = await Visit.start(browser, base)
    chat, page = visit.chat, visit.page
    try:
        await visit.open()
        await visit.say(example("request_human", "en"))
        await expect(chat.locator("form.nw-offline")).to_be_visible()  # queued, no agent online
        cid = (await visit.saved())["conversationId"]
        await page.goto("about:blank")  # the visitor leaves the site: no socket
        await abandoned(redis, cid)
        await page.goto(f"{base}/demo/")
        note = chat.locator(".nw-abandoned")
        await expect(note).to_contain_text("You left the queue")
        await expect(note).to_contain_text("No one can answer right now")
        await shot(page, "desktop-abandoned-return")
        await note.get_by_role("button", name="Leave a message").click()
        await expect(chat.locator("form.nw-offline")).to_be_visible()
        await expect(note).to_be_hidden()
        assert not visit.errors, visit.errors
    finally:
        await visit.context.close()
        redis.close()
