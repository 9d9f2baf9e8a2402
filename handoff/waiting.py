"""The waiting line: escalation into the queue, visitors' statuses, agents' queue views, routing.

- A visitor's `status` while queued: position and an estimate (position x mean of the last 20
  waits / agents online), and `offline` when no agent is online or the hours are closed.
- An agent sees (and may claim) a queued conversation if they list its language, if it has
  waited `route_all_after` seconds, or if they are an admin (`offered`).
- Queue changes are announced together: a burst (fifty escalations, a claim race) becomes one
  recomputation and fan-out per process (`request_update`), and the periodic sweep sends only
  what changed since this process last sent it.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Dict, List, Optional, Tuple

from handoff import protocol as p
from handoff.agents import Agent, UserStore
from handoff.announcer import Announcer
from handoff.bot_context import button_titles, shown_text
from handoff.hours import OpeningHours
from handoff.presence import Presence
from handoff.state import State
from handoff.store import LiveConversation, Store
from handoff.transcript import Transcript

PREVIEW_CHARS = 140
QUEUE_UPDATE_DELAY = 0.05  # seconds: queue changes within this window are announced together


@dataclass
class QueueSnapshot:
    online: Dict[str, int]  # username -> live sockets
    available: Dict[str, int]  # those online whose status is `online` (not away, not busy)
    offline: bool  # no agent online, or outside opening hours
    mean_wait: float  # seconds, the last 20 waits (or the default)
    entries: List[Tuple[LiveConversation, float]]  # queued conversations with queued_at, in order


@dataclass(frozen=True)
class Timing:
    """The service's clocks (handoff/config.py)."""

    route_all_after: int = 60
    agent_grace: int = 60
    default_wait: int = 120
    sweep_interval: float = 2.0
    bot_idle: int = 1800
    queue_abandon: int = 180  # a queued visitor with no socket this long has abandoned

    @property
    def stale_after(self) -> float:
        """A socket's heartbeat older than this is gone."""
        return max(3 * self.sweep_interval, 10.0)


