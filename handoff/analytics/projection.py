"""How one outbox entry (handoff/store.py) changes the SQL log: its raw `events` row and the
projections (`visitors`, `conversations`, `messages`, `transitions`). Used by the log writer
(handoff/analytics/writer.py); pure SQL on a session, no Redis.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.analytics.models import Conversation, Erasure, Event, Message, Transition, Visitor

END_EVENTS = frozenset({"end", "abandon", "offline", "close"})
CONTACT_CHARS = 200  # the columns' size; the service accepts at most 200 characters (protocol.py)
MESSAGE_COLUMNS = ("sender", "text", "lang", "client_id", "meta", "translation", "translated")

Entry = Tuple[str, Dict[str, str]]


def _conversation(session: Session, cid: str, vid: str, at: float) -> Conversation:
    conv = session.get(Conversation, cid)
    if conv is None:
        visitor = session.get(Visitor, vid) if vid else None
        conv = Conversation(
            id=cid,
            visitor_id=vid or "",
            verified_id=visitor.verified_id if visitor else None,
            state="bot",
            created_at=at,
            updated_at=at,
            agent_count=0,
            transfers=0,
            requeues=0,
            handbacks=0,
            message_count=0,
        )
        session.add(conv)
    elif vid and not conv.visitor_id:
        conv.visitor_id = vid
    return conv


def _apply_fields(conv: Conversation, fields: Dict[str, Any], at: float) -> None:
    """Conversation-hash fields (from `conversation` entries and transitions' `fields`)."""
    for name, value in fields.items():
        if name == "state" and value:
            conv.state = value
        elif name == "language" and value:
            conv.language = value
        elif name == "created_at" and value:
            conv.created_at = float(value)
        elif name == "queued_at" and value is not None and conv.escalated_at is None:
            conv.escalated_at = float(value)
        elif name == "escalation" and isinstance(value, dict):
            conv.escalation = value
            if conv.escalation_reason is None:
                conv.escalation_reason = value.get("reason") or "unknown"
                conv.escalation_topic = value.get("faq_topic") or None
        elif name == "agent" and value:
            agents = list((conv.agents or {}).get("list", []))
            if value not in agents:
                agents.append(value)
            conv.agents = {"list": agents}
            conv.agent_count = len(agents)
            conv.agent = value
            conv.first_agent = conv.first_agent or value
        elif name == "claimed_at" and value is not None and conv.first_claimed_at is None:
            conv.first_claimed_at = float(value)
        elif name == "resolution" and isinstance(value, dict):
            conv.resolution = value
            conv.resolution_code = value.get("code")
            conv.resolved_by = value.get("by")
        elif name == "closed_at" and value is not None:
            conv.closed_at = float(value)
        elif name == "offline" and isinstance(value, dict):
            conv.offline = value
        elif name == "bot_resolution" and isinstance(value, dict):
            conv.bot_resolution = value
            conv.bot_resolved_at = float(value.get("at") or at)
        elif name == "rating" and isinstance(value, dict):
            conv.rating_score = value.get("score")
            conv.rating_resolved = value.get("resolved")
            conv.rating_comment = value.get("comment") or None
            conv.rated_at = float(value.get("at") or at)


def _set_contact(visitor: Visitor, raw: Any) -> None:
    """The pre-chat form (`info`: its JSON text, as the visitor record holds it): name, email (in
    lower case) and phone, each replaced as a whole like the visitor record's `info`."""
    try:
        info = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return
    if not isinstance(info, dict):
        return

    def text(name: str) -> Optional[str]:
        value = str(info.get(name) or "").strip()[:CONTACT_CHARS]
        return value or None

    visitor.name, visitor.phone = text("name"), text("phone")
    email = text("email")
    visitor.email = email.lower() if email else None


def _message(session: Session, cid: str, seq: int) -> Optional[Message]:
    return session.execute(
        select(Message).where(Message.conversation_id == cid, Message.seq == seq)
    ).scalar_one_or_none()


def _set_message(message: Message, body: Dict[str, Any]) -> None:
    extra = dict(message.extra or {})
    for name, value in body.items():
        if name in MESSAGE_COLUMNS:
            setattr(message, name, value)
        elif name not in ("seq", "at", "conversation_id"):
            extra[name] = value
    message.extra = extra or None
    meta = message.meta or {}
    message.reply = meta.get("reply")
    message.topic = meta.get("topic")
    confidence = meta.get("intent_confidence")
    message.intent_confidence = float(confidence) if isinstance(confidence, (int, float)) else None


def _clean(value: Any) -> Any:
    """NUL characters (allowed in chat text) replaced by U+FFFD: PostgreSQL text cannot hold them."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def apply_entry(session: Session, entry_id: str, fields: Dict[str, str]) -> None:
    """Record one outbox entry: its raw row in `events`, and its effect on the projections."""
    kind = fields["type"]
    cid, vid = fields.get("cid") or "", fields.get("vid") or ""
    at = float(fields["at"])
    body = _clean(json.loads(fields.get("body") or "{}"))
    if not isinstance(body, dict):
        raise ValueError("body is not a JSON object")
    session.add(
        Event(
            entry_id=entry_id,
            type=kind,
            conversation_id=cid or None,
            visitor_id=vid or None,
            at=at,
            body=body,
            written_at=time.time(),
        )
    )
    if kind == "visitor":
        visitor = session.get(Visitor, vid)
        if visitor is None:
            visitor = Visitor(id=vid, first_seen=at)
            session.add(visitor)
        for name in ("page", "locale", "language", "verified_id"):
            if body.get(name):
                setattr(visitor, name, body[name])
        if body.get("info"):
            _set_contact(visitor, body["info"])
        visitor.updated_at = at
        if body.get("verified_id"):
            session.flush()
            for conv in session.scalars(
                select(Conversation).where(
                    Conversation.visitor_id == vid,
                    Conversation.closed_at.is_(None),
                    Conversation.verified_id.is_(None),
                )
            ):
                conv.verified_id = body["verified_id"]
        return
    if not cid:
        return
    conv = _conversation(session, cid, vid, at)
    if kind in ("conversation", "rating"):
        _apply_fields(conv, body if kind == "conversation" else {"rating": body}, at)
        conv.updated_at = max(conv.updated_at or at, at)
    elif kind == "message":
        seq = int(body["seq"])
        session.flush()
        message = _message(session, cid, seq)
        if message is None:
            message = Message(conversation_id=cid, seq=seq, sender=body.get("sender") or "?", at=at)
            session.add(message)
            conv.message_count = (conv.message_count or 0) + 1
        message.at = float(body.get("at") or at)
        _set_message(message, body)
        if message.sender == "agent" and conv.first_agent_message_at is None:
            conv.first_agent_message_at = message.at
        if message.sender == "bot" and (message.reply or "").startswith("faq/"):
            conv.last_faq_topic = message.topic or message.reply[4:]
        conv.updated_at = max(conv.updated_at or at, at)
    elif kind == "message_update":
        session.flush()
        message = _message(session, cid, int(body["seq"]))
        if message is not None:  # an update of a message never logged (erased): nothing to update
            _set_message(message, body)
    elif kind == "transition":
        event, changed = body["event"], body.get("fields") or {}
        _apply_fields(conv, changed, at)
        conv.state = body.get("to") or conv.state
        conv.updated_at = max(conv.updated_at or at, at)
        if event == "transfer":
            conv.transfers = (conv.transfers or 0) + 1
        elif event == "requeue":
            conv.requeues = (conv.requeues or 0) + 1
        elif event == "handback":
            conv.handbacks = (conv.handbacks or 0) + 1
        if event in END_EVENTS:
            conv.end_event = event
            conv.closed_at = conv.closed_at or at
        agent = changed.get("agent") or conv.agent
        session.add(
            Transition(
                entry_id=entry_id,
                conversation_id=cid,
                event=event,
                from_state=body.get("from") or "",
                to_state=body.get("to") or "",
                agent=agent or None,
                at=at,
                fields=changed,
            )
        )


def erased_ids(session: Session, entries: Sequence[Entry]) -> Dict[Tuple[str, str], float]:
    keys = {("conversation", f.get("cid") or "") for _, f in entries} | {
        ("visitor", f.get("vid") or "") for _, f in entries
    }
    ids = {key for _, key in keys if key}
    if not ids:
        return {}
    rows = session.execute(select(Erasure.kind, Erasure.id, Erasure.at).where(Erasure.id.in_(ids)))
    return {(kind, id_): at for kind, id_, at in rows if (kind, id_) in keys}


def is_erased(erased: Dict[Tuple[str, str], float], fields: Dict[str, str]) -> bool:
    if not erased:
        return False
    if ("conversation", fields.get("cid") or "") in erased:
        return True
    at = erased.get(("visitor", fields.get("vid") or ""))
    return at is not None and float(fields.get("at") or 0) <= at
