"""Rate limits and quotas, kept in Redis so every service process shares them (the `limits` library,
moving windows, its Redis storage on the service's Redis; keys under `keyspace.LIMITS_PREFIX`).

`QUOTAS` is the table: a name, what it counts, its default, what it protects. Each is configured by
`HANDOFF_LIMIT_<NAME>` in the `limits` notation, several windows separated by `;` (for example
`2/second;30/minute`); `0` switches it off. docs/security.md lists them (a test checks both ways).

A request over a quota gets `rate_limited` with `retry_after` (seconds) and is not stored; refused
requests are not counted, so a client that waits `retry_after` gets through. Logins count only
failures per username (a lockout that a correct password cannot skip) and every attempt per IP
(each costs an scrypt).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import redis.asyncio
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from handoff import keyspace


@dataclass(frozen=True)
class Quota:
    name: str
    default: str
    counts: str
    protects: str

    @property
    def env(self) -> str:
        return "HANDOFF_LIMIT_" + self.name.upper()


QUOTAS: Tuple[Quota, ...] = (
    Quota(
        "connect_ip",
        "30/minute;300/hour",
        "visitor sockets opened from one IP address",
        "Redis (each new visitor writes a record) and the service's sockets",
    ),
    Quota(
        "connect_visitor",
        "10/minute",
        "sockets opened with one visitor token",
        "the same, from a script that reuses its token",
    ),
    Quota(
        "message_ip",
        "120/minute",
        "visitor messages from one IP address (all its visitors)",
        "Rasa (one bot turn per message), Redis, agents' screens",
    ),
    Quota(
        "message_visitor",
        "2/second;30/minute;300/hour",
        "messages of one visitor",
        "the same, per visitor",
    ),
    Quota(
        "human_ip",
        "10/minute;30/hour",
        "requests for a person (`request_human`) from one IP address",
        "the queue: fake chats ahead of real customers",
    ),
    Quota("human_visitor", "3/minute;10/hour", "requests for a person of one visitor", "the queue"),
    Quota(
        "offline_ip",
        "10/hour",
        "offline forms from one IP address",
        "agents' offline list and their time",
    ),
    Quota("offline_visitor", "3/hour", "offline forms of one visitor", "the same"),
    Quota(
        "event_visitor",
        "10/second;300/minute",
        "any other /chat event of one visitor (typing, history, visitor_info, rating...)",
        "the service and agents' screens (typing is relayed)",
    ),
    Quota(
        "upload_ip",
        "20/hour",
        "attachments uploaded by visitors from one IP address",
        "disk space and image decoding (CPU); agents' screens",
    ),
    Quota(
        "upload_visitor", "5/minute;20/hour", "attachments uploaded by one visitor", "the same, per visitor"
    ),
    Quota(
        "upload_agent",
        "30/minute",
        "attachments uploaded by one agent",
        "disk space and image decoding, from a stolen or scripted agent token",
    ),
    Quota(
        "download_ip",
        "300/minute",
        "attachment links asked for and files downloaded from one IP address",
        "disk reads and bandwidth",
    ),
    Quota(
        "agent_message",
        "5/second;200/minute",
        "agent messages, notes and offline replies of one agent (`agent_message`, `add_note`, `offline_reply`)",
        "visitors' screens, the SQL log, email (offline replies): a stolen or scripted agent token",
    ),
    Quota(
        "agent_claim",
        "2/second;60/minute",
        "claims, take-overs and joins of one agent",
        "the queue and the other agents (a script grabbing every chat)",
    ),
    Quota(
        "agent_transfer",
        "1/second;30/minute",
        "transfers, hand-backs and leaving a joined chat, of one agent",
        "other agents' screens, the bot (a chat bounced back and forth)",
    ),
    Quota(
        "agent_event",
        "20/second;600/minute",
        "any other /agent event of one agent (queue, open, typing, agents, canned replies...)",
        "the service and Redis (each event reads conversations)",
    ),
    Quota(
        "login_ip",
        "20/minute;100/hour",
        "login attempts from one IP address",
        "the scrypt thread pool; password guessing over many usernames",
    ),
    Quota(
        "login_failures",
        "5 per 15 minutes",
        "failed logins for one username (then locked until the window frees a slot)",
        "agents' passwords against guessing",
    ),
)
BY_NAME: Dict[str, Quota] = {q.name: q for q in QUOTAS}

# Which quotas an event counts, per scope (handoff/routes.py names them per route).
EVENT_QUOTAS: Dict[str, Tuple[str, str]] = {
    "message": ("message_ip", "message_visitor"),
    "human": ("human_ip", "human_visitor"),
    "offline": ("offline_ip", "offline_visitor"),
    "event": ("", "event_visitor"),
    # /agent: per agent (the key is the username)
    "agent_message": ("", "agent_message"),
    "agent_claim": ("", "agent_claim"),
    "agent_transfer": ("", "agent_transfer"),
    "agent_event": ("", "agent_event"),
}


class RateLimited(Exception):
    def __init__(self, quota: str, retry_after: int) -> None:
        super().__init__(f"{quota}: retry after {retry_after}s")
        self.quota, self.retry_after = quota, retry_after


def parse_setting(name: str, raw: str) -> List[RateLimitItem]:
    raw = raw.strip()
    if raw in ("0", "off", "none"):
        return []
    try:
        return list(parse_many(raw))
    except ValueError:
        raise ValueError(
            f"{BY_NAME[name].env} must be like `30/minute` or `2/second;30/minute`, got {raw!r}"
        ) from None


def settings_from_env(env: Mapping[str, str]) -> Tuple[Tuple[str, str], ...]:
    """(name, setting) for every quota: the environment's, else the default (checked here)."""
    chosen = []
    for quota in QUOTAS:
        raw = (env.get(quota.env) or "").strip() or quota.default
        parse_setting(quota.name, raw)
        chosen.append((quota.name, raw))
    return tuple(chosen)


