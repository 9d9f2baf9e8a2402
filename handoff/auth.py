"""Agents, their passwords, and the signed tokens that agents and visitors carry.

- Passwords are stored as scrypt hashes (`scrypt$n$r$p$salt$hash`): a memory-
  hard function, in the standard library, with its parameters in the stored
  string so they can be raised later without breaking existing hashes.
- Tokens are `base64url(JSON payload) . base64url(HMAC-SHA256)`: stateless, so
  every service process (and a restarted one) accepts them as long as it has
  the same secret, and each names its `kind` so a visitor token can never open
  the agent namespace (docs/protocol.md).
- Agents live in Redis: a hash `user:<username>` per agent and a set `users`.

Hashing takes about 50 ms of CPU on purpose; `UserStore` runs it in a thread
so the event loop keeps serving sockets meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import redis.asyncio

# --- passwords ---------------------------------------------------------------

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
SALT_BYTES = 16
MIN_PASSWORD_LENGTH = 8


def _password_bytes(password: str) -> bytes:
    """NFC-normalised UTF-8: the same Bengali or Malayalam password typed on two
    keyboards can arrive in different Unicode normal forms."""
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL's default memory cap (32 MiB) is just above what n=2**14, r=8
    # needs; size it from the parameters so stronger stored hashes still verify.
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


def hash_password(password: str) -> str:
    """`scrypt$16384$8$1$<salt b64>$<hash b64>` with a fresh random salt.

    Raises ValueError for passwords shorter than 8 characters.
    """
    if len(unicodedata.normalize("NFC", password)) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(_password_bytes(password), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN)
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode("ascii"),
            base64.b64encode(digest).decode("ascii"),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` string (constant-time compare).

    A malformed stored value verifies nothing (False) rather than raising: a
    login attempt must never turn into a server error.
    """
    try:
        scheme, n_s, r_s, p_s, salt_b64, hash_b64 = stored.split("$")
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
    except (AttributeError, ValueError, binascii.Error):
        return False
    if scheme != "scrypt" or n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or not expected:
        return False
    try:
        actual = _scrypt(_password_bytes(password), salt, n, r, p, len(expected))
    except (TypeError, ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against for unknown usernames (made on first use, not at import)."""
    return hash_password(secrets.token_urlsafe(16))


# --- tokens ------------------------------------------------------------------

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


# --- agents ------------------------------------------------------------------

ROLES = ("agent", "admin")
USERNAME = re.compile(r"[a-z0-9_.-]{2,32}")
LANGUAGE = re.compile(r"[a-z]{2}")
MIN_CAPACITY, MAX_CAPACITY = 1, 20
MAX_DISPLAY_NAME = 64
USERS_KEY = "users"


def user_key(username: str) -> str:
    return f"user:{username}"


class UserExists(Exception):
    """`create` for a username that is taken."""


class UnknownUser(LookupError):
    """`update` for a username that does not exist."""


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    role: str
    languages: Tuple[str, ...]
    capacity: int

    def to_wire(self) -> Dict[str, Any]:
        """The `agent` object of docs/protocol.md."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "languages": list(self.languages),
            "capacity": self.capacity,
        }


def validate_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise ValueError(
            f"username must be 2-32 characters of lowercase a-z, 0-9, '_', '.', '-'; got {username!r}"
        )
    return username


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    return role


def validate_languages(languages: Union[str, Iterable[str]]) -> Tuple[str, ...]:
    """Two-letter lowercase ISO 639-1 codes, duplicates dropped, order kept (first = main).

    A string is read as a comma-separated list ("en,bn"), the form the CLI and
    the Redis hash use.
    """
    items = languages.split(",") if isinstance(languages, str) else list(languages)
    result: List[str] = []
    for item in items:
        code = item.strip() if isinstance(item, str) else item
        if not isinstance(code, str) or not LANGUAGE.fullmatch(code):
            raise ValueError(
                f"languages must be two-letter lowercase ISO 639-1 codes (en, bn, ml); got {item!r}"
            )
        if code not in result:
            result.append(code)
    if not result:
        raise ValueError("an agent needs at least one language")
    return tuple(result)


def validate_capacity(capacity: int) -> int:
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not MIN_CAPACITY <= capacity <= MAX_CAPACITY
    ):
        raise ValueError(
            f"capacity must be an integer from {MIN_CAPACITY} to {MAX_CAPACITY}; got {capacity!r}"
        )
    return capacity


