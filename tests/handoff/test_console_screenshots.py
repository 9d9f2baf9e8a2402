"""Screenshots of the console's views at desktop and phone width (issue 12), from one real session:
the queue, a chat, past-conversation search (on a seeded SQL log), the supervisor view and the
offline work items, each at 1400x900 and 390x780, in results/screenshots/console-views-<view>-
<width>.png. At phone width no view may be wider than the screen (a test that can fail, not only
pictures). The widget's desktop and phone screenshots are written by tests/widget/ (widget-desktop-*,
widget-phone-*). The real service process, real Redis, SQLite, Debian's Chromium.
"""

from __future__ import annotations

from typing import Any, Dict

import pytest
from playwright.async_api import Page, expect

from synthetic.seed import seed
from tests.support.console import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    connector,
    console_service,
    log_in,
    pane_of,
    shot,
)

WAITING = "আমার রিফান্ড এখনও আসেনি"
OFFLINE = "Please call me back about order NS2650391."
VIEWS = ("queue", "chat", "past", "supervisor", "offline")


async def not_wider_than(page: Page, viewport: Dict[str, int], view: str) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{view} is {width}px wide at {viewport['width']}px"


async def each_view(page: Page, cid: str, viewport: Dict[str, int], label: str) -> None:
    await page.set_viewport_size(viewport)
    # the queue (in the sidebar, beside whatever is open) and the chat
    await page.locator(f'.nc-tab[data-conversation-id="{cid}"]').click()
    await expect(pane_of(page, cid)).to_be_visible()
    await expect(page.locator(".nc-queue-item").first).to_be_visible()
    await not_wider_than(page, viewport, "the queue and a chat")
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, f"views-queue-{label}")
    await pane_of(page, cid).get_by_label("Reply to the visitor").scroll_into_view_if_needed()
    await shot(page, f"views-chat-{label}")
    # past conversations, by a seeded visitor's email
    await page.get_by_role("button", name="Past conversations").click()
    search = page.get_by_role("search", name="Search past conversations")
    await search.get_by_label("Visitor name, email or phone").fill("@example.com")
    await search.get_by_role("button", name="Search").click()
    found = page.get_by_role("list", name="Past conversations found").get_by_role("listitem")
    await expect(found.first).to_be_visible()
    await not_wider_than(page, viewport, "past conversations")
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, f"views-past-{label}")
    # the supervisor view
    await page.get_by_role("button", name="Supervisor").click()
    await expect(
        page.get_by_role("table", name="Live conversations").locator("tbody tr").first
    ).to_be_visible()
    await not_wider_than(page, viewport, "the supervisor view")
    table = page.get_by_role("table", name="Live conversations")  # its rows are redrawn every 4 s
    await table.scroll_into_view_if_needed()
    await table.evaluate("t => { t.scrollLeft = t.scrollWidth; }")  # on a phone it scrolls sideways
    await expect(table.get_by_role("button", name="Leave")).to_be_in_viewport()
    await shot(page, f"views-supervisor-{label}")
    # offline messages as work items
    await page.get_by_role("button", name="Offline messages").click()
    await expect(page.locator(".nc-offline-item").first).to_contain_text(OFFLINE)
    await not_wider_than(page, viewport, "offline messages")
    await shot(page, f"views-offline-{label}")


@pytest.mark.asyncio
async def test_screenshots_of_every_console_view_at_desktop_and_phone_width(
    redis_url: str, tmp_path: Any, page: Page
) -> None:
    database_url = f"sqlite:///{tmp_path / 'log.db'}"
    seed(database_url, days=5, per_day=6, seed_value=5)
    agents = (("boss", "bn,en", "admin"), ("asha", "bn,en"))
    with console_service("console-views", redis_url, tmp_path, agents, DATABASE_URL=database_url) as server:
        make = connector(server.base_url)
        try:
            early = await make("visitor", {"language": "en"})  # nobody online yet: the offline form
            assert (await early.call("request_human", {}))["ok"]
            await early.wait_for("status", lambda s: s["state"] == "queued" and s["offline"])
            sent = await early.call(
                "offline_message", {"text": OFFLINE, "contact": "rina@example.com", "client_id": "v-1"}
            )
            assert sent["ok"], sent
            asha = await make("agent", "asha")
            chatting = await make("visitor", {"language": "bn"})
            cid = (await chatting.call("request_human", {}))["conversation_id"]
            assert (await asha.claim(cid))["ok"]
            waiting = await make("visitor", {"language": "bn"})
            queued = (await waiting.call("request_human", {}))["conversation_id"]
            await waiting.say(WAITING)

            await log_in(page, server, "boss")
            await expect(page.locator(f'.nc-queue-item[data-conversation-id="{queued}"]')).to_be_visible()
            await page.get_by_role("button", name="Supervisor").click()
            row = page.get_by_role("table", name="Live conversations").locator(
                f'tr[data-conversation-id="{cid}"]'
            )
            await row.get_by_role("button", name="Join").click()
            await expect(pane_of(page, cid)).to_be_visible()
            for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
                await each_view(page, cid, viewport, label)
        finally:
            await make.close()
    for view in VIEWS:
        for label in ("desktop", "phone"):
            picture = SCREENSHOTS / f"console-views-{view}-{label}.png"
            assert picture.stat().st_size > 5000, picture
