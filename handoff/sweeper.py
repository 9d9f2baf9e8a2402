"""Agents' presence and the periodic sweep.

Every process keeps its own agents' sockets alive (heartbeat); the one process that holds the
sweeper lock (handoff/presence.py) also, every `sweep_interval` seconds:

- requeues the chats of agents gone longer than the grace period (keeping their place in the queue);
- ends conversations left with the bot for `bot_idle` seconds;
- marks abandoned (`abandon`) a queued conversation whose visitor has had no socket for
  `queue_abandon` seconds (each process stamps its visitors' sockets into `visitors:seen`);
- sends queue views and waiting visitors' statuses that changed (as wait times pass the routing
  threshold);
- re-drives bot turns whose process died, and clears the Rasa trackers still queued for erasure
  (handoff/tracker_erasure.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from handoff import keyspace, tracker_erasure
from handoff import protocol as p
from handoff.agents import Agent, UserStore
from handoff.bot_turn import REDRIVE_AFTER
from handoff.joining import Joins, joined
from handoff.presence import Presence
from handoff.state import InvalidTransition, State
from handoff.store import Conflict, LiveConversation, Store
from handoff.transcript import Transcript
from handoff.waiting import Timing, WaitingLine

log = logging.getLogger("handoff")


def _log_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("re-driving bot turns failed (tried again next sweep): %s", task.exception())


class Sweeper:
    def __init__(
        self,
        store: Store,
        presence: Presence,
        users: UserStore,
        transcript: Transcript,
        waiting: WaitingLine,
        timing: Timing,
        bot: Optional[Any] = None,
    ) -> None:
        self.bot = bot  # handoff/bot_turn.py BotTurn: re-drives turns whose process died
        self.store, self.presence, self.users = store, presence, users
        self.transcript, self.waiting, self.timing = transcript, waiting, timing
        self.joins = Joins(store)
        self.instance = secrets.token_hex(6)
        self.local_agents: Dict[str, str] = {}  # socket id -> username, sockets of this process
        self.local_tokens: Dict[str, Tuple[int, float]] = {}  # socket id -> (token version, expiry)
        self.close_socket: Optional[Callable[[str], Awaitable[None]]] = None  # set by sockets.py
        self.local_visitors: Dict[str, str] = {}  # socket id -> visitor id, sockets of this process
        self._redriving: Optional[asyncio.Future] = None

    async def visitor_connected(self, sid: str, vid: str) -> None:
        self.local_visitors[sid] = vid
        await self.store.redis.zadd(keyspace.VISITORS_SEEN, {vid: time.time()})

    async def visitor_disconnected(self, sid: str) -> None:
        vid = self.local_visitors.pop(sid, None)
        if vid:
            await self.store.redis.zadd(keyspace.VISITORS_SEEN, {vid: time.time()})

    async def abandon_queued(self, now: Optional[float] = None) -> int:
        """Queued conversations whose visitor has had no socket for `queue_abandon` seconds close as
        abandoned (counted in the metrics); the visitor's open pointer goes, so if they come back
        they start afresh."""
        now = now or time.time()
        await self.store.redis.zremrangebyscore(keyspace.VISITORS_SEEN, "-inf", now - 86400)  # absent = gone
        abandoned = 0
        for cid, _queued_at in await self.store.queue():
            conv = await self.store.get(cid)
            if conv is None or conv.state is not State.QUEUED:
                continue
            seen = await self.store.redis.zscore(keyspace.VISITORS_SEEN, conv.visitor_id)
            if seen is not None and now - float(seen) <= self.timing.queue_abandon:
                continue
            if any(v == conv.visitor_id for v in self.local_visitors.values()):
                continue  # connected here (its stamp is refreshed every sweep)
            fields = {"closed_at": repr(now), "close_reason": "abandoned"}
            try:
                await self.store.transition(conv, "abandon", fields)
            except (InvalidTransition, Conflict):
                continue
            abandoned += 1
        if abandoned:
            self.waiting.request_update()
        return abandoned

    async def agent_connected(
        self, sid: str, agent: Agent, token_version: int = 0, expires: float = float("inf")
    ) -> None:
        self.local_agents[sid] = agent.username
        self.local_tokens[sid] = (token_version, expires)
        await self.presence.heartbeat([(agent.username, sid)])
        self.waiting.request_update()  # waiting visitors: no longer offline

    async def agent_disconnected(self, sid: str) -> None:
        username = self.local_agents.pop(sid, None)
        self.local_tokens.pop(sid, None)
        if username:
            await self.presence.drop(username, sid)
            self.waiting.request_update()

    async def requeue_abandoned(self, now: Optional[float] = None) -> int:
        """Chats of agents gone longer than the grace period go back to the queue, keeping their place."""
        now = now or time.time()
        online = await self.presence.online_agents(self.timing.stale_after, now)
        last_seen = await self.presence.last_seen()
        moved = 0
        for agent in await self.users.list():
            gone_for = now - last_seen.get(agent.username, 0.0)
            if agent.username in online or gone_for <= self.timing.agent_grace:
                continue
            for cid in await self.store.agent_chats(agent.username):
                conv = await self.store.get(cid)
                if conv is None or conv.state is not State.ASSIGNED or conv.agent != agent.username:
                    continue  # changed since the chat set was read
                try:
                    await self.store.transition(conv, "requeue", {"claimed_at": None})
                except (InvalidTransition, Conflict):
                    continue
                note = f"{agent.display_name} was disconnected for over {self.timing.agent_grace} s"
                await self.transcript.system(conv, "agent_left", note=note)
                await self._release_watchers(conv)
                moved += 1
        if moved:
            self.waiting.request_update()
        return moved

    async def _release_watchers(self, conv: LiveConversation) -> None:
        """A requeued chat's agent and joined admins get `unassigned` (reason `requeued`); the admins
        leave it, so whoever claims it next has it alone (handoff/joining.py)."""
        for admin in joined(conv):
            await self.joins.leave(conv.id, admin)
        data = {"conversation_id": conv.id, "reason": "requeued"}
        await self.transcript.announcer.to_watchers(conv, p.UNASSIGNED, data)

    async def end_idle_bot_conversations(self, now: Optional[float] = None) -> int:
        """A conversation left with the bot for `bot_idle` seconds ends (`end`): the visitor's next
        message starts a new contact, which is what first-contact resolution counts."""
        now = now or time.time()
        ended = 0
        for cid in await self.store.idle_conversations(now - self.timing.bot_idle):
            conv = await self.store.get(cid)
            if conv is None or conv.state is State.CLOSED:
                await self.store.forget_active(cid)
                continue
            if conv.state is not State.BOT:
                continue  # waiting or with an agent: people decide
            try:
                await self.store.transition(conv, "end", {"closed_at": repr(now), "close_reason": "idle"})
            except (InvalidTransition, Conflict):
                continue
            await self.store.forget_active(cid)
            await self.waiting.publish_status(conv)
            ended += 1
        return ended

    async def close_revoked_sockets(self, now: Optional[float] = None) -> int:
        """This process's agent sockets whose token expired, was revoked (password change, logout)
        or whose agent was removed are closed."""
        now = now or time.time()
        if not self.local_agents or self.close_socket is None:
            return 0
        versions = {agent.username: agent.token_version for agent in await self.users.list()}
        closed = 0
        for sid, username in list(self.local_agents.items()):
            version, expires = self.local_tokens.get(sid, (0, float("inf")))
            if versions.get(username) != version or expires <= now:
                await self.close_socket(sid)
                closed += 1
        return closed

    async def sweep_once(self) -> None:
        await self.close_revoked_sockets()
        await self.presence.heartbeat(list((user, sid) for sid, user in self.local_agents.items()))
        if self.local_visitors:
            now = time.time()
            await self.store.redis.zadd(
                keyspace.VISITORS_SEEN, {v: now for v in self.local_visitors.values()}
            )
        if await self.presence.try_lead(self.instance, ttl=max(5 * self.timing.sweep_interval, 5.0)):
            await self.requeue_abandoned()
            await self.abandon_queued()
            if self.bot is not None:
                # re-driven turns wait for Rasa: they run beside the sweep (which keeps agents'
                # heartbeats on time), one batch at a time
                if self._redriving is None or self._redriving.done():
                    self._redriving = asyncio.ensure_future(self.bot.redrive(REDRIVE_AFTER))
                    self._redriving.add_done_callback(_log_failure)
                await tracker_erasure.retry_due(self.store.redis, self.bot.rasa.clear_tracker)
            await self.end_idle_bot_conversations()
            await self.waiting.announce(force=False)

    async def forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                if self._redriving is not None:
                    self._redriving.cancel()
                raise
            except Exception as exc:  # Redis down: try again next round
                log.warning("sweep failed: %s", exc)
            await asyncio.sleep(self.timing.sweep_interval)
