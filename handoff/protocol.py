"""The socket protocol in code: mirrors docs/protocol.md (keep them in step).

Payload parsers turn untrusted client payloads into typed objects or raise
`ProtocolError` with a code from docs/protocol.md; nothing is stored for a
rejected event. Which parser and handler serve each client event is the table
in handoff/routes.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional

from handoff.state import RESOLUTION_CODES

CHAT_NAMESPACE = "/chat"
AGENT_NAMESPACE = "/agent"

# server -> client events (client -> server events are the routes of handoff/routes.py)
SESSION = "session"  # /chat
MESSAGE = "message"
STATUS = "status"  # /chat
TYPING = "typing"
ERROR = "error"
QUEUE = "queue"  # /agent
AGENT_SESSION = "agent_session"  # /agent
CONVERSATION = "conversation"  # /agent
UNASSIGNED = "unassigned"  # /agent
SERVER_EVENTS = {
    CHAT_NAMESPACE: (SESSION, MESSAGE, STATUS, TYPING, ERROR),
    AGENT_NAMESPACE: (AGENT_SESSION, QUEUE, MESSAGE, CONVERSATION, UNASSIGNED, TYPING, ERROR),
}

VISITOR_INFO_FIELDS = ("name", "email", "phone")
MAX_INFO_CHARS = 200
MAX_TEXT_CHARS = 4000
MAX_PAYLOAD_BYTES = 16 * 1024
# engine.io's limit for one incoming frame: a payload at the limit plus the event name, namespace
# and ack id. A frame over it closes the socket (nothing is stored); a payload over 16 KiB inside it
# gets the `too_long` ack.
MAX_FRAME_BYTES = MAX_PAYLOAD_BYTES + 2 * 1024
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
SENDERS = frozenset({"bot", "agent", "visitor", "system", "note"})  # note: agents only
MAX_CONTACT_CHARS = 200
MAX_NOTE_CHARS = 2000
LANGUAGE = re.compile(r"^[a-z]{2}$")
CONVERSATION_ID = re.compile(r"^c_[0-9a-f]{16}$")
ERROR_CODES = frozenset(
    {
        "bad_request",
        "too_long",
        "empty",
        "invalid_state",
        "not_found",
        "forbidden",
        "taken",
        "capacity",
        "not_offered",
        "offline",
        "unavailable",
        "rate_limited",
        "conversation_full",
    }
)


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str, retry_after: Optional[int] = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown protocol error code {code!r}")
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after

    def as_ack(self) -> Dict[str, Any]:
        error: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            error["retry_after"] = self.retry_after
        return {"ok": False, "error": error}


def _payload_size(payload: Any) -> int:
    try:
        return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError):
        raise ProtocolError("bad_request", "payload is not JSON") from None


def _object(payload: Any, shape: str) -> Dict[str, Any]:
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ProtocolError("bad_request", f"expected an object {shape}")
    if _payload_size(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError("too_long", f"payload is over {MAX_PAYLOAD_BYTES} bytes")
    return payload


def _text(payload: Dict[str, Any], name: str = "text", limit: int = MAX_TEXT_CHARS) -> str:
    text = payload.get(name)
    if not isinstance(text, str):
        raise ProtocolError("bad_request", f"`{name}` must be a string")
    if len(text) > limit:
        raise ProtocolError("too_long", f"`{name}` is longer than {limit} characters")
    if not text.strip():
        raise ProtocolError("empty", f"`{name}` is empty")
    return text.strip()


def _optional_text(payload: Dict[str, Any], name: str, limit: int) -> str:
    """A string that may be absent, null or empty (then ""), at most `limit` characters, stripped."""
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProtocolError("bad_request", f"`{name}` must be a string")
    if len(value) > limit:
        raise ProtocolError("too_long", f"`{name}` is longer than {limit} characters")
    return value.strip()


def _client_id(payload: Dict[str, Any]) -> str:
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ProtocolError("bad_request", "`client_id` must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    return client_id


def conversation_ref(payload: Any) -> str:
    """The `conversation_id` of an /agent event."""
    body = _object(payload, "{conversation_id}")
    cid = body.get("conversation_id")
    if not isinstance(cid, str) or not CONVERSATION_ID.match(cid):
        raise ProtocolError("bad_request", "`conversation_id` must be a conversation id (c_ + 16 hex digits)")
    return cid


def language(payload: Any, name: str = "language", required: bool = True) -> Optional[str]:
    body = _object(payload, "{" + name + "}")
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not LANGUAGE.match(value):
        raise ProtocolError("bad_request", f"`{name}` must be an ISO 639-1 code such as en, bn, ml")
    return value


def flag(payload: Any, name: str) -> bool:
    value = _object(payload, "{" + name + ": bool}").get(name)
    if not isinstance(value, bool):
        raise ProtocolError("bad_request", f"`{name}` must be true or false")
    return value


def empty(payload: Any) -> None:
    """An event that carries nothing: `{}` (or no payload)."""
    _object(payload, "{}")


def chosen_language(payload: Any) -> str:
    """`set_language`: `{"language"}`."""
    value = language(payload)
    assert value is not None
    return value


def optional_language(payload: Any) -> Optional[str]:
    """`canned_replies`: `{"language"?}`."""
    return language(payload, required=False)


def typing(payload: Any) -> bool:
    """A visitor's `typing`: `{"typing": bool}`."""
    return flag(payload, "typing")


