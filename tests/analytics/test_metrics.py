"""The measures of docs/metrics.md from scripted conversations, against hand-computed values.

The scripts go through the real path: outbox entries in a real Redis stream, the real writer,
a real SQLite or PostgreSQL database; then metrics.py. Window N = 7 days, "now" = day 30.

| conv | customer (vid) | lang | day | what happens | topic |
|---|---|---|---|---|---|
| A  | alice (vA)           | en | 1  | FAQ answer, bot resolution, visitor leaves (+30 s) | refund_status |
| A2 | alice (vA)           | en | 5  | FAQ, not helpful -> queue 60 s, asha, reply +30, resolved (+405), rated 5/yes | delivery |
| B  | cust-bob (vB1)       | bn | 2  | FAQ, not helpful -> queue 120 s, ravi, reply +20, resolved (+355) | refund_status |
| B2 | cust-bob (vB2)       | bn | 6  | FAQ answer, visitor leaves: bob again on the same topic | refund_status |
| C  | carol (vC)           | ml | 3  | asks for a person, queue 30 s, meera, reply +10, transfer to asha, resolved; 2/no | (none) |
| D  | dave (vD)            | en | 4  | FAQ, asks for a person, leaves after 200 s in the queue (abandoned) | delivery |
| E  | erin (vE)            | en | 26 | bot resolution (+20 s): too young to be eligible | refund_status |
| F  | frank (vF)           | bn | 10 | bot resolution (+25 s), never closes the window | password_reset |
| F2 | frank (vF)           | bn | 20 | FAQ, not helpful, nobody online: offline form (10 days later: no repeat) | password_reset |
| G  | gina (vG)            | en | 8  | low confidence, queue 40 s, asha, reply +5, closed not_resolved; rated 4 | (none) |
| H  | henry (vH)           | en | 28 | asks for a person, queue 90 s, ravi claims, still open | (none) |
"""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import date, timedelta

import pytest
import redis as redis_sync

from handoff.analytics import db
from handoff.analytics.metrics import DAY, conversation_facts, epoch, escalation_reasons, report, table
from handoff.analytics.writer import STREAM, Writer
from synthetic.script import Script
from tests.support.processes import REPO_ROOT, SVC_VENV, base_env

BASE = date(2026, 10, 1)
T = epoch(BASE)
AS_OF = T + 30 * DAY
RANGE = (BASE, BASE + timedelta(days=30))


def scripts(base: float = T):
    """The conversations of the table above, day 0 = `base`."""

    def at(day: int, hour: int) -> float:
        return base + day * DAY + hour * 3600

    a = Script("A", "vA", at(1, 10), "en")
    a.say("refund?").wait(2).bot("...", topic="refund_status").wait(18).bot_resolve("refund_status")
    a.wait(10).visitor_left()
    a2 = Script("A2", "vA", at(5, 10), "en")
    a2.say("parcel?").wait(5).bot("...", topic="delivery").wait(10).say("no")
    a2.escalate("answer_not_helpful", "delivery").wait(60).claim("asha").wait(30).agent("asha", "hi")
    a2.wait(300).close("asha", "resolved").wait(10).rate(5, True)
    b = Script("B", "vB1", at(2, 9), "bn", verified_id="cust-bob")
    b.say("রিফান্ড").wait(5).bot("...", topic="refund_status").wait(10)
    b.escalate("answer_not_helpful", "refund_status").wait(120).claim("ravi").wait(20).agent("ravi", "hi")
    b.wait(200).close("ravi", "resolved")
    b2 = Script("B2", "vB2", at(6, 9), "bn", verified_id="cust-bob")
    b2.say("রিফান্ড").wait(5).bot("...", topic="refund_status").wait(30).visitor_left()
    c = Script("C", "vC", at(3, 12), "ml")
    c.say("help").wait(2).escalate("requested").wait(30).claim("meera").wait(10).agent("meera", "hi")
    c.wait(60).transfer("asha").wait(100).close("asha", "resolved").rate(2, False)
    d = Script("D", "vD", at(4, 15), "en")
    d.say("parcel?").wait(5).bot("...", topic="delivery").wait(10).escalate("requested").wait(200)
    d.visitor_left()
    e = Script("E", "vE", at(26, 10), "en")
    e.say("refund?").wait(5).bot("...", topic="refund_status").wait(10).bot_resolve("refund_status")
    e.wait(5).visitor_left()
    f = Script("F", "vF", at(10, 10), "bn")
    f.say("password").wait(5).bot("...", topic="password_reset").wait(20).bot_resolve("password_reset")
    f2 = Script("F2", "vF", at(20, 10), "bn")
    f2.say("password").wait(5).bot("...", topic="password_reset").wait(10)
    f2.escalate("answer_not_helpful", "password_reset").wait(50).offline("f@example.com", "call me")
    g = Script("G", "vG", at(8, 11), "en")
    g.say("???").wait(3).escalate("low_confidence").wait(40).claim("asha").wait(5).agent("asha", "hi")
    g.wait(100).close("asha", "not_resolved").rate(4)
    h = Script("H", "vH", at(28, 10), "en")
    h.say("human").wait(10).escalate("requested").wait(90).claim("ravi")
    return [a, a2, b, b2, c, d, e, f, f2, g, h]


