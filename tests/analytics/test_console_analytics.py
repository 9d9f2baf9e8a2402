"""The console's analytics page in a real headless Chromium, on the real service and SQL log.

The scripted conversations of test_metrics.py (moved so that day 0 is 35 days ago, so every ended
one is eligible now) go through real Redis and the real writer into SQLite; the service, started
with the same DATABASE_URL, serves the built console and the admin API. An agent without the admin
role sees no analytics button; an admin sees the figures, which match the hand-computed values:

- eligible 10 (all ended: every conversation but H), FCR 4/10 (A, A2, E, F) = 40.0%;
- containment 3/10 = 30.0% (A, E, F); escalated 7/11 = 63.6%;
- FCR per language: en 3/5 = 60.0%, bn 1/4 = 25.0%, ml 0/1 = 0.0%;
- most escalations: (none) 3 (C, G, H).

Screenshot: results/screenshots/console-analytics.png.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import redis as redis_sync
from playwright.async_api import expect

from handoff.analytics.metrics import DAY, epoch
from handoff.analytics.writer import STREAM, Writer
from tests.analytics.test_metrics import scripts
from tests.support.console import console_service, log_in, shot


async def test_admin_sees_fcr_and_the_other_measures_as_charts(redis_url, tmp_path, page):
    today = datetime.now(UTC).date()
    start = today - timedelta(days=35)
    database_url = f"sqlite:///{tmp_path / 'log.db'}"
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    for script in scripts(epoch(start)):
        for entry in script.entries:
            client.xadd(STREAM, entry)
    writer = Writer(client, database_url, consumer="console", block_ms=50)
    try:
        writer.run(idle_exit=True)
    finally:
        writer.close()
        client.close()
    assert time.time() - (epoch(start) + 26 * DAY) > 8 * DAY  # erin (day 26) is eligible by now

    agents = (("asha", "bn,en"), ("boss", "en", "admin"))
    with console_service(
        "console-analytics", redis_url, tmp_path, agents, DATABASE_URL=database_url
    ) as server:
        base = server.base_url
        await log_in(page, base, "asha")
        await expect(page.get_by_role("button", name="Analytics")).to_be_hidden()
        await page.get_by_role("button", name="Log out").click()

        await log_in(page, base, "boss")
        await page.get_by_role("button", name="Analytics").click()
        section = page.locator(".nc-analytics")
        await expect(section).to_be_visible()
        await page.get_by_label("From", exact=True).fill(start.isoformat())
        await page.get_by_label("To", exact=True).fill(today.isoformat())
        await page.get_by_role("button", name="Show").click()

        fcr = section.locator('[data-kpi="fcr"]')
        await expect(fcr.locator(".nc-kpi-value")).to_have_text("40.0%")
        await expect(fcr.locator(".nc-kpi-n")).to_have_text("n = 10")
        await expect(section.locator('[data-kpi="containment"] .nc-kpi-value')).to_have_text("30.0%")
        await expect(section.locator('[data-kpi="escalation_rate"] .nc-kpi-value')).to_have_text("63.6%")
        await expect(section.locator('[data-kpi="conversations"] .nc-kpi-value')).to_have_text("11")

        language = section.locator(".nc-chart--language")
        assert await language.locator("rect.nc-bar").count() == 3
        labels = await language.locator("text.nc-value").all_text_contents()
        assert sorted(labels) == ["0.0% (n=1)", "25.0% (n=4)", "60.0% (n=5)"]
        escalations = section.locator(".nc-chart--escalations rect.nc-bar")
        assert await escalations.first.get_attribute("data-key") == "(none)"
        assert await section.locator(".nc-chart--escalations text.nc-value").first.text_content() == "3 (n=3)"
        # FCR per day: a point for every day with eligible conversations (10 days, one each)
        assert await section.locator('circle[data-series="fcr"]').count() == 10
        assert await section.locator('circle[data-series="queue_wait"]').count() == 5  # A2, B, C, G, H
        await shot(page, "analytics")
        # a bad range is said plainly
        await page.get_by_label("To", exact=True).fill((start - timedelta(days=1)).isoformat())
        await page.get_by_role("button", name="Show").click()
        await expect(section.locator(".nc-note")).to_contain_text("Could not load analytics")
