"""What agents can do (/agent): the session, the queue, claiming, reading, replying, typing,
translation, canned replies, colleagues, transfer, hand back, close, offline messages. Each handler
gets the agent and the parsed payload (handoff/routes.py) and returns the ack.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from handoff import desk_payloads as d
from handoff import protocol as p
from handoff.agents import Agent, UserStore
from handoff.announcer import Announcer
from handoff.canned import CannedEdits, CannedReply
from handoff.joining import Joins, joined, joined_field, watchers
from handoff.mailer import BadMail, Mailer, MailUnavailable, is_address
from handoff.packets import Packets
from handoff.protocol import ProtocolError, message_wire
from handoff.state import InvalidTransition, State
from handoff.store import Conflict, LiveConversation, Store
from handoff.supervision import SupervisorTools
from handoff.transcript import Transcript
from handoff.transitions import Receiver
from handoff.waiting import WaitingLine
from handoff.work_items import WorkItems


class AgentDesk(SupervisorTools):
    def __init__(
        self,
        store: Store,
        users: UserStore,
        announcer: Announcer,
        transcript: Transcript,
        waiting: WaitingLine,
        packets: Packets,
        canned: List[CannedReply],
        mailer: Optional[Mailer] = None,
    ) -> None:
        self.store, self.users, self.announcer, self.transcript = store, users, announcer, transcript
        self.waiting, self.packets, self.canned = waiting, packets, canned
        self.mailer = mailer or Mailer(None)
        self.work, self.joins = WorkItems(store), Joins(store)

    async def _own(self, agent: Agent, cid: str, allow_admin: bool = False) -> LiveConversation:
        conv = await self.store.get(cid)
        if conv is None:
            raise ProtocolError("not_found", f"no conversation {cid}")
        if conv.agent != agent.username and not (allow_admin and agent.role == "admin"):
            raise ProtocolError("forbidden", "this conversation is not assigned to you")
        return conv

    async def session(self, agent: Agent) -> Dict[str, Any]:
        """The `agent_session` event: the agent's conversations and queue view."""
        conversations = []
        for cid in await self.store.agent_chats(agent.username):
            conv = await self.store.get(cid)
            if conv and conv.state is State.ASSIGNED:
                conversations.append(await self.packets.packet(conv, agent))
        for conv in await self.joined_chats(agent):  # an admin's joined chats (supervision.py)
            conversations.append(await self.packets.packet(conv, agent))
        return {
            "agent": agent.to_wire(),
            "conversations": conversations,
            "queue": await self.waiting.view(agent),
            "status": (await self.waiting.presence.statuses()).get(agent.username, "online"),
        }

    async def queue(self, agent: Agent, _: None) -> Dict[str, Any]:
        return p.ok_ack(queue=await self.waiting.view(agent))

    async def claim(self, agent: Agent, cid: str) -> Dict[str, Any]:
        conv = await self.store.get(cid)
        if conv is None:
            raise ProtocolError("not_found", f"no conversation {cid}")
        if conv.state is not State.QUEUED:
            raise ProtocolError("taken", "this conversation is no longer waiting")
        now = time.time()
        if not self.waiting.offered(agent, conv, now):
            raise ProtocolError(
                "not_offered", "this conversation is offered to agents who speak its language first"
            )
        receiver = Receiver(agent.username, agent.capacity)
        try:
            await self.store.transition(conv, "claim", {"claimed_at": repr(now)}, receiver)
        except InvalidTransition:
            raise ProtocolError("taken", "another agent claimed this conversation first") from None
        except Conflict as conflict:
            if conflict.kind == "scard":
                raise ProtocolError("capacity", f"you already have {agent.capacity} conversations") from None
            raise ProtocolError("taken", "another agent claimed this conversation first") from None
        conv.claimed_at = now
        await self.transcript.system(conv, "assigned", agent=agent.display_name)
        packet = await self._announce_assignment(conv, agent)
        self.waiting.request_update()
        return p.ok_ack(conversation=packet)

    async def _announce_assignment(self, conv: LiveConversation, agent: Agent) -> Dict[str, Any]:
        """Tell the visitor (status) and every tab of the agent (the packet, also returned)."""
        translation = await self.packets.translation_state(conv, agent)
        if translation["enabled"] and not translation["available"]:
            await self.transcript.system(conv, "translation_unavailable")
        await self.waiting.publish_status(conv)
        packet = await self.packets.packet(conv, agent, translation)
        await self.announcer.to_agent(agent.username, p.CONVERSATION, packet)
        return packet

    async def open(self, agent: Agent, cid: str) -> Dict[str, Any]:
        """A conversation's packet: the agent's own, any for an admin, and a waiting one offered to
        the agent (its whole history, to read before claiming)."""
        conv = await self.store.get(cid)
        if conv is not None and conv.state is State.QUEUED and self.waiting.offered(agent, conv, time.time()):
            return p.ok_ack(conversation=await self.packets.packet(conv, agent))
        conv = await self._own(agent, cid, allow_admin=True)
        return p.ok_ack(conversation=await self.packets.packet(conv, agent))

    async def _own_or_joined(self, agent: Agent, cid: str) -> Tuple[LiveConversation, Tuple[str, str]]:
        """The conversation, and the guard its messages are stored with: still assigned to me, or
        (an admin who joined it, handoff/joining.py) still joined by me."""
        conv = await self.store.get(cid)
        if conv is not None and agent.username in joined(conv) and conv.agent != agent.username:
            return conv, (joined_field(agent.username), "1")
        return await self._own(agent, cid), ("agent", agent.username)

    async def message(self, agent: Agent, message: p.AgentMessage) -> Dict[str, Any]:
        conv, guard = await self._own_or_joined(agent, message.conversation_id)
        if conv.state is not State.ASSIGNED:
            raise ProtocolError("invalid_state", f"the conversation is {conv.state.value}")
        translation = await self.packets.translate_for_visitor(conv, agent, message.text)
        try:
            stored, _ = await self.transcript.add(
                conv,
                "agent",
                message.text,
                translation["lang"],
                {"agent": {"name": agent.display_name}},
                client_id=message.client_id,
                expect=(("state", State.ASSIGNED.value), guard),
                translated=translation["translated"],
            )
        except Conflict:
            raise ProtocolError("invalid_state", "the conversation is no longer assigned to you") from None
        return p.ok_ack(id=f"{conv.id}:{stored['seq']}", seq=stored["seq"])

    async def typing(self, agent: Agent, request: p.AgentTyping) -> None:
        conv = await self.store.get(request.conversation_id)
        mine = conv and (conv.agent == agent.username or agent.username in joined(conv))
        if mine and conv.state is State.ASSIGNED:
            await self.announcer.to_visitor(
                conv.visitor_id, p.TYPING, {"sender": "agent", "typing": request.typing}
            )

    async def set_translation(self, agent: Agent, request: p.SetTranslation) -> Dict[str, Any]:
        conv = await self._own(agent, request.conversation_id)
        choice = "on" if request.enabled else "off"
        await self.store.set_fields(conv.id, translation=choice)
        conv.translation = choice
        state = await self.packets.translation_state(conv, agent)
        if request.enabled and not state["available"]:
            await self.transcript.system(conv, "translation_unavailable")
        return p.ok_ack(translation=state)

    async def canned_replies(self, agent: Agent, lang: Any) -> Dict[str, Any]:
        replies = await CannedEdits(self.store.redis).effective(self.canned)
        return p.ok_ack(replies=[r for r in replies if lang is None or r["lang"] == lang])

    async def agents(self, agent: Agent, _: None) -> Dict[str, Any]:
        online = await self.waiting.online()
        statuses = await self.waiting.presence.statuses()
        items = []
        for other in await self.users.list():
            load = len(await self.store.agent_chats(other.username))
            status = statuses.get(other.username, "online") if other.username in online else "offline"
            items.append(
                {**other.to_wire(), "online": other.username in online, "status": status, "load": load}
            )
        return p.ok_ack(agents=items)

    async def add_note(self, agent: Agent, note: p.AgentMessage) -> Dict[str, Any]:
        """An internal note on a conversation of mine (admins: any): stored in the transcript with
        sender `note` (so it is in the SQL log), shown to agents only, never to the visitor."""
        conv = await self.store.get(note.conversation_id)
        if conv is None:
            raise ProtocolError("not_found", "no such conversation")
        if conv.agent != agent.username and agent.role != "admin":
            raise ProtocolError("forbidden", "notes go on your own conversations")
        body = {
            "sender": "note",
            "text": note.text,
            "lang": None,
            "meta": {"agent": {"name": agent.display_name, "username": agent.username}},
            "client_id": note.client_id,
        }
        stored, fresh = await self.store.append(conv.id, body, client_id=note.client_id)
        if fresh:
            wire = message_wire(stored, "agent")
            for username in {*watchers(conv), agent.username}:  # its agent, joined admins, the author
                await self.announcer.to_agent(username, p.MESSAGE, wire)
        return p.ok_ack(id=f"{conv.id}:{stored['seq']}", seq=stored["seq"])

    async def set_status(self, agent: Agent, status: str) -> Dict[str, Any]:
        """online / away / busy: away and busy agents are not counted for the visitors' estimate
        and the offline form, and take no transfers."""
        await self.waiting.presence.set_status(agent.username, status)
        self.waiting.request_update()
        return p.ok_ack(status=status)

    async def transfer(self, agent: Agent, request: p.Transfer) -> Dict[str, Any]:
        conv = await self._own(agent, request.conversation_id)
        target = await self.users.get(request.to)
        if target is None:
            raise ProtocolError("not_found", f"no agent {request.to}")
        if target.username == agent.username:
            raise ProtocolError("bad_request", "the conversation is already yours")
        if target.username not in await self.waiting.online():
            raise ProtocolError("offline", f"{target.display_name} is not online")
        if target.username not in await self.waiting.available():
            raise ProtocolError("offline", f"{target.display_name} is away or busy")
        try:
            await self.store.transition(conv, "transfer", receiver=Receiver(target.username, target.capacity))
        except Conflict as conflict:
            if conflict.kind == "scard":
                raise ProtocolError("capacity", f"{target.display_name} has no free capacity") from None
            raise ProtocolError("invalid_state", "the conversation changed; reload it") from None
        await self.announcer.to_agent(
            agent.username, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "transferred"}
        )
        await self.transcript.system(conv, "transferred", agent=target.display_name)
        await self._announce_assignment(conv, target)
        return p.ok_ack()

    async def handback(self, agent: Agent, cid: str) -> Dict[str, Any]:
        conv = await self._own(agent, cid)
        try:
            await self.store.transition(conv, "handback")
        except Conflict:
            raise ProtocolError("invalid_state", "the conversation changed; reload it") from None
        await self.announcer.to_watchers(
            conv, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "handed_back"}
        )
        await self.transcript.system(conv, "handback")
        await self.waiting.publish_status(conv)
        return p.ok_ack()

    async def close(self, agent: Agent, request: p.Close) -> Dict[str, Any]:
        conv = await self._own(agent, request.conversation_id, allow_admin=True)
        now = time.time()
        resolution = {"code": request.resolution, "note": request.note, "by": agent.username, "at": now}
        try:
            await self.store.transition(conv, "close", {"resolution": resolution, "closed_at": repr(now)})
        except Conflict:
            raise ProtocolError("invalid_state", "the conversation changed; reload it") from None
        conv.resolution = resolution
        await self.transcript.system(conv, "closed")
        await self.waiting.publish_status(conv)
        await self.announcer.to_watchers(conv, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "closed"})
        return p.ok_ack()

    async def offline_update(self, agent: Agent, update: d.OfflineUpdate) -> Dict[str, Any]:
        """An offline message as a work item: assign it (to anyone, or nobody), mark it done or open
        again. Kept in its `offline` field (and so in the SQL log); changed atomically
        (handoff/work_items.py), so two agents at once both count."""
        if update.assign and update.assignee is not None and await self.users.get(update.assignee) is None:
            raise ProtocolError("not_found", f"no agent {update.assignee}")
        now = time.time()

        def change(item: Dict[str, Any]) -> Dict[str, Any]:
            if update.assign:
                item["assignee"] = update.assignee
            if update.done is not None:
                item["done_at"], item["done_by"] = (now, agent.username) if update.done else (None, None)
            return item

        return p.ok_ack(offline=await self.work.update(update.conversation_id, change))

    async def offline_reply(self, agent: Agent, reply: p.AgentMessage) -> Dict[str, Any]:
        """Answer an offline message by email to its contact; the reply is kept with the item, which
        becomes the replying agent's (unless someone has it)."""
        item = await self.work.get(reply.conversation_id)
        contact = str(item.get("contact") or "")
        if not is_address(contact):
            raise ProtocolError("invalid_state", "the visitor left no email address to reply to")
        if any(r.get("client_id") == reply.client_id for r in item.get("replies") or []):
            return p.ok_ack(offline=item)  # a retry: sent once
        try:
            await self.mailer.send(contact, "Re: your message to our support team", reply.text)
        except MailUnavailable as exc:
            raise ProtocolError("unavailable", str(exc)) from None
        except BadMail as exc:
            raise ProtocolError("bad_request", str(exc)) from None
        sent = {"by": agent.username, "at": time.time(), "text": reply.text, "client_id": reply.client_id}

        def change(item: Dict[str, Any]) -> Optional[Dict[str, Any]]:
            replies = list(item.get("replies") or [])
            if any(r.get("client_id") == reply.client_id for r in replies):
                return None
            item.update(replies=[*replies, sent], assignee=item.get("assignee") or agent.username)
            return item

        return p.ok_ack(offline=await self.work.update(reply.conversation_id, change))

    async def offline_messages(self, agent: Agent, _: None) -> Dict[str, Any]:
        items = []
        for cid in await self.store.offline_items():
            conv = await self.store.get(cid)
            if conv:
                items.append(await self.packets.packet(conv, agent))
        return p.ok_ack(items=items, email=self.mailer.configured)
