"""Past conversations in the console (issue 12): any agent searches the SQL log by text (an order
number), language, topic, outcome, visitor and date, and reads one whole; the API checks its input.
A real SQL log (the scripted conversations of test_metrics.py plus two with order numbers, through
real Redis and the real writer into SQLite), the real service, Debian's Chromium.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import redis as redis_sync
from playwright.async_api import expect

from handoff.analytics.metrics import epoch
from handoff.analytics.writer import STREAM, Writer
from synthetic.script import Script
from tests.analytics.test_metrics import scripts
from tests.support.console import console_service, log_in, shot
from tests.support.handoff_service import PASSWORD

ORDER = "NS2650391"


def seeded(base: float):
    day = 86400.0
    o = Script("ORD1", "vOrd", base + 12 * day + 3600, "bn", verified_id="cust-rina")
    o.say(f"আমার অর্ডার {ORDER} কোথায়?").wait(5).bot("...", topic="order_status").wait(10)
    o.escalate("answer_not_helpful", "order_status").wait(30).claim("asha").wait(5)
    o.agent("asha", f"Order {ORDER} leaves today.").wait(60).close("asha", "resolved").wait(5).rate(5, True)
    p = Script("ORD2", "vOther", base + 14 * day, "en")
    p.say("where is NS9990001").wait(5).bot("...", topic="order_status").wait(10).visitor_left()
    return [*scripts(base), o, p]


async def test_an_agent_finds_and_reads_past_conversations(redis_url, tmp_path, page):
    today = datetime.now(UTC).date()
    start = today - timedelta(days=35)
    database_url = f"sqlite:///{tmp_path / 'log.db'}"
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    for script in seeded(epoch(start)):
        for entry in script.entries:
            client.xadd(STREAM, entry)
    writer = Writer(client, database_url, consumer="past", block_ms=50)
    try:
        writer.run(idle_exit=True)
    finally:
        writer.close()
        client.close()

    agents = (("asha", "bn,en"),)
    with console_service("console-past", redis_url, tmp_path, agents, DATABASE_URL=database_url) as server:
        base = server.base_url
        # The API: agents only, input checked.
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/api/conversations")).status_code == 401
            token = (await http.post("/api/login", json={"username": "asha", "password": PASSWORD})).json()[
                "token"
            ]
            auth = {"Authorization": f"Bearer {token}"}
            for bad in ("q=" + "x" * 201, "from=yesterday", "outcome=maybe", "language=bengali"):
                answer = await http.get(f"/api/conversations?{bad}", headers=auth)
                assert answer.status_code == 400 and answer.json()["error"] == "bad_request", (
                    bad,
                    answer.text,
                )
            assert (await http.get("/api/conversations/c_nothere", headers=auth)).status_code == 404
            by_topic = (await http.get("/api/conversations?topic=order_status", headers=auth)).json()
            assert {c["conversation_id"] for c in by_topic["conversations"]} == {"ORD1", "ORD2"}
            resolved_bn = (
                await http.get("/api/conversations?language=bn&outcome=resolved", headers=auth)
            ).json()
            assert {c["conversation_id"] for c in resolved_bn["conversations"]} == {"B", "ORD1"}
            dated = f"from={(start + timedelta(days=13)).isoformat()}&to={(start + timedelta(days=14)).isoformat()}"
            assert [
                c["conversation_id"]
                for c in (await http.get(f"/api/conversations?{dated}", headers=auth)).json()["conversations"]
            ] == ["ORD2"]

        await log_in(page, base, "asha")
        await page.get_by_role("button", name="Past conversations").click()
        search = page.get_by_role("search", name="Search past conversations")
        await search.get_by_label("Text or order number").fill(ORDER.lower())
        await search.get_by_role("button", name="Search").click()
        found = page.get_by_role("list", name="Past conversations found").get_by_role("listitem")
        await expect(found).to_have_count(1)
        await expect(found.first).to_contain_text(ORDER)
        await expect(found.first).to_contain_text("rated 5/5")
        await found.first.get_by_role("button").click()
        reader = page.get_by_role("article", name="Past conversation")
        await expect(reader).to_contain_text(f"Order {ORDER} leaves today.")
        await expect(reader).to_contain_text("outcome: Resolved")
        await expect(reader).to_contain_text("rating 5/5")

        # By customer: both of bob's conversations (his verified id), none of anyone else's.
        await search.get_by_label("Text or order number").fill("")
        await search.get_by_label("Visitor or customer id").fill("cust-bob")
        await search.get_by_role("button", name="Search").click()
        await expect(found).to_have_count(2)
        await search.get_by_label("Outcome").select_option("resolved")
        await search.get_by_role("button", name="Search").click()
        await expect(found).to_have_count(1)
        await shot(page, "past-conversations")
