"""The SQL log: one raw row per outbox entry (`events`) and the projections the writer keeps from them.

Times are UTC seconds since the epoch (floats), exactly as the outbox carries them: portable between
SQLite and PostgreSQL, and durations are plain subtractions.

| table | key | what |
|---|---|---|
| `events` | stream entry id | every outbox entry as received (type, cid, vid, at, body): the idempotency key |
| `visitors` | visitor id | page, locale, language, verified_id (the host site's signed customer id), the pre-chat form's name, email, phone (as typed, unverified) |
| `conversations` | conversation id | one row per conversation, kept up to date from its entries |
| `messages` | (conversation id, seq) | every message: text, language, sender, meta, translations |
| `transitions` | stream entry id | every state change: event, from, to, agent, its fields |
| `rejected_events` | stream entry id | entries that could not be applied (malformed), kept for inspection |
| `erasures` | (kind, id) | erased visitors / conversations (privacy.py): the writer skips their entries |
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {Dict[str, Any]: JSON}


class Event(Base):
    __tablename__ = "events"

    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    visitor_id: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    body: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)
    written_at: Mapped[float] = mapped_column(Float)


class Visitor(Base):
    __tablename__ = "visitors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    verified_id: Mapped[Optional[str]] = mapped_column(String(200), index=True)
    page: Mapped[Optional[str]] = mapped_column(Text)
    locale: Mapped[Optional[str]] = mapped_column(String(64))
    language: Mapped[Optional[str]] = mapped_column(String(16))
    # the pre-chat form (handoff/protocol.py visitor_info, at most 200 characters each): search and privacy
    name: Mapped[Optional[str]] = mapped_column(String(200))
    email: Mapped[Optional[str]] = mapped_column(String(200), index=True)  # lower case
    phone: Mapped[Optional[str]] = mapped_column(String(200))
    first_seen: Mapped[Optional[float]] = mapped_column(Float)
    updated_at: Mapped[Optional[float]] = mapped_column(Float)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), index=True)
    verified_id: Mapped[Optional[str]] = mapped_column(String(200), index=True)
    language: Mapped[Optional[str]] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[Optional[float]] = mapped_column(Float)
    # escalation (the first one) and the queue
    escalated_at: Mapped[Optional[float]] = mapped_column(Float)
    escalation_reason: Mapped[Optional[str]] = mapped_column(String(64))
    escalation_topic: Mapped[Optional[str]] = mapped_column(String(128))
    escalation: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)
    first_claimed_at: Mapped[Optional[float]] = mapped_column(Float)
    first_agent: Mapped[Optional[str]] = mapped_column(String(64))
    agent: Mapped[Optional[str]] = mapped_column(String(64), index=True)  # the last agent assigned
    agent_count: Mapped[int] = mapped_column(Integer, default=0)  # distinct agents assigned
    agents: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)  # {"list": [usernames in order]}
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    requeues: Mapped[int] = mapped_column(Integer, default=0)
    handbacks: Mapped[int] = mapped_column(Integer, default=0)
    first_agent_message_at: Mapped[Optional[float]] = mapped_column(Float)
    # the bot
    last_faq_topic: Mapped[Optional[str]] = mapped_column(String(128))
    bot_resolution: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)
    bot_resolved_at: Mapped[Optional[float]] = mapped_column(Float)
    # the end
    end_event: Mapped[Optional[str]] = mapped_column(String(16))  # end, abandon, offline, close
    closed_at: Mapped[Optional[float]] = mapped_column(Float, index=True)
    resolution_code: Mapped[Optional[str]] = mapped_column(String(32))
    resolved_by: Mapped[Optional[str]] = mapped_column(String(64))
    resolution: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)
    offline: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)
    # the visitor's rating
    rating_score: Mapped[Optional[int]] = mapped_column(Integer)
    rating_resolved: Mapped[Optional[bool]] = mapped_column(Boolean)
    rating_comment: Mapped[Optional[str]] = mapped_column(Text)
    rated_at: Mapped[Optional[float]] = mapped_column(Float)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    anonymised_at: Mapped[Optional[float]] = mapped_column(Float)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[Optional[str]] = mapped_column(Text)
    lang: Mapped[Optional[str]] = mapped_column(String(16))
    at: Mapped[float] = mapped_column(Float)
    client_id: Mapped[Optional[str]] = mapped_column(String(128))
    meta: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)
    translation: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)  # for the agent
    translated: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)  # an agent's text for the visitor
    extra: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)  # other fields (translation_error, ...)
    reply: Mapped[Optional[str]] = mapped_column(String(128))  # bot: faq/<topic> or the response key
    topic: Mapped[Optional[str]] = mapped_column(String(128))
    intent_confidence: Mapped[Optional[float]] = mapped_column(Float)


class Transition(Base):
    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_conversation_at", "conversation_id", "at"),)

    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    agent: Mapped[Optional[str]] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)
    fields: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)


class RejectedEvent(Base):
    __tablename__ = "rejected_events"

    entry_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fields: Mapped[Optional[Dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)


class Erasure(Base):
    """A customer erased on request: entries of these conversations, or of this visitor up to `at`,
    that reach the writer later (read before the erasure, still in its batch) are not written."""

    __tablename__ = "erasures"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "visitor" or "conversation"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[float] = mapped_column(Float)
