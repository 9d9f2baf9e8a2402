"""What visitors can do (/chat): their messages, asking for a person, the offline form, history,
typing, language, leaving, pre-chat answers, rating. Each handler gets the visitor id and the
parsed payload (handoff/routes.py) and returns the ack.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Optional

from handoff import protocol as p
from handoff.announcer import Announcer
from handoff.bot_context import escalation_context
from handoff.bot_turn import BotTurn
from handoff.mailer import BadMail, Mailer, MailUnavailable
from handoff.packets import Packets
from handoff.protocol import ProtocolError, message_wire
from handoff.state import State
from handoff.store import Store, VisitorTurn
from handoff.transcript import Transcript
from handoff.waiting import WaitingLine

MAX_TRANSCRIPT_EMAILS = 3


class VisitorDesk:
    def __init__(
        self,
        store: Store,
        announcer: Announcer,
        transcript: Transcript,
        waiting: WaitingLine,
        bot: BotTurn,
        packets: Packets,
        mailer: Optional[Mailer] = None,
    ) -> None:
        self.store, self.announcer, self.transcript = store, announcer, transcript
        self.waiting, self.bot, self.packets = waiting, bot, packets
        self.mailer = mailer or Mailer(None)

    async def session(self, vid: str, last_seq: int, known_cid: Optional[str] = None) -> Dict[str, Any]:
        """The `session` event (without the token): the latest conversation after `last_seq`."""
        cid = await self.store.latest_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if known_cid and conv and known_cid != conv.id:
            last_seq = 0  # the client's copy is of another conversation: send this one whole
        messages = await self.store.messages(conv.id, last_seq) if conv else []
        return {
            "visitor_id": vid,
            "conversation_id": conv.id if conv else None,
            "messages": [message_wire(m, "visitor") for m in messages if m["sender"] != "note"],
            "status": await self.waiting.status(conv),
        }

    async def message(self, vid: str, message: p.VisitorMessage) -> Dict[str, Any]:
        """Stored (one round trip) and acked; then echoed, and handed to the bot or the agent."""
        turn = await self.store.visitor_message(vid, message.text, message.client_id)
        if turn.fresh:
            self.announcer.spawn(self._after_message(turn))
        stored, cid = turn.message, turn.conversation.id
        return p.ok_ack(id=f"{cid}:{stored['seq']}", seq=stored["seq"], conversation_id=cid)

    async def _after_message(self, turn: VisitorTurn) -> None:
        conv, stored = turn.conversation, turn.message
        await self.announcer.to_visitor(conv.visitor_id, p.MESSAGE, message_wire(stored, "visitor"))
        if turn.created:  # a new conversation (after a closed one): the widget leaves "ended"
            await self.waiting.publish_status(conv)
        if conv.state is State.BOT:
            await self.bot.run(conv, stored, turn.chosen_language)
        elif conv.state is State.ASSIGNED and conv.agent:
            stored = await self.packets.translate_for_agent(conv, stored)
            await self.announcer.to_watchers(conv, p.MESSAGE, message_wire(stored, "agent"))
        elif conv.state is State.QUEUED:
            self.waiting.request_update()

    async def request_human(self, vid: str, _: None) -> Dict[str, Any]:
        conv, _created = await self.store.open_or_create(vid)
        if conv.state is State.BOT:
            # The bot's context (intents tried, FAQ topic) goes with it, as in the bot's own event.
            context = escalation_context(await self.store.messages(conv.id), conv.language)
            escalation = {"reason": "requested", "source": "service", "language": conv.language, **context}
            await self.waiting.escalate(conv, escalation)
        return p.ok_ack(state=conv.state.value, conversation_id=conv.id)

    async def offline_message(self, vid: str, offline: p.OfflineMessage) -> Dict[str, Any]:
        """The offline form: the visitor's message and the `offline` step happen together or not at all."""
        cid = await self.store.open_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv is None or conv.state is not State.QUEUED or not await self.waiting.is_offline():
            raise ProtocolError(
                "invalid_state", "the offline form is open only while waiting with no agent online"
            )
        now = time.time()
        message = {
            "sender": "visitor",
            "text": offline.text,
            "lang": conv.language or None,
            "meta": {"offline": True, "contact": offline.contact},
            "client_id": offline.client_id,
        }
        fields = {
            "offline": {"contact": offline.contact, "text": offline.text, "at": now},
            "closed_at": repr(now),
        }
        _, stored = await self.store.transition(conv, "offline", fields, message=message)
        assert stored is not None
        await self.announcer.message(conv, stored)
        await self.transcript.system(conv, "offline_received")
        await self.waiting.publish_status(conv)
        self.waiting.request_update()
        return p.ok_ack(id=f"{conv.id}:{stored['seq']}", seq=stored["seq"])

    async def history(self, vid: str, after: int) -> Dict[str, Any]:
        cid = await self.store.latest_conversation_id(vid)
        messages = await self.store.messages(cid, after) if cid else []
        shown = [message_wire(m, "visitor") for m in messages if m["sender"] != "note"]  # notes: agents only
        return p.ok_ack(conversation_id=cid, messages=shown)

    async def typing(self, vid: str, typing: bool) -> None:
        cid = await self.store.open_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv and conv.state is State.ASSIGNED and conv.agent:
            await self.announcer.to_watchers(
                conv, p.TYPING, {"conversation_id": conv.id, "sender": "visitor", "typing": typing}
            )

    async def set_language(self, vid: str, language: str) -> Dict[str, Any]:
        await self.store.touch_visitor(vid, language=language)
        cid = await self.store.open_conversation_id(vid)
        if cid:
            await self.store.set_fields(cid, language=language)
        return p.ok_ack(language=language)

    async def leave(self, vid: str, _: None) -> Dict[str, Any]:
        cid = await self.store.open_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv is None:
            return p.ok_ack(state=State.CLOSED.value)
        now = time.time()
        agent = conv.agent
        fields: Dict[str, Any] = {"closed_at": repr(now)}
        if conv.state is State.BOT:
            await self.store.transition(conv, "end", fields)
        elif conv.state is State.QUEUED:
            await self.store.transition(conv, "abandon", fields)
        elif conv.state is State.ASSIGNED:
            fields["resolution"] = {"code": None, "by": "visitor", "note": "the visitor left", "at": now}
            await self.store.transition(conv, "close", fields)
        await self.transcript.system(conv, "closed")
        await self.waiting.publish_status(conv)
        if agent:  # its agent and the admins who joined it
            await self.announcer.to_watchers(
                conv, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "visitor_left"}
            )
        self.waiting.request_update()
        return p.ok_ack(state=State.CLOSED.value)

    async def set_info(self, vid: str, info: Dict[str, str]) -> Dict[str, Any]:
        if info:
            await self.store.touch_visitor(vid, info=json.dumps(info, ensure_ascii=False))
        return p.ok_ack()

    async def rate(self, vid: str, rating: p.Rating) -> Dict[str, Any]:
        """The visitor's satisfaction rating (1-5, optional comment and "was it resolved?") of their
        latest conversation, once it is closed. Rating again replaces the earlier rating."""
        cid = await self.store.latest_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv is None or conv.state is not State.CLOSED:
            raise ProtocolError("invalid_state", "a conversation can be rated once it is closed")
        value = {
            "score": rating.score,
            "comment": rating.comment,
            "resolved": rating.resolved,
            "at": time.time(),
        }
        await self.store.set_fields(conv.id, rating=value)
        if conv.agent:  # the agent who had the chat sees the rating in its packet
            agent = await self.waiting.users.get(conv.agent)
            rated = await self.store.get(conv.id)
            if agent is not None and rated is not None:
                conv = rated
                packet = await self.packets.packet(conv, agent)
                await self.announcer.to_agent(agent.username, p.CONVERSATION, packet)
        return p.ok_ack(conversation_id=conv.id)

    async def email_transcript(self, vid: str, email: str) -> Dict[str, Any]:
        """The visitor's latest conversation, as they saw it (no agents' notes), to `email`; at most
        MAX_TRANSCRIPT_EMAILS times per conversation."""
        cid = await self.store.latest_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv is None:
            raise ProtocolError("invalid_state", "there is no conversation to send yet")
        sent = int(conv.raw.get("transcript_emails") or 0)
        if sent >= MAX_TRANSCRIPT_EMAILS:
            raise ProtocolError("invalid_state", "the transcript was already sent by email")
        lines = []
        for m in await self.store.messages(conv.id):
            if m["sender"] == "note":
                continue
            who = ((m.get("meta") or {}).get("agent") or {}).get("name") or m["sender"].capitalize()
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(m.get("at") or 0))
            lines.append(f"[{when} UTC] {who}: {m['text']}")
        try:
            await self.mailer.send(email, "Your chat transcript", "\n".join(lines) + "\n")
        except MailUnavailable as exc:
            raise ProtocolError("unavailable", str(exc)) from None
        except BadMail as exc:
            raise ProtocolError("bad_request", str(exc)) from None
        await self.store.set_fields(conv.id, transcript_emails=sent + 1)
        return p.ok_ack(conversation_id=conv.id)
