"""Agents: their accounts in Redis (`user:<username>` hashes and the `users` set, handoff/keyspace.py).

Passwords are hashed by handoff/passwords.py, in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import redis.asyncio

from handoff import keyspace
from handoff.passwords import dummy_hash, hash_password, verify_password

ROLES = ("agent", "admin")
USERNAME = re.compile(r"[a-z0-9_.-]{2,32}")
LANGUAGE = re.compile(r"[a-z]{2}")
MIN_CAPACITY, MAX_CAPACITY = 1, 20
MAX_DISPLAY_NAME = 64


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
    token_version: int = 0  # in every token issued; a password change or a logout bumps it

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
            token_version=int(data.get("token_version") or 0),
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
        created = await self._create(keys=[keyspace.user(username), keyspace.USERS], args=args)
        if not int(created):
            raise UserExists(f"agent {username!r} already exists")
        return agent

    async def get(self, username: str) -> Optional[Agent]:
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            return None
        return self._agent(username, await self.redis.hgetall(keyspace.user(username)))

    async def authenticate(self, username: str, password: str) -> Optional[Agent]:
        """The agent if the password is right, else None.

        An unknown username costs the same scrypt as a wrong password, so the
        response time does not tell which usernames exist.
        """
        fields: Mapping[Any, Any] = {}
        if isinstance(username, str) and USERNAME.fullmatch(username):
            fields = await self.redis.hgetall(keyspace.user(username))
        stored = _text(fields.get("password_hash")) if fields else ""
        if not isinstance(password, str):
            password = ""
        ok = await asyncio.to_thread(verify_password, password, stored or dummy_hash())
        if not ok or not stored:
            return None
        return self._agent(username, fields)

    async def list(self) -> List[Agent]:
        """Every agent, sorted by username (set members without a hash are skipped)."""
        names = sorted(_text(name) for name in await self.redis.smembers(keyspace.USERS))
        if not names:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(keyspace.user(name))
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
            if not int(await self._update(keys=[keyspace.user(username)], args=args)):
                raise UnknownUser(f"no agent {username!r}")
        if password is not None:
            await self.revoke_tokens(username)
        agent = await self.get(username)
        if agent is None:
            raise UnknownUser(f"no agent {username!r}")
        return agent

    async def revoke_tokens(self, username: str) -> None:
        """Every token issued to the agent so far stops working (password change, logout)."""
        await self.redis.hincrby(keyspace.user(username), "token_version", 1)

    async def delete(self, username: str) -> bool:
        """Remove an agent; False if there was none. Tokens already issued stay
        valid until they expire: check `get()` when a token is presented."""
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keyspace.user(username))
            pipe.srem(keyspace.USERS, username)
            deleted, _ = await pipe.execute()
        return bool(deleted)
