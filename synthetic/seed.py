"""A synthetic month of conversations for a fresh install, written straight into the SQL log.

    python -m synthetic.seed [--days 30] [--per-day 40] [--seed 7] [--database-url URL] [--clear]
    make seed

Three languages (en, bn, ml), the FAQ topics of data/faq/, customers who come back (some on the
same topic within a week, some with a verified id on a second device), pre-chat names and emails
(every other customer), bot resolutions, escalations for each reason, queue waits, abandonments,
offline messages, transfers, agents' replies, closing codes and ratings. The conversations go through the writer's own projection code
(`writer.apply_entry`) as outbox-shaped entries, so they look exactly like real ones.

Seeded rows are marked: conversation ids start with `seed_`, entry ids with `seed-`; `--clear`
removes them (and only them). The live service never imports this module.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from sqlalchemy import delete, select

from handoff.analytics import db
from handoff.analytics.metrics import DAY, epoch
from handoff.analytics.models import Conversation, Event, Message, Transition, Visitor
from handoff.analytics.projection import apply_entry
from synthetic.script import Script

FAQ_DIR = Path(__file__).resolve().parent.parent / "data" / "faq"
LANGUAGES = (("en", 0.5), ("bn", 0.3), ("ml", 0.2))
AGENTS = {"en": ["ravi", "asha", "meera"], "bn": ["asha"], "ml": ["meera"]}
TEXTS = {
    "en": ("Hi, I have a question about {t}", "No, that did not help", "Thanks!"),
    "bn": ("{t} নিয়ে একটা প্রশ্ন আছে", "না, কাজ হয়নি", "ধন্যবাদ!"),
    "ml": ("{t} സംബന്ധിച്ച് ഒരു ചോദ്യം", "ഇല്ല, സഹായിച്ചില്ല", "നന്ദി!"),
}


FIRST = {  # (as written in the language's script, as in an email address)
    "en": (
        ("Anita", "anita"),
        ("Rahul", "rahul"),
        ("Priya", "priya"),
        ("Arjun", "arjun"),
        ("Sneha", "sneha"),
    ),
    "bn": (("রিনা", "rina"), ("সুমন", "suman"), ("তানিয়া", "tania"), ("অমিত", "amit")),
    "ml": (("അനു", "anu"), ("രാഹുൽ", "rahul"), ("ലക്ഷ്മി", "lakshmi"), ("അജയ്", "ajay")),
}
LAST = {"en": ("Sharma", "Iyer", "Khan", "Nair"), "bn": ("দাস", "সেন", "বসু"), "ml": ("മേനോൻ", "നായർ")}


def prechat(customer: int, lang: str) -> Optional[Dict[str, str]]:
    """The pre-chat form of every other customer: a name in their language and an email (from the
    customer number alone, so the month's random draws are the same with or without it)."""
    if customer % 2:
        return None
    first, latin = FIRST[lang][customer % len(FIRST[lang])]
    name = f"{first} {LAST[lang][customer // 7 % len(LAST[lang])]}"
    return {"name": name, "email": f"{latin}.{customer}@example.com"}


def topics() -> List[str]:
    found = sorted(path.stem for path in FAQ_DIR.glob("*.yml"))
    return found or ["order_status", "refund_status", "delivery_time", "password_reset"]


class Generator:
    def __init__(self, days: int, per_day: int, seed: int, end: Optional[float] = None) -> None:
        self.rng = random.Random(seed)
        self.days, self.per_day = days, per_day
        today = datetime.now(UTC).date() if end is None else datetime.fromtimestamp(end, UTC).date()
        self.start = epoch(today - timedelta(days=days))
        self.topics = topics()
        # a skewed topic mix: a few topics are most of the traffic, as in real support
        self.weights = [1.0 / (i + 1) for i in range(len(self.topics))]
        self.count = 0

    def pick_topic(self) -> str:
        return self.rng.choices(self.topics, self.weights)[0]

    def conversation(self, at: float, customer: int, lang: str, topic: str, verified: bool) -> Script:
        rng = self.rng
        self.count += 1
        vid = f"seed_v{customer}_{rng.randint(0, 1) if verified else 0}"
        s = Script(
            f"seed_c{self.count:06d}",
            vid,
            at,
            lang,
            verified_id=f"seed-cust-{customer}" if verified else None,
            info=prechat(customer, lang),
        )
        ask, no, thanks = TEXTS[lang]
        s.say(ask.format(t=topic.replace("_", " ")))
        roll = rng.random()
        if roll < 0.08:  # asks for a person straight away
            s.wait(rng.uniform(2, 20)).escalate("requested")
            return self.human(s, lang, thanks)
        if roll < 0.14:  # the bot does not understand twice
            s.wait(rng.uniform(5, 30)).bot("?", reply="utter_fallback").wait(rng.uniform(5, 30))
            s.escalate("low_confidence")
            return self.human(s, lang, thanks)
        s.wait(rng.uniform(1, 4)).bot("(answer)", topic=topic, confidence=round(rng.uniform(0.55, 0.99), 2))
        roll = rng.random()
        if roll < 0.50:  # "yes, that answered it"
            s.wait(rng.uniform(5, 60)).say(thanks).bot_resolve(topic)
            if rng.random() < 0.6:
                s.wait(rng.uniform(5, 120)).visitor_left()
            if rng.random() < 0.25:
                s.rate(rng.choice([4, 5, 5, 5, 3]), True)
            return s
        if roll < 0.68:  # leaves without saying
            return s.wait(rng.uniform(10, 300)).visitor_left()
        s.wait(rng.uniform(5, 60)).say(no)
        reason = "complaint" if rng.random() < 0.15 else "answer_not_helpful"
        s.escalate(reason, topic)
        return self.human(s, lang, thanks)

    def human(self, s: Script, lang: str, thanks: str) -> Script:
        rng = self.rng
        hour = datetime.fromtimestamp(s.t, UTC).hour
        busy = 1.8 if 9 <= hour < 17 else 1.0
        wait = rng.expovariate(1 / (60 * busy))
        if rng.random() < 0.05 and not 8 <= hour < 20:  # nobody online at night: the offline form
            return s.wait(rng.uniform(20, 90)).offline("customer@example.com", thanks)
        if wait > 150 and rng.random() < 0.6:  # tired of waiting
            return s.wait(rng.uniform(90, 300)).visitor_left()
        agent = rng.choice(AGENTS[lang])
        s.wait(wait).claim(agent).wait(rng.uniform(5, 45)).agent(agent, "(reply)")
        s.wait(rng.uniform(20, 120)).say("...")
        if rng.random() < 0.08:
            other = rng.choice([a for a in AGENTS["en"] if a != agent])
            s.wait(rng.uniform(20, 90)).transfer(other).wait(rng.uniform(5, 40)).agent(other, "(reply)")
            agent = other
        s.wait(rng.uniform(60, 900))
        code = rng.choices(["resolved", "not_resolved", "follow_up"], [0.78, 0.1, 0.12])[0]
        if rng.random() < 0.05:
            s.visitor_left()
        else:
            s.close(agent, code)
        if rng.random() < 0.35:
            good = code == "resolved"
            s.rate(rng.choice([4, 5, 5] if good else [1, 2, 3]), good if rng.random() < 0.8 else None)
        return s

    def scripts(self) -> List[Script]:
        rng = self.rng
        made: List[Script] = []
        customers = max(10, self.days * self.per_day * 2)
        pending: List[tuple] = []  # (time, customer, lang, topic, verified): planned repeat contacts
        for day in range(self.days):
            for _ in range(max(1, int(rng.gauss(self.per_day, self.per_day * 0.15)))):
                at = self.start + day * DAY + rng.triangular(7, 23, 14) * 3600
                customer = rng.randrange(customers)
                lang = rng.choices([code for code, _ in LANGUAGES], [w for _, w in LANGUAGES])[0]
                verified = customer % 3 == 0
                topic = self.pick_topic()
                made.append(self.conversation(at, customer, lang, topic, verified))
                if rng.random() < 0.18:  # comes back: mostly on the same topic, within days
                    again = at + rng.uniform(0.2, 10) * DAY
                    same = rng.random() < 0.7
                    pending.append((again, customer, lang, topic if same else self.pick_topic(), verified))
        for again, customer, lang, topic, verified in pending:
            if again < self.start + self.days * DAY:
                made.append(self.conversation(again, customer, lang, topic, verified))
        return sorted(made, key=lambda s: float(s.entries[0]["at"]))


def clear(session) -> int:
    ids = select(Conversation.id).where(Conversation.id.like("seed\\_%", escape="\\"))
    session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
    session.execute(delete(Transition).where(Transition.conversation_id.in_(ids)))
    session.execute(delete(Event).where(Event.entry_id.like("seed-%")))
    removed = session.execute(
        delete(Conversation).where(Conversation.id.like("seed\\_%", escape="\\"))
    ).rowcount
    session.execute(delete(Visitor).where(Visitor.id.like("seed\\_%", escape="\\")))
    return removed


def seed(
    database_url: str, days: int = 30, per_day: int = 40, seed_value: int = 7, end: Optional[float] = None
) -> int:
    db.migrate(database_url)
    generator = Generator(days, per_day, seed_value, end)
    engine = db.make_engine(database_url)
    run = int(time.time())
    try:
        with db.sessions(engine)() as session, session.begin():
            clear(session)
            n = 0
            for script in generator.scripts():
                for fields in script.entries:
                    n += 1
                    apply_entry(session, f"seed-{run}-{n}", fields)
                session.flush()
    finally:
        engine.dispose()
    return generator.count


def main(argv: Optional[Sequence[str]] = None) -> int:
    from handoff.config import Settings

    parser = argparse.ArgumentParser(prog="python -m synthetic.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7, help="random seed (the same seed, the same month)")
    parser.add_argument("--database-url", default=Settings.from_env().database_url)
    parser.add_argument("--clear", action="store_true", help="only remove seeded rows")
    args = parser.parse_args(argv)
    if args.clear:
        db.migrate(args.database_url)
        engine = db.make_engine(args.database_url)
        with db.sessions(engine)() as session, session.begin():
            print(f"removed {clear(session)} seeded conversations")
        engine.dispose()
        return 0
    count = seed(args.database_url, args.days, args.per_day, args.seed)
    print(f"seeded {count} conversations over {args.days} days; try `make report`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