@pytest.fixture
def log_url(redis_url, database_url):
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    for script in scripts():
        for entry in script.entries:
            client.xadd(STREAM, entry)
    writer = Writer(client, database_url, consumer="metrics", block_ms=50)
    try:
        writer.run(idle_exit=True)
    finally:
        writer.close()
        client.close()
    return database_url


def rows_by(rows, dimension):
    return {row["key"]: row for row in rows if row["dimension"] == dimension}


def test_every_measure_matches_the_hand_computed_values(log_url):
    engine = db.make_engine(log_url)
    with db.sessions(engine)() as session:
        facts = conversation_facts(session, *RANGE, window_days=7, as_of=AS_OF)
    engine.dispose()
    by_id = {f.id: f for f in facts}
    assert {k for k, f in by_id.items() if f.eligible} == {"A", "A2", "B", "B2", "C", "D", "F", "F2", "G"}
    assert {k for k, f in by_id.items() if f.fcr} == {"A", "A2", "F"}
    assert by_id["B"].agent_resolved and by_id["B"].repeat_same_topic  # bob came back on refund_status
    assert by_id["A"].repeat_any and not by_id["A"].repeat_same_topic  # alice came back, another topic
    assert by_id["C"].agent_resolved is False  # transferred
    assert (by_id["C"].topic, by_id["D"].topic, by_id["F2"].topic) == ("(none)", "delivery", "password_reset")

    rows = table(facts)
    total = rows_by(rows, "all")["all"]
    expected = {
        "conversations": 11,
        "fcr_eligible": 9,
        "fcr_resolved": 3,
        "fcr": 0.3333,
        "survey_answered": 2,
        "survey_resolved": 1,
        "survey_fcr": 0.5,
        "ended": 10,
        "contained": 3,
        "containment": 0.3,
        "escalated": 7,
        "escalation_rate": 0.6364,
        "abandoned": 1,
        "abandonment_rate": 0.1429,
        "offline": 1,
        "transferred": 1,
        "repeats": 2,
        "repeat_rate": 0.2222,
        "rated": 3,
        "csat": 0.6667,
        "rating_mean": 3.67,
        "queue_wait_n": 5,
        "queue_wait_mean": 68.0,
        "queue_wait_median": 60.0,
        "first_response_n": 4,
        "first_response_mean": 78.8,
        "first_response_median": 67.5,
        "resolution_time_n": 6,
        "resolution_time_mean": 172.8,
        "resolution_time_median": 116.0,
    }
    assert {k: total[k] for k in expected} == expected

    language = rows_by(rows, "language")
    assert {k: (r["conversations"], r["fcr_eligible"], r["fcr"]) for k, r in language.items()} == {
        "en": (6, 4, 0.5),
        "bn": (4, 4, 0.25),
        "ml": (1, 1, 0.0),
    }
    topic = rows_by(rows, "topic")
    assert {k: (r["fcr_eligible"], r["fcr_resolved"], r["escalated"]) for k, r in topic.items()} == {
        "refund_status": (3, 1, 1),
        "delivery": (2, 1, 2),
        "password_reset": (2, 1, 1),
        "(none)": (2, 0, 3),
    }
    agent = rows_by(rows, "agent")
    assert {k: (r["conversations"], r["fcr_eligible"], r["fcr_resolved"]) for k, r in agent.items()} == {
        "(bot)": (4, 3, 2),
        "asha": (3, 3, 1),
        "ravi": (2, 1, 0),
        "(unassigned)": (2, 2, 0),
    }
    assert agent["asha"]["queue_wait_mean"] == pytest.approx((60 + 30 + 40) / 3, abs=0.05)
    day = rows_by(rows, "day")
    assert len(day) == 11 and day["2026-10-02"]["fcr"] == 1.0 and day["2026-10-27"]["fcr_eligible"] == 0

    reasons = escalation_reasons(facts)
    assert reasons[0] == {"topic": "(none)", "reason": "requested", "escalations": 2}
    assert sum(r["escalations"] for r in reasons) == 7