class WaitingLine:
    def __init__(
        self,
        store: Store,
        presence: Presence,
        users: UserStore,
        hours: OpeningHours,
        announcer: Announcer,
        transcript: Transcript,
        timing: Timing,
    ) -> None:
        self.store, self.presence, self.users, self.hours = store, presence, users, hours
        self.announcer, self.transcript, self.timing = announcer, transcript, timing
        self._dirty = self._flushing = False
        self._last_views: Dict[str, Any] = {}
        self._last_statuses: Dict[str, Any] = {}

    # --- entering the queue -------------------------------------------------

    async def escalate(
        self, conv: LiveConversation, escalation: Dict[str, Any], announced_by_bot: bool = False
    ) -> None:
        now = time.time()
        language = escalation.get("language") or conv.language or ""
        fields = {"queued_at": repr(now), "escalation": escalation, "language": language}
        await self.store.transition(conv, "escalate", fields)
        conv.queued_at, conv.language, conv.escalation = now, language, escalation
        if await self.is_offline():
            await self.transcript.system(conv, "offline")
        elif not announced_by_bot:
            await self.transcript.system(conv, "queued")
        self.request_update()  # sends every waiting visitor, this one included, their status

    # --- statuses -----------------------------------------------------------

    async def online(self) -> Dict[str, int]:
        return await self.presence.online_agents(self.timing.stale_after)

    async def available(self, online: Optional[Dict[str, int]] = None) -> Dict[str, int]:
        """The online agents who take chats: status `online` (set by the agent; away and busy do not)."""
        if online is None:
            online = await self.online()
        statuses = await self.presence.statuses()
        return {user: n for user, n in online.items() if statuses.get(user, "online") == "online"}

    async def is_offline(self, available: Optional[Dict[str, int]] = None) -> bool:
        """No one takes chats now: outside opening hours, or no agent online and available."""
        if not self.hours.is_open(datetime.now(UTC)):
            return True
        if available is None:
            available = await self.available()
        return not available

    async def snapshot(self, with_entries: bool = True) -> QueueSnapshot:
        """Everything queue views and waiting visitors' statuses need, read once. Without entries
        (one visitor's status) the queued conversations themselves are not read."""
        online = await self.online()
        available = await self.available(online)
        waits = await self.store.recent_waits()
        queue = await self.store.queue() if with_entries else []
        convs = await self.store.get_many([cid for cid, _ in queue])
        entries = [
            (conv, queued_at)
            for conv, (_, queued_at) in zip(convs, queue, strict=True)
            if conv is not None and conv.state is State.QUEUED
        ]
        return QueueSnapshot(
            online=online,
            available=available,
            offline=await self.is_offline(available),
            mean_wait=sum(waits) / len(waits) if waits else float(self.timing.default_wait),
            entries=entries,
        )

    def queued_status(self, snapshot: QueueSnapshot, position: int) -> Dict[str, Any]:
        eta = math.ceil(position * snapshot.mean_wait / max(1, len(snapshot.available)))
        return p.Status(State.QUEUED.value, position, eta, None, snapshot.offline).to_wire()

    async def status(self, conv: Optional[LiveConversation]) -> Dict[str, Any]:
        if conv is None:
            return p.Status(State.BOT.value).to_wire()
        if conv.state is State.QUEUED:
            snapshot = await self.snapshot(with_entries=False)
            return self.queued_status(snapshot, await self.store.queue_position(conv.id) or 1)
        if conv.state is State.ASSIGNED and conv.agent:
            agent = await self.users.get(conv.agent)
            name = agent.display_name if agent else conv.agent
            return p.Status(conv.state.value, agent={"name": name}).to_wire()
        if conv.state is State.CLOSED and conv.raw.get("close_reason") == "abandoned":
            # the visitor left the queue and came back: say so, and whether a person could answer now
            # (the widget offers to wait again, or the offline form when no one can)
            closed = p.Status(conv.state.value, offline=await self.is_offline()).to_wire()
            return {**closed, "reason": "abandoned"}
        return p.Status(conv.state.value).to_wire()

    async def publish_status(self, conv: LiveConversation) -> None:
        status = await self.status(conv)
        self._last_statuses[conv.id] = status
        await self.announcer.to_visitor(conv.visitor_id, p.STATUS, status)

    # --- agents' views ------------------------------------------------------

    def offered(self, agent: Agent, conv: LiveConversation, now: float) -> bool:
        if agent.role == "admin" or not conv.language or conv.language in agent.languages:
            return True
        return now - (conv.queued_at or now) >= self.timing.route_all_after

    async def previews(self, convs: List[LiveConversation]) -> Dict[str, str]:
        """conversation id -> the visitor's latest words (among the last 10 messages), one round trip."""
        previews = {}
        for conv, messages in zip(convs, await self.store.latest_messages(convs, 10), strict=True):
            titles = button_titles(messages)  # a tapped button shows as its title, not `/deny`
            texts = [shown_text(m, titles) for m in messages if m["sender"] == "visitor"]
            previews[conv.id] = texts[-1][:PREVIEW_CHARS] if texts else ""
        return previews

    async def view(
        self,
        agent: Agent,
        snapshot: Optional[QueueSnapshot] = None,
        previews: Optional[Dict[str, str]] = None,
    ) -> List[Dict[str, Any]]:
        """QUEUE_ENTRY list of what is offered to `agent` (docs/protocol.md)."""
        snapshot = snapshot or await self.snapshot()
        now = time.time()
        offered = [
            (conv, queued_at) for conv, queued_at in snapshot.entries if self.offered(agent, conv, now)
        ]
        if previews is None:
            previews = await self.previews([conv for conv, _ in offered])
        entries = []
        for conv, queued_at in offered:
            entries.append(
                {
                    "conversation_id": conv.id,
                    "language": conv.language,
                    "reason": (conv.escalation or {}).get("reason"),
                    "queued_at": queued_at,
                    "wait_seconds": int(now - queued_at),
                    "preview": previews[conv.id],
                    "offered_to_all": bool(conv.language and conv.language not in agent.languages),
                }
            )
        return entries

    # --- announcing changes ---------------------------------------------------

    def request_update(self) -> None:
        """Announce a queue change soon. Bursts (fifty escalations, a claim race) coalesce into one
        update per process, instead of one full recomputation and fan-out per event."""
        self._dirty = True
        if not self._flushing:
            self._flushing = True
            self.announcer.spawn(self._flush())

    async def _flush(self) -> None:
        try:
            while self._dirty:
                self._dirty = False
                await asyncio.sleep(QUEUE_UPDATE_DELAY)
                await self.announce(force=True)
        finally:
            self._flushing = False

    async def announce(self, force: bool = True) -> None:
        """Send each online agent their queue view, and each waiting visitor their position.
        With force=False only what changed since this process last sent it (the periodic sweep)."""
        snapshot = await self.snapshot()
        previews = await self.previews([conv for conv, _ in snapshot.entries]) if snapshot.online else {}
        for username in snapshot.online:
            agent = await self.users.get(username)
            if agent is None:
                continue
            view = await self.view(agent, snapshot, previews)
            key = [(e["conversation_id"], e["offered_to_all"], e["preview"]) for e in view]
            if force or self._last_views.get(username) != key:
                self._last_views[username] = key
                await self.announcer.to_agent(username, p.QUEUE, {"queue": view})
        waiting = set()
        for position, (conv, _) in enumerate(snapshot.entries, 1):
            waiting.add(conv.id)
            status = self.queued_status(snapshot, position)
            if force or self._last_statuses.get(conv.id) != status:
                self._last_statuses[conv.id] = status
                await self.announcer.to_visitor(conv.visitor_id, p.STATUS, status)
        for cid in [cid for cid in self._last_statuses if cid not in waiting]:
            del self._last_statuses[cid]  # keep this cache to the conversations still waiting