def after_seq(payload: Any) -> int:
    value = _object(payload, "{after_seq}").get("after_seq", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError("bad_request", "`after_seq` must be a whole number >= 0")
    return value


@dataclass(frozen=True)
class AgentMessage:
    conversation_id: str
    text: str
    client_id: str

    @classmethod
    def parse(cls, payload: Any) -> AgentMessage:
        body = _object(payload, "{conversation_id, text, client_id}")
        return cls(conversation_ref(body), _text(body), _client_id(body))


@dataclass(frozen=True)
class AgentTyping:
    conversation_id: str
    typing: bool

    @classmethod
    def parse(cls, payload: Any) -> AgentTyping:
        return cls(conversation_ref(payload), flag(payload, "typing"))


@dataclass(frozen=True)
class SetTranslation:
    conversation_id: str
    enabled: bool

    @classmethod
    def parse(cls, payload: Any) -> SetTranslation:
        return cls(conversation_ref(payload), flag(payload, "enabled"))


@dataclass(frozen=True)
class OfflineMessage:
    text: str
    contact: str
    client_id: str

    @classmethod
    def parse(cls, payload: Any) -> OfflineMessage:
        body = _object(payload, "{text, contact, client_id}")
        return cls(_text(body), _text(body, "contact", MAX_CONTACT_CHARS), _client_id(body))


@dataclass(frozen=True)
class Transfer:
    conversation_id: str
    to: str

    @classmethod
    def parse(cls, payload: Any) -> Transfer:
        body = _object(payload, "{conversation_id, to}")
        to = body.get("to")
        if not isinstance(to, str) or not re.match(r"^[a-z0-9_.-]{2,32}$", to):
            raise ProtocolError("bad_request", "`to` must be an agent's username")
        return cls(conversation_ref(body), to)


@dataclass(frozen=True)
class Close:
    conversation_id: str
    resolution: str
    note: str

    @classmethod
    def parse(cls, payload: Any, codes: frozenset = RESOLUTION_CODES) -> Close:
        body = _object(payload, "{conversation_id, resolution, note?}")
        resolution = body.get("resolution")
        if resolution not in codes:
            raise ProtocolError("bad_request", f"`resolution` must be one of {', '.join(sorted(codes))}")
        note = _optional_text(body, "note", MAX_NOTE_CHARS)
        return cls(conversation_ref(body), resolution, note)


def visitor_info(payload: Any) -> Dict[str, str]:
    """What a pre-chat form asked (name, email, phone): unverified, as the visitor typed it."""
    body = _object(payload, "{name?, email?, phone?}")
    info = {}
    for name in VISITOR_INFO_FIELDS:
        if body.get(name) not in (None, ""):
            info[name] = _optional_text(body, name, MAX_INFO_CHARS)
    return info


@dataclass(frozen=True)
class Rating:
    score: int
    comment: str
    resolved: Optional[bool]

    @classmethod
    def parse(cls, payload: Any) -> Rating:
        body = _object(payload, "{score, comment?, resolved?}")
        score, resolved = body.get("score"), body.get("resolved")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise ProtocolError("bad_request", "`score` must be a whole number from 1 to 5")
        comment = _optional_text(body, "comment", MAX_NOTE_CHARS)
        if resolved is not None and not isinstance(resolved, bool):
            raise ProtocolError("bad_request", "`resolved` must be true, false or absent")
        return cls(score, comment, resolved)


@dataclass(frozen=True)
class VisitorMessage:
    text: str
    client_id: str

    @classmethod
    def parse(cls, payload: Any) -> VisitorMessage:
        if payload is None:  # _object takes a missing payload as {}; a message needs one
            raise ProtocolError("bad_request", "expected an object {text, client_id}")
        body = _object(payload, "{text, client_id}")
        client_id = _client_id(body)
        return cls(text=_text(body), client_id=client_id)


@dataclass(frozen=True)
class Status:
    state: str
    position: Optional[int] = None
    eta_seconds: Optional[int] = None
    agent: Optional[Dict[str, str]] = None
    offline: bool = False

    def to_wire(self) -> Dict[str, Any]:
        return asdict(self)


def message_wire(stored: Dict[str, Any], audience: str) -> Dict[str, Any]:
    """A stored message (handoff/store.py) as MESSAGE for `visitor` or `agent` (docs/protocol.md).

    Visitors see an agent's translated message in their language, with the
    original in `meta.original`; agents see every original, with the
    translation made for them in `translation` (visitor messages) or
    `meta.translated` (their own messages: what the visitor got).
    """
    if stored.get("sender") not in SENDERS:
        raise ValueError(f"unknown sender {stored.get('sender')!r}")
    cid, seq = stored["conversation_id"], int(stored["seq"])
    wire = {
        "id": f"{cid}:{seq}",
        "seq": seq,
        "conversation_id": cid,
        "sender": stored["sender"],
        "text": stored["text"],
        "lang": stored.get("lang"),
        "at": stored.get("at"),
        "meta": dict(stored.get("meta") or {}),
    }
    translated = stored.get("translated")
    if audience == "visitor":
        if translated:
            wire["meta"].update(
                machine_translated=True, original={"text": stored["text"], "lang": stored.get("lang")}
            )
            wire["text"], wire["lang"] = translated["text"], translated["lang"]
    elif audience == "agent":
        if translated:
            wire["meta"]["translated"] = translated
        if stored.get("translation"):
            wire["translation"] = stored["translation"]
    else:
        raise ValueError(f"unknown audience {audience!r}")
    return wire


def ok_ack(**fields: Any) -> Dict[str, Any]:
    return {"ok": True, **fields}
