"""Admins' tools (/agent): canned replies managed per language (handoff/canned.py), and the
supervisor's view: every live conversation with its state, agent, wait and
language, every agent with status and load; an admin can take over an assigned chat (it moves to
them, as a transfer does, with no capacity or status check: a supervisor steps in), or join it
(handoff/joining.py: read it live and write into it alongside its agent, who keeps it) and leave. Mixed into
handoff/agent_desk.py's AgentDesk, whose store, users, waiting line and transcript it uses.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List

from handoff import desk_payloads as d
from handoff import protocol as p
from handoff.agents import Agent
from handoff.canned import CannedEdits
from handoff.joining import joined
from handoff.protocol import ProtocolError
from handoff.state import State
from handoff.store import Conflict, LiveConversation
from handoff.transitions import Receiver

MAX_LIVE = 500  # conversations listed at most


class SupervisorTools:
    def _admin(self, agent: Agent) -> None:
        if agent.role != "admin":
            raise ProtocolError("forbidden", "only administrators supervise")

    async def supervise(self, agent: Agent, _: None) -> Dict[str, Any]:
        self._admin(agent)
        now = time.time()
        cids: List[str] = [cid for cid, _ in await self.store.queue()]
        for other in await self.users.list():
            cids.extend(await self.store.agent_chats(other.username))
        conversations = []
        for conv in await self.store.get_many(list(dict.fromkeys(cids))[:MAX_LIVE]):
            if conv is None or conv.state not in (State.QUEUED, State.ASSIGNED):
                continue
            conversations.append(
                {
                    "conversation_id": conv.id,
                    "state": conv.state.value,
                    "agent": conv.agent or None,
                    "language": conv.language,
                    "reason": (conv.escalation or {}).get("reason"),
                    "wait_seconds": int(now - conv.queued_at)
                    if conv.state is State.QUEUED and conv.queued_at
                    else None,
                    "since": conv.claimed_at or conv.queued_at,
                    "joined": joined(conv),
                }
            )
        agents = (await self.agents(agent, None))["agents"]
        return p.ok_ack(conversations=conversations, agents=agents)

    async def take_over(self, agent: Agent, cid: str) -> Dict[str, Any]:
        """An assigned chat becomes this admin's (the agent who had it is told, as after a transfer)."""
        self._admin(agent)
        conv = await self.store.get(cid)
        if conv is None:
            raise ProtocolError("not_found", f"no conversation {cid}")
        if conv.state is not State.ASSIGNED or not conv.agent:
            raise ProtocolError(
                "invalid_state", "only a chat an agent has can be taken over (claim a waiting one)"
            )
        if conv.agent == agent.username:
            raise ProtocolError("bad_request", "the conversation is already yours")
        previous = conv.agent
        try:
            await self.store.transition(conv, "transfer", receiver=Receiver(agent.username, 10_000))
        except Conflict:
            raise ProtocolError("invalid_state", "the conversation changed; reload it") from None
        await self.announcer.to_agent(
            previous, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "taken_over"}
        )
        await self.joins.leave(conv.id, agent.username)  # had joined it first: now it is theirs
        await self.transcript.system(conv, "transferred", agent=agent.display_name)
        await self._announce_assignment(conv, agent)
        return p.ok_ack()

    async def joined_chats(self, agent: Agent) -> List[LiveConversation]:
        """The assigned chats an admin has joined (for `agent_session`: a reload keeps them)."""
        if agent.role != "admin":
            return []
        cids: List[str] = []
        for other in await self.users.list():
            if other.username != agent.username:
                cids.extend(await self.store.agent_chats(other.username))
        return [
            conv
            for conv in await self.store.get_many(cids[:MAX_LIVE])
            if conv is not None and conv.state is State.ASSIGNED and agent.username in joined(conv)
        ]

    async def join_chat(self, agent: Agent, cid: str) -> Dict[str, Any]:
        """Read an assigned chat live and write into it; its agent keeps it. Returns the packet."""
        self._admin(agent)
        await self.joins.join(cid, agent.username)
        conv = await self.store.get(cid)
        assert conv is not None  # joining checked it exists; only erasure deletes a conversation
        packet = await self.packets.packet(conv, agent)
        await self.announcer.to_agent(agent.username, p.CONVERSATION, packet)  # the admin's other tabs
        return p.ok_ack(conversation=packet)

    async def leave_chat(self, agent: Agent, cid: str) -> Dict[str, Any]:
        """Stop following a joined chat (its other tabs get `unassigned`, reason `left`)."""
        self._admin(agent)
        if not await self.joins.leave(cid, agent.username):
            raise ProtocolError("bad_request", "you have not joined this conversation")
        await self.announcer.to_agent(
            agent.username, p.UNASSIGNED, {"conversation_id": cid, "reason": "left"}
        )
        return p.ok_ack()

    async def canned_save(self, agent: Agent, edit: d.CannedEdit) -> Dict[str, Any]:
        """Add or change the canned reply `id` in `lang` (every agent gets it at once)."""
        self._admin(agent)
        await CannedEdits(self.store.redis).save(edit.id, edit.lang, edit.title, edit.text, agent.username)
        return p.ok_ack()

    async def canned_delete(self, agent: Agent, edit: d.CannedEdit) -> Dict[str, Any]:
        self._admin(agent)
        await CannedEdits(self.store.redis).delete(edit.id, edit.lang, agent.username)
        return p.ok_ack()
