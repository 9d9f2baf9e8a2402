"""Past conversations by the visitor's pre-chat name and email (issue 12), in the console, on the
seeded SQL log (synthetic/seed.py, what `make seed` writes): real SQLite, the real service, Debian's
Chromium. The expected conversations are read straight from the seeded tables.
"""

from __future__ import annotations

from collections import Counter

from playwright.async_api import expect
from sqlalchemy import select

from handoff.analytics import db
from handoff.analytics.models import Conversation, Visitor
from synthetic.seed import seed
from tests.support.console import console_service, log_in, shot


def seeded_person(database_url: str):
    """A Bengali name only one seeded customer has, that customer's email, and the conversation
    ids each should find."""
    engine = db.make_engine(database_url)
    try:
        with db.sessions(engine)() as session:
            visitors = session.scalars(select(Visitor).where(Visitor.email.is_not(None))).all()
            owners = {}
            for v in visitors:
                owners.setdefault(v.name, set()).add(v.email)
            name = next(
                n for n, emails in sorted(owners.items()) if len(emails) == 1 and "\u0980" <= n[0] <= "\u09ff"
            )
            email = next(iter(owners[name]))
            vids = {v.id for v in visitors if v.email == email}
            convs = set(session.scalars(select(Conversation.id).where(Conversation.visitor_id.in_(vids))))
            names = Counter(v.name for v in visitors if v.id in vids)
            assert len(names) == 1, names
        return name, email, convs
    finally:
        engine.dispose()


async def test_an_agent_finds_past_conversations_by_name_and_by_email(redis_url, tmp_path, page):
    database_url = f"sqlite:///{tmp_path / 'log.db'}"
    assert seed(database_url, days=14, per_day=10, seed_value=11) > 100
    name, email, expected = seeded_person(database_url)
    assert 0 < len(expected) < 50

    agents = (("asha", "bn,en"),)
    with console_service(
        "console-past-contact", redis_url, tmp_path, agents, DATABASE_URL=database_url
    ) as server:
        base = server.base_url
        await log_in(page, base, "asha")
        await page.get_by_role("button", name="Past conversations").click()
        search = page.get_by_role("search", name="Search past conversations")
        found = page.get_by_role("list", name="Past conversations found").get_by_role("listitem")
        contact = search.get_by_label("Visitor name, email or phone")

        async def shown() -> set:
            await expect(page.get_by_role("status").filter(has_text="found")).to_be_visible()
            await expect(found).to_have_count(len(expected))
            return {await item.get_attribute("data-conversation-id") for item in await found.all()}

        await contact.fill(name)
        await search.get_by_role("button", name="Search").click()
        assert await shown() == expected
        await expect(found.first).to_contain_text(name)
        await expect(found.first).to_contain_text(email)

        await contact.fill("nobody-by-this-name@example.net")
        await search.get_by_role("button", name="Search").click()
        await expect(page.get_by_role("status").filter(has_text="Nothing found.")).to_be_visible()
        await expect(found).to_have_count(0)

        await contact.fill(email.split("@")[0].upper())  # part of the email, any case
        await search.get_by_role("button", name="Search").click()
        assert await shown() == expected
        await found.first.get_by_role("button").click()
        reader = page.get_by_role("article", name="Past conversation")
        await expect(reader).to_contain_text(f"{name} <{email}>")
        await shot(page, "past-by-contact")
