"""The synthetic month: realistic variety, deterministic, removable, readable by the report."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from handoff.analytics import db
from handoff.analytics.metrics import conversation_facts, epoch, table
from handoff.analytics.models import Conversation, Visitor
from synthetic.seed import clear, seed

END = epoch(date(2026, 11, 1))


def test_seed_makes_a_varied_month_and_can_be_removed(database_url):
    count = seed(database_url, days=12, per_day=15, seed_value=3, end=END)
    assert count > 12 * 10
    engine = db.make_engine(database_url)
    try:
        with db.sessions(engine)() as session:
            facts = conversation_facts(session, date(2026, 10, 20), date(2026, 11, 1), 7, as_of=END)
            assert len(facts) == count
            assert {f.language for f in facts} == {"en", "bn", "ml"}
            assert sum(f.abandoned for f in facts) > 0 and sum(f.transferred for f in facts) > 0
            assert sum(f.repeat_same_topic for f in facts) > 0 and sum(f.bot_resolved for f in facts) > 0
            assert len({f.topic for f in facts}) > 8 and len({f.agent for f in facts}) >= 4
            total = table(facts)[0]
            assert 0 < total["fcr"] < 1 and total["fcr_eligible"] < total["conversations"]
            assert total["rated"] > 0 and total["queue_wait_n"] > 0
            named = session.scalars(select(Visitor).where(Visitor.email.is_not(None))).all()
            assert named and all(v.name and v.email.endswith("@example.com") for v in named)
            assert {v.name[0] for v in named} & {"র", "স", "ত", "অ"}  # names in the visitor's script
            days = {f.day for f in facts}
            assert (
                min(days) == "2026-10-20" and max(days) == (date(2026, 11, 1) - timedelta(days=1)).isoformat()
            )
        assert seed(database_url, days=12, per_day=15, seed_value=3, end=END) == count  # replaces, same month
        with db.sessions(engine)() as session, session.begin():
            assert session.scalar(select(func.count()).select_from(Conversation)) == count
            assert clear(session) == count
        with db.sessions(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Conversation)) == 0
    finally:
        engine.dispose()
