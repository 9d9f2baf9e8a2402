"""Past conversations from the SQL log, for agents: find by text (an order number NS…, any words),
visitor (visitor id or the host site's verified id), contact (part of the name, email or phone the
visitor gave in the pre-chat form, any case), language, topic, outcome and date; read one whole.
Parsing the query checks every field (sizes, dates, codes) and raises `SearchError` with a plain
message; the queries run in the caller's session (handoff/analytics/api.py runs them in a
worker thread).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Dict, List, Mapping, Optional

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from handoff.analytics.metrics import epoch
from handoff.analytics.models import Conversation, Message, Visitor

MAX_TEXT = 200
MAX_RESULTS = 50
SNIPPET_CHARS = 160
OUTCOMES = ("resolved", "not_resolved", "follow_up", "bot", "abandon", "offline", "end", "open")
LANGUAGE = re.compile(r"^[a-z]{2}$")
TOKEN = re.compile(r"^[A-Za-z0-9_.:@+-]{1,200}$")


class SearchError(ValueError):
    pass


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    visitor: str = ""
    contact: str = ""
    language: str = ""
    topic: str = ""
    outcome: str = ""
    date_from: Optional[date] = None
    date_to: Optional[date] = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> SearchQuery:
        def field(name: str) -> str:
            value = (args.get(name) or "").strip()
            if len(value) > MAX_TEXT:
                raise SearchError(f"`{name}` is longer than {MAX_TEXT} characters")
            return value

        def day(name: str) -> Optional[date]:
            value = field(name)
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                raise SearchError(f"`{name}` must be a date YYYY-MM-DD") from None

        query = cls(
            text=field("q"),
            visitor=field("visitor"),
            contact=field("contact"),
            language=field("language"),
            topic=field("topic"),
            outcome=field("outcome"),
            date_from=day("from"),
            date_to=day("to"),
        )
        if query.language and not LANGUAGE.match(query.language):
            raise SearchError("`language` must be an ISO 639-1 code such as bn")
        if query.outcome and query.outcome not in OUTCOMES:
            raise SearchError("`outcome` must be one of " + ", ".join(OUTCOMES))
        for name, value in (("visitor", query.visitor), ("topic", query.topic)):
            if value and not TOKEN.match(value):
                raise SearchError(f"`{name}` has characters an id never has")
        if query.date_from and query.date_to and query.date_from > query.date_to:
            raise SearchError("`from` must not be after `to`")
        return query


def _outcome_of(conv: Conversation) -> str:
    if conv.resolution_code:
        return conv.resolution_code
    if conv.bot_resolution:
        return "bot"
    return conv.end_event or "open"


def _outcome_filter(outcome: str) -> Any:
    if outcome in ("resolved", "not_resolved", "follow_up"):
        return Conversation.resolution_code == outcome
    if outcome == "bot":
        return and_(Conversation.resolution_code.is_(None), Conversation.bot_resolved_at.is_not(None))
    if outcome == "open":
        return Conversation.closed_at.is_(None)
    return and_(Conversation.resolution_code.is_(None), Conversation.end_event == outcome)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contacts(session: Session, vids: List[str]) -> Dict[str, Visitor]:
    if not vids:
        return {}
    return {v.id: v for v in session.scalars(select(Visitor).where(Visitor.id.in_(set(vids))))}


def summary(
    conv: Conversation, snippet: Optional[str] = None, visitor: Optional[Visitor] = None
) -> Dict[str, Any]:
    return {
        "conversation_id": conv.id,
        "visitor_id": conv.visitor_id,
        "verified_id": conv.verified_id,
        "visitor_name": visitor.name if visitor else None,
        "visitor_email": visitor.email if visitor else None,
        "language": conv.language,
        "state": conv.state,
        "created_at": conv.created_at,
        "closed_at": conv.closed_at,
        "reason": conv.escalation_reason,
        "topic": conv.escalation_topic or conv.last_faq_topic,
        "outcome": _outcome_of(conv),
        "agent": conv.agent,
        "rating": {
            "score": conv.rating_score,
            "resolved": conv.rating_resolved,
            "comment": conv.rating_comment,
        }
        if conv.rating_score is not None
        else None,
        "messages": conv.message_count,
        "snippet": snippet,
    }


def search(session: Session, query: SearchQuery) -> List[Dict[str, Any]]:
    """Newest first, at most MAX_RESULTS; with `text`, each with the first message that matches."""
    conditions: List[Any] = [Conversation.anonymised_at.is_(None)]
    if query.visitor:
        conditions.append(
            or_(Conversation.visitor_id == query.visitor, Conversation.verified_id == query.visitor)
        )
    if query.contact:
        like = _like(query.contact)
        who = select(Visitor.id).where(
            or_(
                func.lower(Visitor.name).like(like, escape="\\"),
                Visitor.email.like(like, escape="\\"),
                func.lower(Visitor.phone).like(like, escape="\\"),
            )
        )
        conditions.append(Conversation.visitor_id.in_(who))
    if query.language:
        conditions.append(Conversation.language == query.language)
    if query.topic:
        conditions.append(
            or_(Conversation.escalation_topic == query.topic, Conversation.last_faq_topic == query.topic)
        )
    if query.outcome:
        conditions.append(_outcome_filter(query.outcome))
    if query.date_from:
        conditions.append(Conversation.created_at >= epoch(query.date_from))
    if query.date_to:
        conditions.append(Conversation.created_at < epoch(query.date_to + timedelta(days=1)))
    pattern = None
    if query.text:
        pattern = _like(query.text)
        matching = select(Message.conversation_id).where(func.lower(Message.text).like(pattern, escape="\\"))
        conditions.append(Conversation.id.in_(matching))
    rows = session.scalars(
        select(Conversation).where(*conditions).order_by(Conversation.created_at.desc()).limit(MAX_RESULTS)
    ).all()
    visitors = _contacts(session, [conv.visitor_id for conv in rows])
    results = []
    for conv in rows:
        snippet = None
        if pattern is not None:
            snippet = session.scalars(
                select(Message.text)
                .where(
                    Message.conversation_id == conv.id, func.lower(Message.text).like(pattern, escape="\\")
                )
                .order_by(Message.seq)
                .limit(1)
            ).first()
            snippet = (snippet or "")[:SNIPPET_CHARS]
        results.append(summary(conv, snippet, visitors.get(conv.visitor_id)))
    return results


def conversation(session: Session, cid: str) -> Optional[Dict[str, Any]]:
    """One conversation whole: its summary, escalation, resolution, offline message and messages."""
    conv = session.get(Conversation, cid)
    if conv is None or conv.anonymised_at is not None:
        return None
    messages = session.scalars(
        select(Message).where(Message.conversation_id == cid).order_by(Message.seq)
    ).all()
    return {
        **summary(conv, visitor=session.get(Visitor, conv.visitor_id)),
        "escalation": conv.escalation,
        "resolution": conv.resolution,
        "offline": conv.offline,
        "messages": [
            {
                "seq": m.seq,
                "sender": m.sender,
                "text": m.text,
                "lang": m.lang,
                "at": m.at,
                "meta": m.meta or {},
            }
            for m in messages
        ],
    }
