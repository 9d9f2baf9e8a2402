"""Rasa trackers still to clear: a lasting retry queue in Redis, emptied once Rasa confirms.

Rasa 3.6 has no endpoint that deletes a tracker; replacing its events with an empty list
(`PUT /conversations/<cid>/tracker/events`, behind the API token: `RasaClient.clear_tracker`)
clears it. Erasure (handoff/analytics/privacy.py) adds the conversations whose tracker it could not
clear (Rasa down), and retention (handoff/analytics/retention.py) adds every conversation it
removes, to `rasa:erase` (conversation id -> when to try next; keyspace.py). The service process
that leads the sweep (handoff/sweeper.py) tries the due ones every sweep; a failure is tried again
after 10 s, doubling up to an hour, until it succeeds. `/health` shows how many wait
(`rasa_erasures_pending`), and so does the privacy tool's output.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional

import httpx

from handoff import keyspace

FIRST_RETRY = 10.0  # seconds after the first failure
LAST_RETRY = 3600.0  # the back-off stops doubling here
BATCH = 50  # trackers tried per sweep


def backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failures (1, 2, ...): 10, 20, 40, ... at most an hour."""
    return min(LAST_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))


def enqueue_sync(redis: Any, cids: Iterable[str], now: Optional[float] = None) -> int:
    """Queue trackers to clear (a synchronous client); one already queued keeps its back-off."""
    at = time.time() if now is None else now
    members = {cid: at for cid in cids}
    return int(redis.zadd(keyspace.RASA_ERASURES, members, nx=True)) if members else 0


async def enqueue(redis: Any, cids: Iterable[str], now: Optional[float] = None) -> int:
    """As `enqueue_sync`, with an asyncio client."""
    at = time.time() if now is None else now
    members = {cid: at for cid in cids}
    return int(await redis.zadd(keyspace.RASA_ERASURES, members, nx=True)) if members else 0


async def queue_missed(redis: Any, cids: Iterable[str]) -> Dict[str, Any]:
    """Queue the trackers an erasure could not clear; what the privacy tool reports about them."""
    missed = sorted(cids)
    await enqueue(redis, missed)
    return {"pending_retry": missed, "pending_total": await pending(redis)}


async def pending(redis: Any) -> int:
    return int(await redis.zcard(keyspace.RASA_ERASURES))


async def retry_due(
    redis: Any, clear: Callable[[str], Awaitable[None]], now: Optional[float] = None
) -> Dict[str, int]:
    """Clear the trackers that are due (`clear`: RasaClient.clear_tracker). A cleared one leaves the
    queue; a failed one is put back with the next back-off, and the round stops there (Rasa is
    down: the others wait for the next sweep)."""
    now = time.time() if now is None else now
    done = {"cleared": 0, "failed": 0}
    for cid in await redis.zrangebyscore(keyspace.RASA_ERASURES, "-inf", now, start=0, num=BATCH):
        try:
            await clear(cid)
        except httpx.HTTPError:
            attempts = int(await redis.hincrby(keyspace.RASA_ERASURE_ATTEMPTS, cid, 1))
            await redis.zadd(keyspace.RASA_ERASURES, {cid: now + backoff(attempts)}, xx=True)
            done["failed"] += 1
            break
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zrem(keyspace.RASA_ERASURES, cid)
            pipe.hdel(keyspace.RASA_ERASURE_ATTEMPTS, cid)
            await pipe.execute()
        done["cleared"] += 1
    return done
