"""Which agents are online, and which service process leads the periodic sweep (Redis).

Each process refreshes the heartbeat of its own agents' sockets every sweep; an entry older than
`stale_after` seconds is gone (its process died). `agents:last_seen` keeps the time an agent was
last seen, for the grace period (handoff/sweeper.py).
"""

from __future__ import annotations

import time
from typing import Dict, Iterable, Optional, Tuple

from redis.asyncio import Redis

from handoff import keyspace


class Presence:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def heartbeat(self, members: Iterable[Tuple[str, str]], now: Optional[float] = None) -> None:
        """(username, socket id) pairs are alive now."""
        now = now or time.time()
        members = list(members)
        if not members:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(keyspace.PRESENCE, {f"{user}|{sid}": now for user, sid in members})
            pipe.hset(keyspace.LAST_SEEN, mapping={user: repr(now) for user, _ in members})
            await pipe.execute()

    async def drop(self, username: str, sid: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(keyspace.PRESENCE, f"{username}|{sid}")
            pipe.hset(keyspace.LAST_SEEN, username, repr(time.time()))
            await pipe.execute()

    async def online_agents(self, stale_after: float, now: Optional[float] = None) -> Dict[str, int]:
        """username -> number of live sockets; entries older than stale_after are dropped."""
        now = now or time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(keyspace.PRESENCE, "-inf", now - stale_after)
            pipe.zrange(keyspace.PRESENCE, 0, -1)
            _, members = await pipe.execute()
        online: Dict[str, int] = {}
        for member in members:
            user = member.rsplit("|", 1)[0]
            online[user] = online.get(user, 0) + 1
        return online

    async def set_status(self, username: str, status: str) -> None:
        """`online`, `away` or `busy` (handoff/protocol.py AGENT_STATUSES), as the agent set it."""
        await self.redis.hset(keyspace.AGENT_STATUS, username, status)

    async def statuses(self) -> Dict[str, str]:
        """username -> status, for the agents who set one (the others are `online`)."""
        return dict(await self.redis.hgetall(keyspace.AGENT_STATUS))

    async def last_seen(self) -> Dict[str, float]:
        return {k: float(v) for k, v in (await self.redis.hgetall(keyspace.LAST_SEEN)).items()}

    async def try_lead(self, owner: str, ttl: float) -> bool:
        """One service process at a time runs the periodic sweep (a lock that expires)."""
        key = keyspace.SWEEPER_LOCK
        if await self.redis.set(key, owner, nx=True, px=int(ttl * 1000)):
            return True
        if await self.redis.get(key) == owner:
            await self.redis.pexpire(key, int(ttl * 1000))
            return True
        return False
