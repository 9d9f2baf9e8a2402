"""The socket protocol in code: mirrors docs/protocol.md (keep them in step).

Validation functions turn untrusted client payloads into typed objects or
raise `ProtocolError` with a code from docs/protocol.md; nothing is stored for
a rejected event.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional

CHAT_NAMESPACE = "/chat"
AGENT_NAMESPACE = "/agent"

# /chat, client -> server
VISITOR_MESSAGE = "visitor_message"
# /chat, server -> client
MESSAGE = "message"
STATUS = "status"
ERROR = "error"

MAX_TEXT_CHARS = 4000
MAX_PAYLOAD_BYTES = 16 * 1024
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
SENDERS = frozenset({"bot", "agent", "visitor", "system"})
ERROR_CODES = frozenset({"bad_request", "too_long", "empty", "invalid_state", "unavailable"})


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown protocol error code {code!r}")
        super().__init__(message)
        self.code, self.message = code, message

    def as_ack(self) -> Dict[str, Any]:
        return {"ok": False, "error": {"code": self.code, "message": self.message}}


def _payload_size(payload: Any) -> int:
    try:
        return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError):
        raise ProtocolError("bad_request", "payload is not JSON") from None


@dataclass(frozen=True)
class VisitorMessage:
    text: str
    client_id: str

    @classmethod
    def parse(cls, payload: Any) -> VisitorMessage:
        if not isinstance(payload, dict):
            raise ProtocolError("bad_request", "expected an object {text, client_id}")
        if _payload_size(payload) > MAX_PAYLOAD_BYTES:
            raise ProtocolError("too_long", f"payload is over {MAX_PAYLOAD_BYTES} bytes")
        text, client_id = payload.get("text"), payload.get("client_id")
        if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
            raise ProtocolError("bad_request", "`client_id` must be 1-64 characters of A-Z a-z 0-9 _ . : -")
        if not isinstance(text, str):
            raise ProtocolError("bad_request", "`text` must be a string")
        if len(text) > MAX_TEXT_CHARS:
            raise ProtocolError("too_long", f"`text` is longer than {MAX_TEXT_CHARS} characters")
        if not text.strip():
            raise ProtocolError("empty", "`text` is empty")
        return cls(text=text.strip(), client_id=client_id)


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    sender: str
    text: str
    lang: Optional[str]
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sender not in SENDERS:
            raise ValueError(f"unknown sender {self.sender!r}")

    def to_wire(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Status:
    state: str
    position: Optional[int] = None
    eta_seconds: Optional[int] = None
    agent: Optional[Dict[str, str]] = None

    def to_wire(self) -> Dict[str, Any]:
        return asdict(self)


def ok_ack(**fields: Any) -> Dict[str, Any]:
    return {"ok": True, **fields}
