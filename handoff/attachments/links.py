"""Signed, expiring download links for attachments.

    /api/attachments/<cid>/<aid>?exp=<unix time>&sig=<hex HMAC-SHA256>

The signature covers the conversation, the attachment and the expiry, keyed with the service secret
that signs tokens (handoff/tokens.py) under its own label, so a link is never a token and a token
never a link. Whoever holds a link may fetch that one file until `exp` (HANDOFF_ATTACHMENT_LINK_TTL,
15 minutes by default); links are handed out only to the conversation's visitor and to agents
(desk.py), and clients ask for a fresh one when theirs is about to expire.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Callable, Dict, Union

LABEL = b"nimbus attachment link v1\n"


class BadLink(Exception):
    """`reason`: `expired` or `bad_signature` (a tampered, truncated or foreign link)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LinkSigner:
    def __init__(self, secret: bytes, ttl: int = 900, *, clock: Callable[[], float] = time.time) -> None:
        if ttl <= 0:
            raise ValueError("the link lifetime must be positive")
        self._key = hmac.new(secret, LABEL, hashlib.sha256).digest()  # derived: not the token key
        self.ttl, self._clock = ttl, clock

    def _signature(self, cid: str, aid: str, exp: int) -> str:
        message = f"{cid}\n{aid}\n{exp}".encode("ascii")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, cid: str, aid: str) -> Dict[str, Union[str, int]]:
        """`{"url", "expires_at"}`: a path relative to the service, valid for `ttl` seconds."""
        exp = int(self._clock()) + self.ttl
        return {
            "url": f"/api/attachments/{cid}/{aid}?exp={exp}&sig={self._signature(cid, aid, exp)}",
            "expires_at": exp,
        }

    def verify(self, cid: str, aid: str, exp: str, sig: str) -> None:
        """Nothing for a genuine, unexpired link; else BadLink. The signature is checked first."""
        if not exp.isdigit() or len(exp) > 12 or not isinstance(sig, str) or len(sig) != 64:
            raise BadLink("bad_signature")
        try:
            expected = self._signature(cid, aid, int(exp))
        except UnicodeEncodeError:
            raise BadLink("bad_signature") from None
        if not hmac.compare_digest(expected, sig.lower()):
            raise BadLink("bad_signature")
        if self._clock() >= int(exp):
            raise BadLink("expired")
