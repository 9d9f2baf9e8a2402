"""The service's Redis vocabulary: every key and stream name, and the client factories.

The store (handoff/store.py), presence (handoff/presence.py), agents (handoff/agents.py), the log
writer and privacy (handoff/analytics/) all spell keys through this module, so renaming a key here
renames it everywhere, erasure included. Nothing connects at import: the factories build clients
that connect on first use.

| key | type | what |
|---|---|---|
| `conv:<cid>` | hash | a conversation: state, visitor, language, agent, times, escalation, resolution, `joined:<username>` of admins who joined it, `files` kept (the attachments cap) |
| `conv:<cid>:msgs` | list | its messages as JSON, in order; message `seq` n is index n-1 |
| `conv:<cid>:clients` | hash | client_id -> seq (a retried event is stored once) |
| `visitor:<vid>` | hash | page, locale, chosen language, verified id, pre-chat info, first seen |
| `visitor:<vid>:open` | string | the visitor's open conversation (at most one) |
| `visitor:<vid>:convs` | list | all the visitor's conversations, oldest first |
| `queue` | sorted set | queued conversations, score = queued_at (FIFO) |
| `agent:<username>:chats` | set | conversations assigned to an agent |
| `offline` | sorted set | conversations closed through the offline form, score = time |
| `presence` | sorted set | `<username>|<socket id>` -> last heartbeat (per service process) |
| `agents:last_seen` | hash | username -> last heartbeat of any of their sockets |
| `canned:edits` | hash | admins' changes to canned replies: `<id>|<lang>` -> JSON (handoff/canned.py) |
| `agents:status` | hash | username -> `online`, `away` or `busy`, as the agent set it (none: `online`) |
| `waits` | list | the last 20 queue waits (queued -> claimed), seconds |
| `lock:turn:<cid>` | string | the process running the conversation's bot turn (expires) |
| `turns:pending` | sorted set | `<cid>|<seq>` -> time: visitor messages awaiting the bot (written with the message) |
| `visitors:seen` | sorted set | visitor id -> last time one of their sockets was seen (abandonment) |
| `rasa:erase` | sorted set | conversation id -> when to try next: Rasa trackers still to clear (handoff/tracker_erasure.py) |
| `rasa:erase:attempts` | hash | conversation id -> failed attempts so far (the back-off) |
| `lock:sweeper` | string | which service process runs the periodic sweep |
| `active` | sorted set | conversations by last message time (to end idle bot conversations) |
| `log:events` | stream | the outbox: one entry per stored change, for the SQL log (consumer group `sql-log`) |
| `user:<username>` | hash | an agent: password hash, role, languages, display name, capacity |
| `users` | set | every agent's username |
| `limits/...` | strings, sorted sets | rate-limit windows of handoff/quotas.py (the `limits` library's keys) |
| `handoff-socketio` | pub/sub channel | Socket.IO emits relayed between service processes |

The queue, the agents' chat sets, the offline list and the open pointers are written only by the
transition table (handoff/transitions.py) through `Store.transition`.
"""

from __future__ import annotations

import re
from typing import Tuple
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

QUEUE = "queue"
OFFLINE = "offline"
PRESENCE = "presence"
LAST_SEEN = "agents:last_seen"
AGENT_STATUS = "agents:status"
CANNED_EDITS = "canned:edits"
WAITS = "waits"
RECENT_WAITS = 20
SWEEPER_LOCK = "lock:sweeper"
VISITORS_SEEN = "visitors:seen"
PENDING_TURNS = "turns:pending"
RASA_ERASURES = "rasa:erase"
RASA_ERASURE_ATTEMPTS = "rasa:erase:attempts"
ACTIVE = "active"
EVENTS = "log:events"
LOG_GROUP = "sql-log"
USERS = "users"
SOCKETIO_CHANNEL = "handoff-socketio"
VISITOR_PATTERN = "visitor:*"
CONVERSATION_KEY = re.compile(r"^conv:c_[0-9a-f]{16}$")  # a conversation's hash, not its lists


LIMITS_PREFIX = "limits"


def conversation(cid: str) -> str:
    return f"conv:{cid}"


def messages(cid: str) -> str:
    return f"conv:{cid}:msgs"


def client_ids(cid: str) -> str:
    return f"conv:{cid}:clients"


def conversation_keys(cid: str) -> Tuple[str, str, str]:
    """Every key that belongs to one conversation alone."""
    return conversation(cid), messages(cid), client_ids(cid)


def visitor(vid: str) -> str:
    return f"visitor:{vid}"


def open_conversation(vid: str) -> str:
    """The visitor's open conversation (a string key; at most one open conversation per visitor)."""
    return f"visitor:{vid}:open"


def visitor_conversations(vid: str) -> str:
    return f"visitor:{vid}:convs"


def visitor_keys(vid: str) -> Tuple[str, str, str]:
    """Every key that belongs to one visitor alone."""
    return visitor(vid), open_conversation(vid), visitor_conversations(vid)


def visitor_id_of(key: str) -> str:
    """The visitor id in a `visitor:<vid>` key, or '' for any other key."""
    prefix, _, rest = key.partition(":")
    return rest if prefix == "visitor" and rest and ":" not in rest else ""


def turn_lock(cid: str) -> str:
    """A conversation's bot-turn lock (one Rasa call in flight per conversation, all processes)."""
    return f"lock:turn:{cid}"


def agent_chats(username: str) -> str:
    return f"agent:{username}:chats"


def user(username: str) -> str:
    return f"user:{username}"


# A dropped or refused connection, a timeout, a Redis still loading its data: worth trying again.
TRANSIENT_ERRORS = (RedisConnectionError, RedisTimeoutError)


def async_client(url: str) -> redis.asyncio.Redis:
    """The service's client: str responses, short timeouts, a few retries on a dropped connection,
    and a pool that makes a burst of events wait for a connection (up to 5 s) instead of failing
    with "Too many connections" (redis-py's default pool refuses past 100)."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=200,
        timeout=5,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=10,
        retry=AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=list(TRANSIENT_ERRORS),
    )
    return redis.asyncio.Redis.from_pool(pool)  # closing the client closes the pool


def sync_client(url: str, socket_timeout: float = 10.0) -> redis.Redis:
    """A blocking client (str responses) for the log writer and the command-line tools."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=socket_timeout)


def redacted(url: str) -> str:
    """`url` fit for a log line: a password (redis://user:secret@host, ?password=) becomes ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:***@{hostinfo}" if ":" in userinfo else f"***@{hostinfo}"
    query = "&".join(
        f"{k}=***" if k.lower() == "password" else (f"{k}={v}" if v or "=" in pair else k)
        for pair in parts.query.split("&")
        if pair
        for k, _, v in [pair.partition("=")]
    )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