def storage_url(redis_url: str) -> str:
    """The service's Redis URL in the notation of `limits` (async, redis-py)."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url[len("unix://") :]
    return "async+" + redis_url


class Quotas:
    def __init__(self, redis_url: str, settings: Iterable[Tuple[str, str]]) -> None:
        self.items = {name: parse_setting(name, raw) for name, raw in settings}
        # A blocking pool: a burst waits for a connection instead of failing (redis-py's default
        # pool refuses past 100 connections with "Too many connections").
        pool = redis.asyncio.BlockingConnectionPool.from_url(redis_url, max_connections=200, timeout=5)
        self._storage = RedisStorage(
            storage_url(redis_url),
            implementation="redispy",
            key_prefix=keyspace.LIMITS_PREFIX,
            connection_pool=pool,
        )
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def _retry_after(self, item: RateLimitItem, name: str, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, name: str, key: Optional[str]) -> None:
        """Count one request for `key` (an IP, a visitor, a username); RateLimited when over."""
        if not key:
            return
        for item in self.items.get(name, []):
            if not await self._limiter.hit(item, name, key):
                raise RateLimited(name, await self._retry_after(item, name, key))

    async def check(self, name: str, key: str) -> None:
        """RateLimited if `key` has no room left in `name`, without counting (login lockout)."""
        for item in self.items.get(name, []):
            if not await self._limiter.test(item, name, key):
                raise RateLimited(name, await self._retry_after(item, name, key))

    async def event(self, kind: str, ip: Optional[str], vid: Optional[str]) -> None:
        ip_quota, visitor_quota = EVENT_QUOTAS[kind]
        if ip_quota:
            await self.hit(ip_quota, ip)
        await self.hit(visitor_quota, vid)

    async def clear(self, name: str, key: str) -> None:
        for item in self.items.get(name, []):
            await self._limiter.clear(item, name, key)


def client_ip(environ: Mapping[str, Any], forwarded_for: bool = False) -> str:
    """The client's address of a Socket.IO handshake (ASGI scope), or the right-most
    X-Forwarded-For entry when the service is behind a proxy that sets it (HANDOFF_FORWARDED_FOR)."""
    if forwarded_for:
        forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    client = (environ.get("asgi.scope") or {}).get("client")
    return str(client[0]) if client else str(environ.get("REMOTE_ADDR") or "unknown")


def request_ip(peer: str, forwarded_header: Optional[str], forwarded_for: bool = False) -> str:
    """The same for an HTTP request: its peer, or the right-most X-Forwarded-For entry."""
    if forwarded_for and forwarded_header:
        forwarded = forwarded_header.split(",")[-1].strip()
        if forwarded:
            return forwarded
    return peer or "unknown"
