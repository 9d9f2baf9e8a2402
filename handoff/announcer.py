"""Announcing: emits to the Socket.IO rooms of a visitor or an agent, and background tasks.

Rooms, shared between service processes by the Redis client manager:

- `visitor:<vid>` on /chat: every tab of one visitor;
- `agent:<username>` on /agent: every tab of one agent.

Nothing is announced before it is stored (handoff/store.py).
"""

from __future__ import annotations

import logging
from typing import Any, Dict

from handoff import protocol as p
from handoff.joining import watchers
from handoff.protocol import message_wire
from handoff.store import LiveConversation

log = logging.getLogger("handoff")


def visitor_room(vid: str) -> str:
    return f"visitor:{vid}"


def agent_room(username: str) -> str:
    return f"agent:{username}"


class Announcer:
    def __init__(self, sio: Any) -> None:
        self.sio = sio

    async def to_visitor(self, vid: str, event: str, data: Any) -> None:
        await self.sio.emit(event, data, room=visitor_room(vid), namespace=p.CHAT_NAMESPACE)

    async def to_agent(self, username: str, event: str, data: Any) -> None:
        await self.sio.emit(event, data, room=agent_room(username), namespace=p.AGENT_NAMESPACE)

    async def message(self, conv: LiveConversation, stored: Dict[str, Any]) -> None:
        """A stored message to the visitor and the conversation's agent and joined admins."""
        await self.to_visitor(conv.visitor_id, p.MESSAGE, message_wire(stored, "visitor"))
        for username in watchers(conv):
            await self.to_agent(username, p.MESSAGE, message_wire(stored, "agent"))

    async def to_watchers(self, conv: LiveConversation, event: str, data: Any) -> None:
        """To its agent and the admins who joined it (handoff/joining.py)."""
        for username in watchers(conv):
            await self.to_agent(username, event, data)

    def spawn(self, coroutine: Any) -> None:
        """Run `coroutine` in the background; a failure is logged, never raised."""
        self.sio.start_background_task(self._guarded, coroutine)

    @staticmethod
    async def _guarded(coroutine: Any) -> None:
        try:
            await coroutine
        except Exception:  # a background failure must not kill the server; it is logged
            log.exception("background task failed")
