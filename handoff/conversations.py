"""What happens in a conversation: the bot turn, escalation, the queue, agents, translation, closing.

`Handoff` holds the logic; handoff/sockets.py only turns socket events into
calls here and results into acks. Every change is persisted (handoff/store.py)
before it is acknowledged or announced; announcements go through the
Socket.IO server's rooms, which the Redis client manager shares between
service processes:

- `visitor:<vid>` on /chat: every tab of one visitor;
- `agent:<username>` on /agent: every tab of one agent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Dict, List, Optional, Tuple

from handoff import protocol as p
from handoff.auth import Agent, UserStore
from handoff.hours import OpeningHours
from handoff.protocol import ProtocolError, message_wire
from handoff.rasa_client import BotReply, BotUnavailable, RasaClient
from handoff.state import InvalidTransition, Resolution, State
from handoff.store import Change, Conflict, Conversation, NotFound, Store, chats_key, open_key
from handoff.texts import Texts
from handoff.translation import LiveTranslator, TranslationUnavailable

log = logging.getLogger("handoff")

RESOLUTION_CODES = frozenset(r.value for r in Resolution)
REQUEST_HUMAN_PAYLOAD = "/request_human"
PREVIEW_CHARS = 140
QUEUE_UPDATE_DELAY = 0.05  # seconds: queue changes within this window are announced together


@dataclass
class QueueSnapshot:
    online: Dict[str, int]  # username -> live sockets
    offline: bool  # no agent online, or outside opening hours
    mean_wait: float  # seconds, the last 20 waits (or the default)
    entries: List[Tuple[Conversation, float]]  # queued conversations with queued_at, in order


@dataclass
class CannedReply:
    id: str
    title: str
    texts: Dict[str, str]


class Handoff:
    def __init__(
        self,
        *,
        store: Store,
        users: UserStore,
        rasa: RasaClient,
        translator: LiveTranslator,
        texts: Texts,
        canned: List[CannedReply],
        hours: OpeningHours,
        sio: Any,
        route_all_after: int = 60,
        agent_grace: int = 60,
        default_wait: int = 120,
        sweep_interval: float = 2.0,
        bot_idle: int = 1800,
    ) -> None:
        self.store, self.users, self.rasa, self.translator = store, users, rasa, translator
        self.texts, self.canned, self.hours, self.sio = texts, canned, hours, sio
        self.route_all_after, self.agent_grace = route_all_after, agent_grace
        self.default_wait, self.sweep_interval = default_wait, sweep_interval
        self.bot_idle = bot_idle
        self.instance = secrets.token_hex(6)
        self.local_agents: Dict[str, str] = {}  # socket id -> username, sockets of this process
        # one bot turn at a time per conversation; a lock lives only while someone holds it
        self._bot_locks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._queue_dirty = self._queue_flushing = False
        self._last_queue_views: Dict[str, Any] = {}
        self._last_statuses: Dict[str, Any] = {}

    # --- announcing -----------------------------------------------------------

    async def to_visitor(self, vid: str, event: str, data: Any) -> None:
        await self.sio.emit(event, data, room=f"visitor:{vid}", namespace=p.CHAT_NAMESPACE)

    async def to_agent(self, username: str, event: str, data: Any) -> None:
        await self.sio.emit(event, data, room=f"agent:{username}", namespace=p.AGENT_NAMESPACE)

    async def publish(self, conv: Conversation, stored: Dict[str, Any]) -> None:
        await self.to_visitor(conv.visitor_id, p.MESSAGE, message_wire(stored, "visitor"))
        if conv.agent:
            await self.to_agent(conv.agent, p.MESSAGE, message_wire(stored, "agent"))

    async def add_message(
        self,
        conv: Conversation,
        sender: str,
        text: str,
        lang: Optional[str],
        meta: Optional[Dict[str, Any]] = None,
        client_id: str = "",
        expect: Tuple[Tuple[str, str], ...] = (),
        publish: bool = True,
        **extra: Any,
    ) -> Tuple[Dict[str, Any], bool]:
        body = {"conversation_id": conv.id, "sender": sender, "text": text, "lang": lang, "meta": meta or {}}
        body.update({k: v for k, v in extra.items() if v is not None})
        if client_id:
            body["client_id"] = client_id
        seq, stored = await self.store.append(conv.id, body, client_id=client_id, expect=expect)
        message = await self.store.message(conv.id, seq)
        assert message is not None
        if stored and publish:
            await self.publish(conv, message)
        return message, stored

    async def system(
        self, conv: Conversation, kind: str, note: Optional[str] = None, **values: str
    ) -> Dict[str, Any]:
        """A system message in the visitor's language; `note` is for agents (meta.note)."""
        text, lang = self.texts.get(kind, conv.language or "en", **values)
        meta: Dict[str, Any] = {"kind": kind}
        if note:
            meta["note"] = note
        if kind == "bot_unavailable":
            title, _ = self.texts.get("button_human", conv.language or "en")
            meta["buttons"] = [{"title": title, "payload": REQUEST_HUMAN_PAYLOAD}]
        message, _ = await self.add_message(conv, "system", text, lang, meta)
        return message

    # --- status, queue views ------------------------------------------------

    async def is_offline(self, online: Optional[Dict[str, int]] = None) -> bool:
        if not self.hours.is_open(datetime.now(UTC)):
            return True
        if online is None:
            online = await self.store.online_agents(self.stale_after)
        return not online

    @property
    def stale_after(self) -> float:
        return max(3 * self.sweep_interval, 10.0)

    async def _queue_snapshot(self, with_entries: bool = True) -> QueueSnapshot:
        """Everything queue views and waiting visitors' statuses need, read once. Without entries
        (one visitor's status) the queued conversations themselves are not read."""
        online = await self.store.online_agents(self.stale_after)
        waits = await self.store.recent_waits()
        entries = []
        for cid, queued_at in await self.store.queue() if with_entries else []:
            conv = await self.store.get(cid)
            if conv is not None and conv.state is State.QUEUED:
                entries.append((conv, queued_at))
        return QueueSnapshot(
            online=online,
            offline=await self.is_offline(online),
            mean_wait=sum(waits) / len(waits) if waits else float(self.default_wait),
            entries=entries,
        )

    def _queued_status(self, snapshot: QueueSnapshot, position: int) -> Dict[str, Any]:
        eta = math.ceil(position * snapshot.mean_wait / max(1, len(snapshot.online)))
        return p.Status(State.QUEUED.value, position, eta, None, snapshot.offline).to_wire()

    async def status(self, conv: Optional[Conversation]) -> Dict[str, Any]:
        if conv is None:
            return p.Status(State.BOT.value).to_wire()
        if conv.state is State.QUEUED:
            snapshot = await self._queue_snapshot(with_entries=False)
            return self._queued_status(snapshot, await self.store.queue_position(conv.id) or 1)
        if conv.state is State.ASSIGNED and conv.agent:
            agent = await self.users.get(conv.agent)
            name = agent.display_name if agent else conv.agent
            return p.Status(conv.state.value, agent={"name": name}).to_wire()
        return p.Status(conv.state.value).to_wire()

    async def publish_status(self, conv: Conversation) -> None:
        status = await self.status(conv)
        self._last_statuses[conv.id] = status
        await self.to_visitor(conv.visitor_id, p.STATUS, status)

    def offered(self, agent: Agent, conv: Conversation, now: float) -> bool:
        if agent.role == "admin" or not conv.language or conv.language in agent.languages:
            return True
        return now - (conv.queued_at or now) >= self.route_all_after

    async def _preview(self, conv: Conversation) -> str:
        for message in reversed(await self.store.messages(conv.id, max(0, conv.last_seq - 10))):
            if message["sender"] == "visitor":
                return message["text"][:PREVIEW_CHARS]
        return ""

    async def queue_view(
        self,
        agent: Agent,
        snapshot: Optional[QueueSnapshot] = None,
        previews: Optional[Dict[str, str]] = None,
    ) -> List[Dict[str, Any]]:
        snapshot = snapshot or await self._queue_snapshot()
        previews = {} if previews is None else previews
        now, entries = time.time(), []
        for conv, queued_at in snapshot.entries:
            if not self.offered(agent, conv, now):
                continue
            if conv.id not in previews:
                previews[conv.id] = await self._preview(conv)
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

    def request_queue_update(self) -> None:
        """Announce a queue change soon. Bursts (fifty escalations, a claim race) coalesce into one
        update per process, instead of one full recomputation and fan-out per event."""
        self._queue_dirty = True
        if not self._queue_flushing:
            self._queue_flushing = True
            self.spawn(self._flush_queue_updates())

    async def _flush_queue_updates(self) -> None:
        try:
            while self._queue_dirty:
                self._queue_dirty = False
                await asyncio.sleep(QUEUE_UPDATE_DELAY)
                await self.queue_changed()
        finally:
            self._queue_flushing = False

    async def queue_changed(self, force: bool = True) -> None:
        """Send each online agent their queue view, and each waiting visitor their position.
        With force=False only what changed since this process last sent it (the periodic sweep)."""
        snapshot = await self._queue_snapshot()
        previews: Dict[str, str] = {}
        for username in snapshot.online:
            agent = await self.users.get(username)
            if agent is None:
                continue
            view = await self.queue_view(agent, snapshot, previews)
            key = [(e["conversation_id"], e["offered_to_all"], e["preview"]) for e in view]
            if force or self._last_queue_views.get(username) != key:
                self._last_queue_views[username] = key
                await self.to_agent(username, p.QUEUE, {"queue": view})
        waiting = set()
        for position, (conv, _) in enumerate(snapshot.entries, 1):
            waiting.add(conv.id)
            status = self._queued_status(snapshot, position)
            if force or self._last_statuses.get(conv.id) != status:
                self._last_statuses[conv.id] = status
                await self.to_visitor(conv.visitor_id, p.STATUS, status)
        for cid in [cid for cid in self._last_statuses if cid not in waiting]:
            del self._last_statuses[cid]  # keep this cache to the conversations still waiting

    # --- visitors -----------------------------------------------------------

    async def visitor_session(
        self, vid: str, last_seq: int, known_cid: Optional[str] = None
    ) -> Dict[str, Any]:
        cid = await self.store.latest_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if known_cid and conv and known_cid != conv.id:
            last_seq = 0  # the client's copy is of another conversation: send this one whole
        messages = await self.store.messages(conv.id, last_seq) if conv else []
        return {
            "visitor_id": vid,
            "conversation_id": conv.id if conv else None,
            "messages": [message_wire(m, "visitor") for m in messages],
            "status": await self.status(conv),
        }

    async def visitor_message(self, vid: str, payload: Any) -> Dict[str, Any]:
        message = p.VisitorMessage.parse(payload)
        visitor = await self.store.visitor(vid)
        conv, _ = await self.store.open_or_create(vid, visitor.get("language", ""))
        lang = conv.language or None
        stored, fresh = await self.add_message(
            conv, "visitor", message.text, lang, client_id=message.client_id, publish=False
        )
        if fresh:
            self.spawn(self._after_visitor_message(conv.id, stored))
        return p.ok_ack(id=f"{conv.id}:{stored['seq']}", seq=stored["seq"], conversation_id=conv.id)

    def spawn(self, coroutine: Any) -> None:
        self.sio.start_background_task(self._guarded, coroutine)

    @staticmethod
    async def _guarded(coroutine: Any) -> None:
        try:
            await coroutine
        except Exception:  # a background failure must not kill the server; it is logged
            log.exception("background task failed")

    async def _after_visitor_message(self, cid: str, stored: Dict[str, Any]) -> None:
        conv = await self.store.require(cid)
        await self.to_visitor(conv.visitor_id, p.MESSAGE, message_wire(stored, "visitor"))
        if conv.state is State.BOT:
            await self.bot_turn(conv, stored)
        elif conv.state is State.ASSIGNED and conv.agent:
            stored = await self.translate_for_agent(conv, stored)
            await self.to_agent(conv.agent, p.MESSAGE, message_wire(stored, "agent"))
        elif conv.state is State.QUEUED:
            self.request_queue_update()

    async def bot_turn(self, conv: Conversation, stored: Dict[str, Any]) -> None:
        lock = self._bot_locks.get(conv.id)
        if lock is None:
            lock = self._bot_locks[conv.id] = asyncio.Lock()
        async with lock:
            visitor = await self.store.visitor(conv.visitor_id)
            metadata = {"conversation_language": conv.language or None}
            if visitor.get("language"):
                metadata["language"] = visitor["language"]
            try:
                replies = await self.rasa.send(conv.id, stored["text"], metadata)
            except BotUnavailable as exc:
                log.warning("bot unavailable for %s: %s", conv.id, exc)
                if stored["text"].strip() == REQUEST_HUMAN_PAYLOAD:
                    await self.escalate(conv, {"reason": "requested", "source": "service"})
                else:
                    await self.system(conv, "bot_unavailable")
                return
            for reply in replies:
                await self._store_bot_reply(conv, stored, reply)
            handoff = next((r.handoff for r in replies if r.handoff), None)
            if handoff:
                await self.escalate(conv, handoff, announced_by_bot=True)

    async def _store_bot_reply(
        self, conv: Conversation, visitor_msg: Dict[str, Any], reply: BotReply
    ) -> None:
        meta = {
            k: reply.meta.get(k)
            for k in ("reply", "topic", "intent_confidence", "machine_translated", "requested_lang", "notes")
            if reply.meta.get(k) is not None
        }
        if reply.buttons:
            meta["buttons"] = reply.buttons
        detected = reply.meta.get("requested_lang")
        if detected and detected != conv.language:
            conv.language = detected
            await self.store.set_fields(conv.id, language=detected)
        if detected and visitor_msg.get("lang") != detected:
            visitor_msg.update(await self.store.update_message(conv.id, visitor_msg["seq"], lang=detected))
        if reply.resolution:
            await self.store.set_fields(conv.id, bot_resolution={**reply.resolution, "at": time.time()})
        if reply.text:
            await self.add_message(conv, "bot", reply.text, reply.meta.get("lang") or conv.language, meta)

    async def escalate(
        self, conv: Conversation, escalation: Dict[str, Any], announced_by_bot: bool = False
    ) -> None:
        now = time.time()
        language = escalation.get("language") or conv.language or ""
        change = Change().set(queued_at=repr(now), escalation=escalation, language=language)
        change.zadd("queue", now, conv.id)
        await self.store.transition(conv, "escalate", change)
        conv.queued_at, conv.language, conv.escalation = now, language, escalation
        if await self.is_offline():
            await self.system(conv, "offline")
        elif not announced_by_bot:
            await self.system(conv, "queued")
        self.request_queue_update()  # sends every waiting visitor, this one included, their status

    async def request_human(self, vid: str, payload: Any) -> Dict[str, Any]:
        p.object_payload(payload, "{}")
        visitor = await self.store.visitor(vid)
        conv, _ = await self.store.open_or_create(vid, visitor.get("language", ""))
        if conv.state is State.BOT:
            await self.escalate(conv, {"reason": "requested", "source": "service", "language": conv.language})
        return p.ok_ack(state=conv.state.value, conversation_id=conv.id)

    async def offline_message(self, vid: str, payload: Any) -> Dict[str, Any]:
        offline = p.OfflineMessage.parse(payload)
        cid = await self.store.open_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv is None or conv.state is not State.QUEUED or not await self.is_offline():
            raise ProtocolError(
                "invalid_state", "the offline form is open only while waiting with no agent online"
            )
        stored, fresh = await self.add_message(
            conv,
            "visitor",
            offline.text,
            conv.language or None,
            {"offline": True, "contact": offline.contact},
            client_id=offline.client_id,
        )
        if fresh:
            now = time.time()
            change = Change().set(
                offline={"contact": offline.contact, "text": offline.text, "at": now}, closed_at=repr(now)
            )
            change.zrem("queue", conv.id).zadd("offline", now, conv.id).del_if(open_key(vid), conv.id)
            await self.store.transition(conv, "offline", change)
            await self.system(conv, "offline_received")
            await self.publish_status(conv)
            self.request_queue_update()
        return p.ok_ack(id=f"{conv.id}:{stored['seq']}", seq=stored["seq"])

    async def history(self, vid: str, payload: Any) -> Dict[str, Any]:
        after = p.after_seq(payload)
        cid = await self.store.latest_conversation_id(vid)
        messages = await self.store.messages(cid, after) if cid else []
        return p.ok_ack(conversation_id=cid, messages=[message_wire(m, "visitor") for m in messages])

    async def visitor_typing(self, vid: str, payload: Any) -> None:
        typing = p.flag(payload, "typing")
        cid = await self.store.open_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv and conv.state is State.ASSIGNED and conv.agent:
            await self.to_agent(
                conv.agent, p.TYPING, {"conversation_id": conv.id, "sender": "visitor", "typing": typing}
            )

    async def set_language(self, vid: str, payload: Any) -> Dict[str, Any]:
        language = p.language(payload)
        assert language is not None
        await self.store.touch_visitor(vid, language=language)
        cid = await self.store.open_conversation_id(vid)
        if cid:
            await self.store.set_fields(cid, language=language)
        return p.ok_ack(language=language)

    async def leave(self, vid: str, payload: Any) -> Dict[str, Any]:
        p.object_payload(payload, "{}")
        cid = await self.store.open_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv is None:
            return p.ok_ack(state=State.CLOSED.value)
        now = time.time()
        change = Change().set(closed_at=repr(now)).del_if(open_key(vid), conv.id)
        agent = conv.agent
        if conv.state is State.BOT:
            await self.store.transition(conv, "end", change)
        elif conv.state is State.QUEUED:
            await self.store.transition(conv, "abandon", change.zrem("queue", conv.id))
        elif conv.state is State.ASSIGNED:
            change.set(resolution={"code": None, "by": "visitor", "note": "the visitor left", "at": now})
            await self.store.transition(conv, "close", change.srem(chats_key(agent), conv.id))
        await self.system(conv, "closed")
        await self.publish_status(conv)
        if agent:
            await self.to_agent(agent, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "visitor_left"})
        self.request_queue_update()
        return p.ok_ack(state=State.CLOSED.value)

    async def set_visitor_info(self, vid: str, payload: Any) -> Dict[str, Any]:
        info = p.visitor_info(payload)
        if info:
            await self.store.touch_visitor(vid, info=json.dumps(info, ensure_ascii=False))
        return p.ok_ack()

    async def rate(self, vid: str, payload: Any) -> Dict[str, Any]:
        """The visitor's satisfaction rating (1-5, optional comment and "was it resolved?") of their
        latest conversation, once it is closed. Rating again replaces the earlier rating."""
        rating = p.Rating.parse(payload)
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
        return p.ok_ack(conversation_id=conv.id)

    # --- agents: the packet and translation ---------------------------------

    async def translation_state(self, conv: Conversation, agent: Optional[Agent]) -> Dict[str, Any]:
        visitor_lang = conv.language or "en"
        agent_lang = agent.languages[0] if agent and agent.languages else "en"
        speaks = agent is None or visitor_lang in agent.languages
        enabled = {"on": True, "off": False}.get(conv.translation, not speaks)
        reason = await self.translator.why_not(visitor_lang, agent_lang) or await self.translator.why_not(
            agent_lang, visitor_lang
        )
        return {
            "enabled": enabled,
            "available": reason is None,
            "visitor_lang": visitor_lang,
            "agent_lang": agent_lang,
            "reason": reason,
        }

    async def packet(self, conv: Conversation, agent: Optional[Agent]) -> Dict[str, Any]:
        visitor = await self.store.visitor(conv.visitor_id)
        earlier = []
        for cid in await self.store.visitor_conversations(conv.visitor_id):
            if cid == conv.id:
                continue
            other = await self.store.get(cid)
            if other:
                earlier.append(
                    {
                        "conversation_id": cid,
                        "started_at": other.created_at,
                        "state": other.state.value,
                        "resolution": (other.resolution or other.bot_resolution or {}).get("code")
                        or ("resolved_by_bot" if other.bot_resolution else None),
                    }
                )
        assigned = await self.users.get(conv.agent) if conv.agent else None
        now = time.time()
        wait_until = conv.claimed_at if conv.claimed_at and conv.state is not State.QUEUED else now
        return {
            "conversation_id": conv.id,
            "state": conv.state.value,
            "language": conv.language,
            "agent": {"username": assigned.username, "name": assigned.display_name} if assigned else None,
            "queued_at": conv.queued_at,
            "wait_seconds": int(wait_until - conv.queued_at) if conv.queued_at else None,
            "escalation": conv.escalation,
            "visitor": {
                "visitor_id": conv.visitor_id,
                "page": visitor.get("page"),
                "locale": visitor.get("locale"),
                "language": visitor.get("language"),
                "verified_id": visitor.get("verified_id"),
                "info": json.loads(visitor["info"]) if visitor.get("info") else None,
                "returning": bool(earlier),
                "earlier_conversations": earlier,
            },
            "translation": await self.translation_state(conv, agent),
            "resolution": conv.resolution,
            "rating": json.loads(conv.raw["rating"]) if conv.raw.get("rating") else None,
            "offline": conv.offline,
            "messages": [message_wire(m, "agent") for m in await self.store.messages(conv.id)],
        }

    async def translate_for_agent(self, conv: Conversation, stored: Dict[str, Any]) -> Dict[str, Any]:
        agent = await self.users.get(conv.agent) if conv.agent else None
        state = await self.translation_state(conv, agent)
        if not (state["enabled"] and state["available"]):
            return stored
        source = stored.get("lang") or state["visitor_lang"]
        if source == state["agent_lang"]:
            return stored
        try:
            translation = await self.translator.translate(stored["text"], source, state["agent_lang"])
        except TranslationUnavailable as exc:
            log.warning("translation for agent failed: %s", exc.reason)
            return await self.store.update_message(conv.id, stored["seq"], translation_error=exc.reason)
        return await self.store.update_message(
            conv.id, stored["seq"], translation={"text": translation.text, "lang": translation.target}
        )

    # --- agents: events -----------------------------------------------------

    async def _own(self, agent: Agent, cid: str, allow_admin: bool = False) -> Conversation:
        try:
            conv = await self.store.require(cid)
        except NotFound:
            raise ProtocolError("not_found", f"no conversation {cid}") from None
        if conv.agent != agent.username and not (allow_admin and agent.role == "admin"):
            raise ProtocolError("forbidden", "this conversation is not assigned to you")
        return conv

    async def agent_session(self, agent: Agent) -> Dict[str, Any]:
        conversations = []
        for cid in await self.store.agent_chats(agent.username):
            conv = await self.store.get(cid)
            if conv and conv.state is State.ASSIGNED:
                conversations.append(await self.packet(conv, agent))
        return {
            "agent": agent.to_wire(),
            "conversations": conversations,
            "queue": await self.queue_view(agent),
        }

    async def claim(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        cid = p.conversation_ref(payload)
        conv = await self.store.get(cid)
        if conv is None:
            raise ProtocolError("not_found", f"no conversation {cid}")
        if conv.state is not State.QUEUED:
            raise ProtocolError("taken", "this conversation is no longer waiting")
        now = time.time()
        if not self.offered(agent, conv, now):
            raise ProtocolError(
                "not_offered", "this conversation is offered to agents who speak its language first"
            )
        change = Change().expect("agent", "").below_capacity(agent.username, agent.capacity)
        change.set(agent=agent.username, claimed_at=repr(now)).zrem("queue", cid).sadd(
            chats_key(agent.username), cid
        )
        if conv.queued_at:
            change.push_trim("waits", round(now - conv.queued_at, 3), 20)
        try:
            await self.store.transition(conv, "claim", change)
        except InvalidTransition:
            raise ProtocolError("taken", "another agent claimed this conversation first") from None
        except Conflict as conflict:
            if conflict.kind == "scard":
                raise ProtocolError("capacity", f"you already have {agent.capacity} conversations") from None
            raise ProtocolError("taken", "another agent claimed this conversation first") from None
        conv.agent, conv.claimed_at = agent.username, now
        await self.system(conv, "assigned", agent=agent.display_name)
        await self._announce_assignment(conv, agent)
        self.request_queue_update()
        return p.ok_ack(conversation=await self.packet(conv, agent))

    async def _announce_assignment(self, conv: Conversation, agent: Agent) -> None:
        translation = await self.translation_state(conv, agent)
        if translation["enabled"] and not translation["available"]:
            await self.system(conv, "translation_unavailable")
        await self.publish_status(conv)
        await self.to_agent(agent.username, p.CONVERSATION, await self.packet(conv, agent))

    async def open(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        """A conversation's packet: the agent's own, any for an admin, and a waiting one offered to
        the agent (its whole history, to read before claiming)."""
        cid = p.conversation_ref(payload)
        conv = await self.store.get(cid)
        if conv is not None and conv.state is State.QUEUED and self.offered(agent, conv, time.time()):
            return p.ok_ack(conversation=await self.packet(conv, agent))
        conv = await self._own(agent, cid, allow_admin=True)
        return p.ok_ack(conversation=await self.packet(conv, agent))

    async def agent_message(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        message = p.AgentMessage.parse(payload)
        conv = await self._own(agent, message.conversation_id)
        if conv.state is not State.ASSIGNED:
            raise ProtocolError("invalid_state", f"the conversation is {conv.state.value}")
        state = await self.translation_state(conv, agent)
        translated = None
        agent_lang = state["agent_lang"]
        if state["enabled"] and state["available"] and state["visitor_lang"] != agent_lang:
            try:
                result = await self.translator.translate(message.text, agent_lang, state["visitor_lang"])
                translated = {"text": result.text, "lang": result.target}
            except TranslationUnavailable as exc:
                log.warning("translation for visitor failed: %s", exc.reason)
        try:
            stored, _ = await self.add_message(
                conv,
                "agent",
                message.text,
                agent_lang if state["enabled"] else (conv.language or agent_lang),
                {"agent": {"name": agent.display_name}},
                client_id=message.client_id,
                expect=(("state", State.ASSIGNED.value), ("agent", agent.username)),
                translated=translated,
            )
        except Conflict:
            raise ProtocolError("invalid_state", "the conversation is no longer assigned to you") from None
        return p.ok_ack(id=f"{conv.id}:{stored['seq']}", seq=stored["seq"])

    async def agent_typing(self, agent: Agent, payload: Any) -> None:
        cid = p.conversation_ref(payload)
        typing = p.flag(payload, "typing")
        conv = await self.store.get(cid)
        if conv and conv.agent == agent.username and conv.state is State.ASSIGNED:
            await self.to_visitor(conv.visitor_id, p.TYPING, {"sender": "agent", "typing": typing})

    async def set_translation(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        conv = await self._own(agent, p.conversation_ref(payload))
        enabled = p.flag(payload, "enabled")
        await self.store.set_fields(conv.id, translation="on" if enabled else "off")
        conv.translation = "on" if enabled else "off"
        state = await self.translation_state(conv, agent)
        if enabled and not state["available"]:
            await self.system(conv, "translation_unavailable")
        return p.ok_ack(translation=state)

    def canned_replies(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        lang = p.language(payload, required=False)
        replies = []
        for reply in self.canned:
            for code, text in reply.texts.items():
                if lang is None or code == lang:
                    replies.append({"id": reply.id, "title": reply.title, "text": text, "lang": code})
        return p.ok_ack(replies=replies)

    async def agents(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        online = await self.store.online_agents(self.stale_after)
        items = []
        for other in await self.users.list():
            load = len(await self.store.agent_chats(other.username))
            items.append({**other.to_wire(), "online": other.username in online, "load": load})
        return p.ok_ack(agents=items)

    async def transfer(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        request = p.Transfer.parse(payload)
        conv = await self._own(agent, request.conversation_id)
        target = await self.users.get(request.to)
        if target is None:
            raise ProtocolError("not_found", f"no agent {request.to}")
        if target.username == agent.username:
            raise ProtocolError("bad_request", "the conversation is already yours")
        if target.username not in await self.store.online_agents(self.stale_after):
            raise ProtocolError("offline", f"{target.display_name} is not online")
        change = Change().expect("agent", agent.username).below_capacity(target.username, target.capacity)
        change.set(agent=target.username, translation=None)
        change.srem(chats_key(agent.username), conv.id).sadd(chats_key(target.username), conv.id)
        try:
            await self.store.transition(conv, "transfer", change)
        except Conflict as conflict:
            if conflict.kind == "scard":
                raise ProtocolError("capacity", f"{target.display_name} has no free capacity") from None
            raise ProtocolError("invalid_state", "the conversation changed; reload it") from None
        conv.agent, conv.translation = target.username, ""
        await self.to_agent(
            agent.username, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "transferred"}
        )
        await self.system(conv, "transferred", agent=target.display_name)
        await self._announce_assignment(conv, target)
        return p.ok_ack()

    async def handback(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        conv = await self._own(agent, p.conversation_ref(payload))
        change = Change().expect("agent", agent.username).set(agent=None, translation=None)
        await self.store.transition(conv, "handback", change.srem(chats_key(agent.username), conv.id))
        conv.agent = ""
        await self.to_agent(
            agent.username, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "handed_back"}
        )
        await self.system(conv, "handback")
        await self.publish_status(conv)
        return p.ok_ack()

    async def close(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        request = p.Close.parse(payload, RESOLUTION_CODES)
        conv = await self._own(agent, request.conversation_id, allow_admin=True)
        owner = conv.agent
        now = time.time()
        resolution = {"code": request.resolution, "note": request.note, "by": agent.username, "at": now}
        change = Change().expect("agent", owner).set(resolution=resolution, closed_at=repr(now))
        change.srem(chats_key(owner), conv.id).del_if(open_key(conv.visitor_id), conv.id)
        await self.store.transition(conv, "close", change)
        conv.resolution = resolution
        await self.system(conv, "closed")
        await self.publish_status(conv)
        await self.to_agent(owner, p.UNASSIGNED, {"conversation_id": conv.id, "reason": "closed"})
        return p.ok_ack()

    async def offline_messages(self, agent: Agent, payload: Any) -> Dict[str, Any]:
        items = []
        for cid in await self.store.offline_items():
            conv = await self.store.get(cid)
            if conv:
                items.append(await self.packet(conv, agent))
        return p.ok_ack(items=items)

    # --- presence and the periodic sweep ------------------------------------

    async def agent_connected(self, sid: str, agent: Agent) -> None:
        self.local_agents[sid] = agent.username
        await self.store.heartbeat([(agent.username, sid)])
        self.request_queue_update()  # waiting visitors: no longer offline

    async def agent_disconnected(self, sid: str) -> None:
        username = self.local_agents.pop(sid, None)
        if username:
            await self.store.drop_presence(username, sid)
            self.request_queue_update()

    async def requeue_abandoned(self, now: Optional[float] = None) -> int:
        """Chats of agents gone longer than the grace period go back to the queue, keeping their place."""
        now = now or time.time()
        online = await self.store.online_agents(self.stale_after, now)
        last_seen = await self.store.last_seen()
        moved = 0
        for agent in await self.users.list():
            if agent.username in online or now - last_seen.get(agent.username, 0.0) <= self.agent_grace:
                continue
            for cid in await self.store.agent_chats(agent.username):
                conv = await self.store.get(cid)
                if conv is None or conv.state is not State.ASSIGNED or conv.agent != agent.username:
                    await self.store.redis.srem(chats_key(agent.username), cid)
                    continue
                change = (
                    Change()
                    .expect("agent", agent.username)
                    .set(agent=None, claimed_at=None, translation=None)
                )
                change.srem(chats_key(agent.username), cid).zadd("queue", conv.queued_at or now, cid)
                try:
                    await self.store.transition(conv, "requeue", change)
                except (InvalidTransition, Conflict):
                    continue
                conv.agent = ""
                note = f"{agent.display_name} was disconnected for over {self.agent_grace} s"
                await self.system(conv, "agent_left", note=note)
                moved += 1
        if moved:
            self.request_queue_update()
        return moved

    async def end_idle_bot_conversations(self, now: Optional[float] = None) -> int:
        """A conversation left with the bot for `bot_idle` seconds ends (`end`): the visitor's next
        message starts a new contact, which is what first-contact resolution counts."""
        now = now or time.time()
        ended = 0
        for cid in await self.store.idle_conversations(now - self.bot_idle):
            conv = await self.store.get(cid)
            if conv is None or conv.state is State.CLOSED:
                await self.store.forget_active(cid)
                continue
            if conv.state is not State.BOT:
                continue  # waiting or with an agent: people decide
            change = Change().set(closed_at=repr(now), close_reason="idle")
            change.del_if(open_key(conv.visitor_id), cid)
            try:
                await self.store.transition(conv, "end", change)
            except (InvalidTransition, Conflict):
                continue
            await self.store.forget_active(cid)
            await self.publish_status(conv)
            ended += 1
        return ended

    async def sweep_once(self) -> None:
        await self.store.heartbeat(list((user, sid) for sid, user in self.local_agents.items()))
        if await self.store.try_lead(self.instance, ttl=max(5 * self.sweep_interval, 5.0)):
            await self.requeue_abandoned()
            await self.end_idle_bot_conversations()
            await self.queue_changed(force=False)

    async def sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down: try again next round
                log.warning("sweep failed: %s", exc)
            await asyncio.sleep(self.sweep_interval)
