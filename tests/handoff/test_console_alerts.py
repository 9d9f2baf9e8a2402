"""Never miss a chat, and agent status (issue 12), in Chromium against the real service (the fixtures
of test_console_browser.py). The console's tab is not in front (another tab is): a chat queued for
the agent, and a visitor writing, raise the count in the tab title and a browser notification
(the browser's Notification, with the permission granted; an init script records each one it
shows, passing it on to the real Notification); each alert can be turned off. Status away: no
alert for a new chat, and the visitor is told no one is available; idle for 5 minutes: away.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, List

import pytest
from playwright.async_api import Page, expect

from tests.support.console import log_in, pane_of, shot

BASE_TITLE = "Nimbus agent console"
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__shown = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__shown.push({ title, body: (options || {}).body || '' });
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


async def shown(page: Page) -> List[str]:
    return await page.evaluate("window.__shown.map((n) => n.body)")


async def elsewhere(page: Page) -> Page:
    """Another tab in front: the console is not being looked at. (Headless Chromium tells every
    page it has the focus unless focus emulation is turned off.)"""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    async with page.expect_popup() as popup:
        await page.evaluate("window.open('about:blank', '_blank')")
    other = await popup.value
    await other.bring_to_front()
    await page.wait_for_function("document.hidden || !document.hasFocus()")
    return other


@pytest.mark.asyncio
async def test_title_count_notifications_each_can_be_turned_off_and_status(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    await page.context.grant_permissions(["notifications"], origin=handoff_server.base_url)
    await page.add_init_script(RECORD_NOTIFICATIONS)
    await log_in(page, handoff_server, "asha")
    assert await page.evaluate("Notification.permission") == "granted"
    await expect(page).to_have_title(BASE_TITLE)
    other = await elsewhere(page)

    # A chat queued for me while I look elsewhere: the title counts it, a notification says it.
    visitor = await clients("visitor", {"language": "bn"})
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    await expect(page).to_have_title(f"(1) {BASE_TITLE}")
    await page.wait_for_function("window.__shown.length === 1")
    assert "New chat waiting (Bengali (bn))" in (await shown(page))[0]
    await expect(page.locator(".nc-alert-log")).to_contain_text("New chat waiting")

    # Back to the console: the count goes; claim it.
    await page.bring_to_front()
    await page.wait_for_function("!document.hidden")
    await page.evaluate("window.dispatchEvent(new Event('focus'))")
    await expect(page).to_have_title(BASE_TITLE)
    card = page.locator(f'.nc-queue-item[data-conversation-id="{cid}"]')
    await card.get_by_role("button", name="Claim").click()
    await expect(pane_of(page, cid)).to_be_visible()

    # A second chat; the visitor of the first writes while I look at the second: unread + notification.
    second_visitor = await clients("visitor", {"language": "en"})
    second = (await second_visitor.call("request_human", {}))["conversation_id"]
    await (
        page.locator(f'.nc-queue-item[data-conversation-id="{second}"]')
        .get_by_role("button", name="Claim")
        .click()
    )
    await expect(pane_of(page, second)).to_be_visible()
    await other.bring_to_front()
    await page.wait_for_function("document.hidden || !document.hasFocus()")
    before = len(await shown(page))
    await visitor.call("visitor_message", {"text": "আছেন?", "client_id": "a-1"})
    await expect(page).to_have_title(f"(1) {BASE_TITLE}")
    await page.wait_for_function(f"window.__shown.length === {before + 1}")
    assert (await shown(page))[-1].endswith("আছেন?")

    # Each alert can be turned off: no count in the title, no notification.
    await page.bring_to_front()
    await page.get_by_text("Alerts", exact=True).click()
    alerts = page.get_by_role("group", name="Alerts")
    await alerts.get_by_label("Count in the tab title").uncheck()
    await alerts.get_by_label("Desktop notifications").uncheck()
    await alerts.get_by_label("Sound").uncheck()
    await shot(page, "alert-settings")
    await expect(page).to_have_title(BASE_TITLE)
    await other.bring_to_front()
    await page.wait_for_function("document.hidden || !document.hasFocus()")
    count = len(await shown(page))
    await visitor.call("visitor_message", {"text": "হ্যালো?", "client_id": "a-2"})
    await expect(pane_of(page, cid).locator(".nc-msg--visitor").last).to_contain_text("হ্যালো?")
    await expect(page).to_have_title(BASE_TITLE)
    assert len(await shown(page)) == count
    stored = await page.evaluate("localStorage.getItem('nimbus-console-alerts:v1')")
    assert stored == '{"sound":false,"desktop":false,"title":false}', stored

    # Status away: the waiting visitor is told no one is available (asha was the only agent).
    await page.bring_to_front()
    await alerts.get_by_label("Count in the tab title").check()
    await page.get_by_label("Status").select_option("away")
    third_visitor = await clients("visitor", {"language": "en"})
    await third_visitor.call("request_human", {})
    status = await third_visitor.wait_state("queued")
    assert status["offline"] is True, status
    await expect(page.locator(".nc-queue-item")).to_have_count(1)
    await other.bring_to_front()
    await page.wait_for_timeout(500)
    # The two unread messages of the first chat count; the new chat does not (away: no alert).
    await expect(page).to_have_title(f"(2) {BASE_TITLE}")
    await expect(page.locator(".nc-alert-log")).not_to_contain_text("New chat waiting (English")
    await page.bring_to_front()
    await page.get_by_label("Status").select_option("online")
    await third_visitor.wait_for("status", lambda s: s["state"] == "queued" and s["offline"] is False)
    await shot(page, "status-and-alerts")


@pytest.mark.asyncio
async def test_idle_for_five_minutes_is_away_and_activity_brings_the_agent_back(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    await page.clock.install()
    await log_in(page, handoff_server, "asha")
    ravi = await clients("agent", "ravi")
    await expect(page.get_by_label("Status")).to_have_value("online")
    await page.clock.fast_forward("05:20")
    await expect(page.get_by_label("Status")).to_have_value("away")
    for _ in range(50):  # the page's jump in time may have made its socket reconnect meanwhile
        agents = {a["username"]: a["status"] for a in (await ravi.call("agents"))["agents"]}
        if agents["asha"] == "away":
            break
        await asyncio.sleep(0.2)
    assert agents["asha"] == "away", agents
    await page.mouse.move(200, 200)
    await page.keyboard.press("Shift")
    await expect(page.get_by_label("Status")).to_have_value("online")
