"""Payload parsers of the agent desk's work tools and the visitor's transcript email (issue 12):
offline work items, agent status, canned replies edits, an email address. The same rules as
handoff/protocol.py (sizes, types, `ProtocolError` codes), whose helpers they use; routes.py lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from handoff.protocol import ProtocolError, _object, _text, conversation_ref, language


@dataclass(frozen=True)
class OfflineUpdate:
    """`offline_update`: `{conversation_id, assignee?: username | null, done?: bool}`."""

    conversation_id: str
    assign: bool  # `assignee` was given (null: unassign)
    assignee: Optional[str]
    done: Optional[bool]

    @classmethod
    def parse(cls, payload: Any) -> OfflineUpdate:
        body = _object(payload, "{conversation_id, assignee?, done?}")
        cid = conversation_ref(body)
        assignee = body.get("assignee")
        if assignee is not None and (not isinstance(assignee, str) or not 0 < len(assignee) <= 64):
            raise ProtocolError("bad_request", "`assignee` must be a username or null")
        done = body.get("done")
        if done is not None and not isinstance(done, bool):
            raise ProtocolError("bad_request", "`done` must be true or false")
        if "assignee" not in body and done is None:
            raise ProtocolError("bad_request", "send `assignee`, `done` or both")
        return cls(cid, "assignee" in body, assignee, done)


EMAIL = re.compile(r"^[^@\s<>,;]{1,64}@[^@\s<>,;]+\.[^@\s<>,;]+$")


def email_address(payload: Any) -> str:
    """`email_transcript`: `{"email"}`, an email address (at most 254 characters)."""
    value = _object(payload, "{email}").get("email")
    if not isinstance(value, str) or len(value) > 254 or not EMAIL.match(value.strip()):
        raise ProtocolError("bad_request", "`email` must be an email address")
    return value.strip()


CANNED_ID = re.compile(r"^[a-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class CannedEdit:
    """`canned_save`: `{id, lang, title, text}`; `canned_delete`: `{id, lang}` (title, text empty)."""

    id: str
    lang: str
    title: str = ""
    text: str = ""

    @classmethod
    def parse_key(cls, payload: Any) -> CannedEdit:
        body = _object(payload, "{id, lang}")
        reply_id = body.get("id")
        if not isinstance(reply_id, str) or not CANNED_ID.match(reply_id):
            raise ProtocolError("bad_request", "`id` must be 1-40 characters of a-z 0-9 _ -")
        lang = language(body, "lang")
        assert lang is not None
        return cls(reply_id, lang)

    @classmethod
    def parse(cls, payload: Any) -> CannedEdit:
        key = cls.parse_key(payload)
        body = _object(payload, "{id, lang, title, text}")
        return cls(key.id, key.lang, _text(body, "title", 80), _text(body, "text", 1000))


AGENT_STATUSES = ("online", "away", "busy")


def agent_status(payload: Any) -> str:
    """`set_status`: `{"status": "online" | "away" | "busy"}`."""
    status = _object(payload, "{status}").get("status")
    if status not in AGENT_STATUSES:
        raise ProtocolError("bad_request", "`status` must be one of " + ", ".join(AGENT_STATUSES))
    return str(status)
