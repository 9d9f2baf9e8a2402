"""The signed tokens that agents and visitors carry, and the secret that signs them.

Tokens are `base64url(JSON payload) . base64url(HMAC-SHA256)`: stateless, so every service process
(and a restarted one) accepts them as long as it has the same secret, and each names its `kind` so
a visitor token can never open the agent namespace (docs/protocol.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

TOKEN_KINDS = frozenset({"agent", "visitor"})
RESERVED_CLAIMS = frozenset({"sub", "kind", "exp", "iat"})
MAX_TOKEN_LENGTH = 4096
MIN_SECRET_LENGTH = 32
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidToken(Exception):
    """A token that must not be accepted; `reason` says why (for logs, not for clients).

    Reasons: `malformed`, `bad_signature`, `expired`, `wrong_kind`.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issues and verifies `payload.signature` tokens with HMAC-SHA256."""

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_LENGTH} bytes")
        self._secret = secret
        self._clock = clock

    def _sign(self, payload_b64: str) -> str:
        return _b64url(hmac.new(self._secret, payload_b64.encode("ascii"), hashlib.sha256).digest())

    def issue(self, subject: str, kind: str, ttl_seconds: int, **claims: Any) -> str:
        """A token for `subject` of `kind`, valid for `ttl_seconds`; extra JSON-able `claims` ride along."""
        if kind not in TOKEN_KINDS:
            raise ValueError(f"token kind must be one of {sorted(TOKEN_KINDS)}, got {kind!r}")
        if not isinstance(subject, str) or not subject:
            raise ValueError("token subject must be a non-empty string")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be a positive integer, got {ttl_seconds!r}")
        clash = RESERVED_CLAIMS.intersection(claims)
        if clash:
            raise ValueError(f"reserved claim names: {sorted(clash)}")
        now = int(self._clock())
        payload = {**claims, "sub": subject, "kind": kind, "iat": now, "exp": now + ttl_seconds}
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        payload_b64 = _b64url(body.encode("utf-8"))
        return f"{payload_b64}.{self._sign(payload_b64)}"

    def verify(self, token: str, kind: str) -> Dict[str, Any]:
        """The payload of a genuine, unexpired token of `kind`; else raises InvalidToken.

        The signature is checked (in constant time, on the encoded text, so no
        alternative encoding of the same bytes passes) before the payload is
        parsed at all.
        """
        if kind not in TOKEN_KINDS:
            raise ValueError(f"token kind must be one of {sorted(TOKEN_KINDS)}, got {kind!r}")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed")
        parts = token.split(".")
        if len(parts) != 2 or not all(_B64URL.fullmatch(part) for part in parts):
            raise InvalidToken("malformed")
        payload_b64, signature = parts
        if not hmac.compare_digest(self._sign(payload_b64), signature):
            raise InvalidToken("bad_signature")
        try:
            payload = json.loads(_b64url_decode(payload_b64).decode("utf-8"))
        except (ValueError, binascii.Error):
            raise InvalidToken("malformed") from None
        if not isinstance(payload, dict):
            raise InvalidToken("malformed")
        exp, sub = payload.get("exp"), payload.get("sub")
        if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not isinstance(sub, str):
            raise InvalidToken("malformed")
        if payload.get("kind") != kind:
            raise InvalidToken("wrong_kind")
        if self._clock() >= exp:
            raise InvalidToken("expired")
        return payload


SECRET_FILE = "handoff-secret"


def load_secret(env_secret: Optional[str], data_dir: Path) -> bytes:
    """The token secret: `env_secret` (HANDOFF_SECRET) if set, else `data_dir/handoff-secret`.

    The file is made on first use (64 hex characters, mode 0600) so a fresh
    install needs no configuration and tokens survive restarts. Both sources
    give the secret as the UTF-8 bytes of the text, so copying the file's
    content into HANDOFF_SECRET keeps existing tokens valid. Creation is
    race-free: the content is written to a private temporary file and linked
    into place, so a second process either wins or reads the complete file.
    """
    if env_secret:
        if len(env_secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"the token secret from the environment must be at least {MIN_SECRET_LENGTH} characters "
                f"(got {len(env_secret)})"
            )
        return env_secret.encode("utf-8")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / SECRET_FILE
    if not path.exists():
        temporary = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            temporary.unlink()
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"{path} holds fewer than {MIN_SECRET_LENGTH} characters; delete it to make a new one "
            "(this signs out everyone) or set HANDOFF_SECRET"
        )
    return text.encode("utf-8")
