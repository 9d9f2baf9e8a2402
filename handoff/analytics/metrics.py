"""FCR and the other measures, computed from the SQL log. The definitions are in docs/metrics.md;
this module is their only implementation (the report, the API and the console page all call it).

The per-conversation facts are derived in Python from the `conversations` projection (portable
between SQLite and PostgreSQL, and the repeat-contact rule is easier to read than in SQL);
a month of a busy site is some thousands of rows.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from handoff.analytics.models import Conversation

DAY = 86400.0
DIMENSIONS = ("all", "language", "topic", "agent", "day")
NO_TOPIC = "(none)"
BOT = "(bot)"
UNASSIGNED = "(unassigned)"


@dataclass
class Facts:
    """What the measures need to know about one conversation (docs/metrics.md, "Per conversation")."""

    id: str
    customer: str
    language: str
    topic: str
    agent: str
    day: str
    created_at: float
    ended_at: Optional[float]
    escalated: bool
    reason: Optional[str]
    abandoned: bool
    offline: bool
    transferred: bool
    bot_resolved: bool
    agent_resolved: bool
    eligible: bool = False
    repeat_same_topic: bool = False
    repeat_any: bool = False
    fcr: bool = False
    survey_resolved: Optional[bool] = None
    rating: Optional[int] = None
    queue_wait: Optional[float] = None
    first_response: Optional[float] = None
    resolution_time: Optional[float] = None


def epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def topic_of(conv: Conversation) -> str:
    return (
        conv.escalation_topic or conv.last_faq_topic or (conv.bot_resolution or {}).get("topic") or NO_TOPIC
    )


def facts_of(conv: Conversation) -> Facts:
    escalated = conv.escalated_at is not None or conv.escalation_reason is not None
    ended_at = conv.closed_at
    if ended_at is None and conv.bot_resolved_at is not None and not escalated:
        ended_at = conv.bot_resolved_at  # resolved by the bot, the visitor did not close the window
    bot_resolved = conv.bot_resolution is not None and not escalated
    agent_resolved = conv.resolution_code == "resolved" and not conv.transfers and conv.agent_count == 1
    agent = conv.agent or (UNASSIGNED if escalated else BOT)
    facts = Facts(
        id=conv.id,
        customer=conv.verified_id or conv.visitor_id,
        language=conv.language or "unknown",
        topic=topic_of(conv),
        agent=agent,
        day=datetime.fromtimestamp(conv.created_at, UTC).date().isoformat(),
        created_at=conv.created_at,
        ended_at=ended_at,
        escalated=escalated,
        reason=conv.escalation_reason,
        abandoned=conv.end_event == "abandon",
        offline=conv.end_event == "offline",
        transferred=bool(conv.transfers),
        bot_resolved=bot_resolved,
        agent_resolved=agent_resolved,
        survey_resolved=conv.rating_resolved,
        rating=conv.rating_score,
    )
    if conv.escalated_at is not None and conv.first_claimed_at is not None:
        facts.queue_wait = conv.first_claimed_at - conv.escalated_at
    if conv.escalated_at is not None and conv.first_agent_message_at is not None:
        facts.first_response = conv.first_agent_message_at - conv.escalated_at
    if ended_at is not None and (bot_resolved or conv.resolution_code == "resolved"):
        facts.resolution_time = ended_at - conv.created_at
    return facts


def conversation_facts(
    session: Session, start: date, end: date, window_days: int = 7, as_of: Optional[float] = None
) -> List[Facts]:
    """Facts of the conversations started in [start, end) (UTC days, `end` exclusive)."""
    as_of = time.time() if as_of is None else as_of
    window = window_days * DAY
    rows = session.scalars(
        select(Conversation)
        .where(Conversation.created_at >= epoch(start), Conversation.created_at < epoch(end))
        .order_by(Conversation.created_at)
    ).all()
    chosen = [facts_of(conv) for conv in rows]
    # later conversations of the same customers (repeat contacts after the range)
    keys = sorted({f.customer for f in chosen})
    later: List[Facts] = []
    for offset in range(0, len(keys), 500):
        chunk = keys[offset : offset + 500]
        same_customer = or_(
            Conversation.verified_id.in_(chunk),
            and_(Conversation.verified_id.is_(None), Conversation.visitor_id.in_(chunk)),
        )
        later += [
            facts_of(conv)
            for conv in session.scalars(
                select(Conversation).where(Conversation.created_at >= epoch(end), same_customer)
            )
        ]
    by_customer: Dict[str, List[Facts]] = defaultdict(list)
    for facts in chosen + later:
        by_customer[facts.customer].append(facts)
    for facts in chosen:
        if facts.ended_at is None:
            continue
        facts.eligible = facts.ended_at + window <= as_of
        for later in by_customer[facts.customer]:
            if later.id == facts.id or not facts.created_at < later.created_at <= facts.ended_at + window:
                continue
            facts.repeat_any = True
            if NO_TOPIC in (later.topic, facts.topic) or later.topic == facts.topic:
                facts.repeat_same_topic = True
        facts.fcr = (
            facts.eligible and (facts.bot_resolved or facts.agent_resolved) and not facts.repeat_same_topic
        )
    return chosen


def _ratio(numerator: int, denominator: int) -> Optional[float]:
    return round(numerator / denominator, 4) if denominator else None


def _times(values: Sequence[float]) -> Dict[str, Any]:
    return {
        "n": len(values),
        "mean": round(statistics.fmean(values), 1) if values else None,
        "median": round(statistics.median(values), 1) if values else None,
    }


def measures(group: Sequence[Facts]) -> Dict[str, Any]:
    """Every measure of one group of conversations, with the counts behind each."""
    ended = [f for f in group if f.ended_at is not None]
    eligible = [f for f in group if f.eligible]
    escalated = [f for f in group if f.escalated]
    answered = [f for f in group if f.survey_resolved is not None]
    rated = [f for f in group if f.rating is not None]
    row: Dict[str, Any] = {
        "conversations": len(group),
        "fcr_eligible": len(eligible),
        "fcr_resolved": sum(f.fcr for f in eligible),
        "fcr": _ratio(sum(f.fcr for f in eligible), len(eligible)),
        "survey_answered": len(answered),
        "survey_resolved": sum(bool(f.survey_resolved) for f in answered),
        "survey_fcr": _ratio(sum(bool(f.survey_resolved) for f in answered), len(answered)),
        "ended": len(ended),
        "contained": sum(f.bot_resolved for f in ended),
        "containment": _ratio(sum(f.bot_resolved for f in ended), len(ended)),
        "escalated": len(escalated),
        "escalation_rate": _ratio(len(escalated), len(group)),
        "abandoned": sum(f.abandoned for f in escalated),
        "abandonment_rate": _ratio(sum(f.abandoned for f in escalated), len(escalated)),
        "offline": sum(f.offline for f in escalated),
        "transferred": sum(f.transferred for f in group),
        "repeats": sum(f.repeat_any for f in eligible),
        "repeat_rate": _ratio(sum(f.repeat_any for f in eligible), len(eligible)),
        "rated": len(rated),
        "csat": _ratio(sum(1 for f in rated if f.rating >= 4), len(rated)),
        "rating_mean": round(statistics.fmean(f.rating for f in rated), 2) if rated else None,
    }
    for name in ("queue_wait", "first_response", "resolution_time"):
        values = [getattr(f, name) for f in group if getattr(f, name) is not None]
        for key, value in _times(values).items():
            row[f"{name}_{key}"] = value
    return row


def key_of(facts: Facts, dimension: str) -> str:
    return "all" if dimension == "all" else getattr(facts, dimension)


def table(facts: Iterable[Facts], dimensions: Sequence[str] = DIMENSIONS) -> List[Dict[str, Any]]:
    """Rows {dimension, key, measures...}: the whole range, then per language, topic, agent, day."""
    facts = list(facts)
    rows = []
    for dimension in dimensions:
        groups: Dict[str, List[Facts]] = defaultdict(list)
        for f in facts:
            groups[key_of(f, dimension)].append(f)
        if dimension == "all" and not groups:
            groups["all"] = []
        for key in sorted(groups):
            rows.append({"dimension": dimension, "key": key, **measures(groups[key])})
    return rows


def escalation_reasons(facts: Iterable[Facts]) -> List[Dict[str, Any]]:
    """Escalations per (topic, reason), most frequent first: what to add to the FAQ next."""
    counts = Counter((f.topic, f.reason or "unknown") for f in facts if f.escalated)
    return [
        {"topic": topic, "reason": reason, "escalations": n}
        for (topic, reason), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def report(
    session: Session, start: date, end: date, window_days: int = 7, as_of: Optional[float] = None
) -> Dict[str, Any]:
    """Everything the report, the API and the console page show for [start, end)."""
    facts = conversation_facts(session, start, end, window_days, as_of)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "window_days": window_days,
        "as_of": as_of if as_of is not None else time.time(),
        "rows": table(facts),
        "escalation_reasons": escalation_reasons(facts),
        "conversations": [asdict(f) for f in facts],
    }


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def default_range(today: Optional[date] = None) -> tuple:
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=30), today + timedelta(days=1)
