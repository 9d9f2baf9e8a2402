"""Retention: transcripts of conversations that ended long ago are anonymised or deleted.

Retention (`HANDOFF_RETENTION_DAYS`, 0 = keep forever): conversations that ended more than that
many days ago lose their transcripts. `anonymise` (default) blanks every free text (message texts
and translations, rating comments, agents' notes, offline contact and text, the escalation's
`intents_tried`, the visitor's page and pre-chat name, email and phone once none of their
conversations is kept whole) and deletes their raw `events`; `delete` also deletes their
message and transition rows. The `conversations` rows (times, language, topic, agent, codes,
scores) stay, so every measure of docs/metrics.md for past periods is unchanged.

Their attachments (handoff/attachments/storage.py) are deleted in both modes, when the caller
passes the storage (the writer, the CLI and the API do).

The log writer applies it once an hour (handoff/analytics/writer.py); `python -m
handoff.analytics.privacy retention` and `POST /api/privacy/retention` apply it now.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine

from handoff import keyspace
from handoff.analytics import db
from handoff.analytics.models import Conversation, Event, Message, Transition, Visitor
from handoff.attachments.storage import erase_files

KEEP_META = ("reply", "topic", "intent_confidence", "kind", "machine_translated", "requested_lang")


def apply_retention(
    engine: Engine,
    days: int,
    mode: str = "anonymise",
    now: Optional[float] = None,
    redis: Any = None,
    attachments: Any = None,
) -> Dict[str, int]:
    """Anonymise (or delete) the transcripts of conversations that ended more than `days` days ago.

    With `redis` (a synchronous client), their closed conversations' keys in the service's Redis
    (`conv:<cid>`, `:msgs`, `:clients`, and the entry in `visitor:<vid>:convs`) are deleted too."""
    if days <= 0:
        return {"conversations": 0}
    cutoff = (time.time() if now is None else now) - days * 86400
    with db.sessions(engine)() as session, session.begin():
        ended = or_(
            Conversation.closed_at < cutoff,
            (Conversation.closed_at.is_(None) & (Conversation.bot_resolved_at < cutoff)),
        )
        convs = session.scalars(select(Conversation).where(ended, Conversation.anonymised_at.is_(None))).all()
        cids = [c.id for c in convs]
        counts = {"conversations": len(cids), "messages": 0, "events": 0}
        for start in range(0, len(cids), 500):
            chunk = cids[start : start + 500]
            if mode == "delete":
                counts["messages"] += session.execute(
                    delete(Message).where(Message.conversation_id.in_(chunk))
                ).rowcount
                session.execute(delete(Transition).where(Transition.conversation_id.in_(chunk)))
            else:
                for message in session.scalars(select(Message).where(Message.conversation_id.in_(chunk))):
                    message.text = None
                    message.translation = message.translated = message.extra = None
                    message.client_id = None
                    message.meta = {k: v for k, v in (message.meta or {}).items() if k in KEEP_META} or None
                    counts["messages"] += 1
                session.execute(
                    update(Transition).where(Transition.conversation_id.in_(chunk)).values(fields=None)
                )
            counts["events"] += session.execute(
                delete(Event).where(Event.conversation_id.in_(chunk))
            ).rowcount
        now_ = time.time()
        for conv in convs:
            conv.rating_comment = None
            conv.offline = {"anonymised": True} if conv.offline else None
            if conv.resolution:
                conv.resolution = {k: v for k, v in conv.resolution.items() if k != "note"}
            if conv.escalation:
                conv.escalation = {k: v for k, v in conv.escalation.items() if k != "intents_tried"}
            conv.anonymised_at = now_
        vids = {c.visitor_id for c in convs}
        if vids:
            open_vids = set(
                session.scalars(
                    select(Conversation.visitor_id).where(
                        Conversation.visitor_id.in_(vids), Conversation.anonymised_at.is_(None)
                    )
                )
            )
            for visitor in session.scalars(select(Visitor).where(Visitor.id.in_(vids - open_vids))):
                visitor.page = visitor.name = visitor.email = visitor.phone = None
            counts["events"] += session.execute(  # their visitor entries: page, pre-chat form
                delete(Event).where(Event.visitor_id.in_(vids - open_vids), Event.conversation_id.is_(None))
            ).rowcount
        pairs = [(c.id, c.visitor_id) for c in convs]
    if attachments is not None:
        counts["attachments"] = erase_files(attachments, [cid for cid, _ in pairs])
    if redis is not None:
        counts["redis_conversations"] = 0
        for cid, vid in pairs:
            if redis.hget(keyspace.conversation(cid), "state") != "closed":
                continue
            redis.delete(*keyspace.conversation_keys(cid))
            redis.lrem(keyspace.visitor_conversations(vid), 0, cid)
            counts["redis_conversations"] += 1
    return counts
