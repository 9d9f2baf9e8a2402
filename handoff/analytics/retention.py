"""Retention: transcripts of conversations that ended long ago are anonymised or deleted.

Retention (`HANDOFF_RETENTION_DAYS`, 0 = keep forever): conversations that ended more than that
many days ago lose their transcripts. `anonymise` (default) blanks every free text (message texts
and translations, rating comments, agents' notes, offline contact and text, the escalation's
`intents_tried`, the visitor's page and pre-chat name, email and phone once none of their
conversations is kept whole) and deletes their raw `events`; `delete` also deletes their
message and transition rows. The `conversations` rows (times, language, topic, agent, codes,
scores) stay, so every measure of docs/metrics.md for past periods is unchanged. A visitor left with
only such conversations loses its record (the `visitors` row; in Redis `visitor:<vid>` and its lists
once no conversation is left there), and each conversation's Rasa tracker is cleared (queued in
Redis, handoff/tracker_erasure.py: the service's sweeper clears it, retrying while Rasa is down).
Anonymous visitor records without any conversation expire in Redis on their own
(`HANDOFF_ANONYMOUS_VISITOR_TTL`, handoff/store.py).

Their attachments (handoff/attachments/storage.py) are deleted in both modes, when the caller
passes the storage (the writer, the CLI and the API do).

The log writer applies it once an hour (handoff/analytics/writer.py); `python -m
handoff.analytics.privacy retention` and `POST /api/privacy/retention` apply it now.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine

from handoff import keyspace, tracker_erasure
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
            gone = vids - open_vids  # visitors with nothing left but anonymised conversations
            counts["events"] += session.execute(  # their visitor entries: page, pre-chat form
                delete(Event).where(Event.visitor_id.in_(gone), Event.conversation_id.is_(None))
            ).rowcount
            # and the record itself goes (its pre-chat name, email and phone with it)
            counts["visitors"] = session.execute(delete(Visitor).where(Visitor.id.in_(gone))).rowcount
        pairs = [(c.id, c.visitor_id) for c in convs]
    if attachments is not None:
        counts["attachments"] = erase_files(attachments, [cid for cid, _ in pairs])
    if redis is not None:
        counts.update(_redis(redis, pairs))
    return counts


def _redis(redis: Any, pairs: List[Tuple[str, str]]) -> Dict[str, int]:
    """The closed conversations' keys, the visitor records left with no conversation, and their Rasa
    trackers (queued: handoff/tracker_erasure.py clears them, retrying while Rasa is down)."""
    counts = {"redis_conversations": 0, "redis_visitors": 0}
    trackers = []
    for cid, vid in pairs:
        state = redis.hget(keyspace.conversation(cid), "state")
        if state not in (None, "closed"):
            continue  # open again in Redis (not ended there): left alone, tracker included
        trackers.append(cid)
        if state is not None:
            redis.delete(*keyspace.conversation_keys(cid))
            redis.lrem(keyspace.visitor_conversations(vid), 0, cid)
            counts["redis_conversations"] += 1
        if not redis.llen(keyspace.visitor_conversations(vid)) and not redis.exists(
            keyspace.open_conversation(vid)
        ):
            counts["redis_visitors"] += int(redis.delete(*keyspace.visitor_keys(vid)) > 0)
    counts["rasa_trackers_queued"] = tracker_erasure.enqueue_sync(redis, trackers)
    return counts