def test_the_window_is_configurable(log_url):
    engine = db.make_engine(log_url)
    with db.sessions(engine)() as session:
        three = conversation_facts(session, *RANGE, window_days=3, as_of=AS_OF)
        first_week = conversation_facts(session, BASE, BASE + timedelta(days=7), window_days=7, as_of=AS_OF)
    engine.dispose()
    # N = 3: erin becomes eligible; alice's and bob's returns fall outside the window
    assert {f.id for f in three if f.fcr} == {"A", "A2", "B", "E", "F"}
    assert rows_by(table(three), "all")["all"]["fcr"] == 0.5
    # a range: days 0-6 only, but repeats are still looked for after it
    assert {f.id for f in first_week} == {"A", "A2", "B", "B2", "C", "D"}
    assert not next(f for f in first_week if f.id == "B").fcr
    # repeats created after the range still count: days 0-2 hold A and B; A2 (day 5), B2 (day 6)
    with db.sessions(engine)() as session:
        early = {f.id: f for f in conversation_facts(session, BASE, BASE + timedelta(days=3), 7, as_of=AS_OF)}
    assert set(early) == {"A", "B"}
    engine.dispose()
    assert early["A"].repeat_any and early["A"].fcr and early["B"].repeat_same_topic and not early["B"].fcr


def test_report_cli_prints_tables_and_writes_csvs(log_url, tmp_path):
    out = tmp_path / "reports"
    argv = [str(SVC_VENV / "bin" / "python"), "-m", "handoff.analytics.report"]
    argv += ["--from", "2026-10-01", "--to", "2026-10-30", "--database-url", log_url]
    argv += ["--as-of", "2026-10-31", "--out", str(out)]
    result = subprocess.run(argv, cwd=REPO_ROOT, env=base_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "FCR" in result.stdout and "33.3%" in result.stdout and "(9)" in result.stdout
    folder = out / "2026-10-01_2026-10-30"
    with (folder / "metrics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    total = next(r for r in rows if r["dimension"] == "all")
    assert (total["conversations"], total["fcr_eligible"], total["fcr"]) == ("11", "9", "0.3333")
    with (folder / "conversations.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 11
    assert (folder / "escalation_reasons.csv").exists()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["window_days"] == 7


def test_report_dict_is_json_ready(log_url):
    engine = db.make_engine(log_url)
    with db.sessions(engine)() as session:
        body = report(session, *RANGE, window_days=7, as_of=AS_OF)
    engine.dispose()
    json.dumps(body)
    assert body["rows"][0]["dimension"] == "all" and len(body["conversations"]) == 11