def validate_display_name(display_name: str) -> str:
    """Visitors see this name: 1-64 characters, no control characters."""
    if not isinstance(display_name, str):
        raise ValueError("display name must be a string")
    name = display_name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise ValueError(f"display name must be 1-{MAX_DISPLAY_NAME} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValueError("display name must not contain control characters")
    return name


def _text(value: Union[str, bytes, None]) -> str:
    """Tolerate a client made without decode_responses=True."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


# KEYS[1] user hash, KEYS[2] users set; ARGV[1] username, ARGV[2..] field/value pairs.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
# KEYS[1] user hash; ARGV field/value pairs. Never recreates a deleted user.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


class UserStore:
    """Agents in Redis (`user:<username>` hashes and the `users` set).

    Writes are atomic (Lua scripts, a MULTI for delete), so two admins adding
    the same username never both succeed and an update never resurrects a
    deleted agent.
    """

    def __init__(self, redis: redis.asyncio.Redis) -> None:
        self.redis = redis
        self._create = redis.register_script(_CREATE)
        self._update = redis.register_script(_UPDATE)

    @staticmethod
    def _agent(username: str, fields: Mapping[Any, Any]) -> Optional[Agent]:
        if not fields:
            return None
        data = {_text(k): _text(v) for k, v in fields.items()}
        return Agent(
            username=username,
            display_name=data.get("display_name") or username,
            role=data.get("role") or "agent",
            languages=tuple(code for code in data.get("languages", "").split(",") if code),
            capacity=int(data.get("capacity") or 1),
        )

    async def create(
        self,
        username: str,
        password: str,
        role: str = "agent",
        languages: Union[str, Iterable[str]] = ("en",),
        display_name: Optional[str] = None,
        capacity: int = 3,
    ) -> Agent:
        """Add an agent; raises UserExists, or ValueError for invalid fields or a short password."""
        agent = Agent(
            username=validate_username(username),
            display_name=validate_display_name(username if display_name is None else display_name),
            role=validate_role(role),
            languages=validate_languages(languages),
            capacity=validate_capacity(capacity),
        )
        password_hash = await asyncio.to_thread(hash_password, password)
        fields = {
            "password_hash": password_hash,
            "role": agent.role,
            "languages": ",".join(agent.languages),
            "display_name": agent.display_name,
            "capacity": str(agent.capacity),
        }
        args: List[str] = [username]
        for name, value in fields.items():
            args += [name, value]
        created = await self._create(keys=[user_key(username), USERS_KEY], args=args)
        if not int(created):
            raise UserExists(f"agent {username!r} already exists")
        return agent

    async def get(self, username: str) -> Optional[Agent]:
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            return None
        return self._agent(username, await self.redis.hgetall(user_key(username)))

    async def authenticate(self, username: str, password: str) -> Optional[Agent]:
        """The agent if the password is right, else None.

        An unknown username costs the same scrypt as a wrong password, so the
        response time does not tell which usernames exist.
        """
        fields: Mapping[Any, Any] = {}
        if isinstance(username, str) and USERNAME.fullmatch(username):
            fields = await self.redis.hgetall(user_key(username))
        stored = _text(fields.get("password_hash")) if fields else ""
        if not isinstance(password, str):
            password = ""
        ok = await asyncio.to_thread(verify_password, password, stored or _dummy_hash())
        if not ok or not stored:
            return None
        return self._agent(username, fields)

    async def list(self) -> List[Agent]:
        """Every agent, sorted by username (set members without a hash are skipped)."""
        names = sorted(_text(name) for name in await self.redis.smembers(USERS_KEY))
        if not names:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(user_key(name))
            rows = await pipe.execute()
        agents = (self._agent(name, fields) for name, fields in zip(names, rows, strict=True))
        return [agent for agent in agents if agent is not None]

    async def update(
        self,
        username: str,
        *,
        password: Optional[str] = None,
        languages: Union[str, Iterable[str], None] = None,
        display_name: Optional[str] = None,
        capacity: Optional[int] = None,
        role: Optional[str] = None,
    ) -> Agent:
        """Change the given fields (None = keep); raises UnknownUser or ValueError."""
        validate_username(username)
        fields: Dict[str, str] = {}
        if languages is not None:
            fields["languages"] = ",".join(validate_languages(languages))
        if display_name is not None:
            fields["display_name"] = validate_display_name(display_name)
        if capacity is not None:
            fields["capacity"] = str(validate_capacity(capacity))
        if role is not None:
            fields["role"] = validate_role(role)
        if password is not None:
            fields["password_hash"] = await asyncio.to_thread(hash_password, password)
        if fields:
            args: List[str] = []
            for name, value in fields.items():
                args += [name, value]
            if not int(await self._update(keys=[user_key(username)], args=args)):
                raise UnknownUser(f"no agent {username!r}")
        agent = await self.get(username)
        if agent is None:
            raise UnknownUser(f"no agent {username!r}")
        return agent

    async def delete(self, username: str) -> bool:
        """Remove an agent; False if there was none. Tokens already issued stay
        valid until they expire: check `get()` when a token is presented."""
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(user_key(username))
            pipe.srem(USERS_KEY, username)
            deleted, _ = await pipe.execute()
        return bool(deleted)
