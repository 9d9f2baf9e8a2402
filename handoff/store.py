"""Conversations, messages and visitors in Redis. One class, `Store`; no I/O until called.

Keys are listed in handoff/keyspace.py; the Lua scripts are in handoff/lua.py; agents' presence is
handoff/presence.py and agents' accounts handoff/agents.py.

**The outbox.** Every write here also appends an entry to the `log:events` stream, in the same Lua
script or MULTI as the write itself: `type` (`message`, `message_update`, `transition`,
`conversation`, `visitor`; a visitor's rating is a `conversation` entry with a `rating` field),
`cid`, `vid`, `at` and `body` (JSON). A stored change therefore always has its log entry and vice
versa; the log writer reads the stream with a consumer group, writes the SQL database idempotently
(the entry id is unique) and acknowledges after the commit, so a database outage loses nothing and
writes nothing twice.

**State changes** go through `transition`: the step's writes come from the table in
handoff/state.py (planned by handoff/transitions.py) and run in one Lua script with their guards
(the state the caller read, the agent, free capacity), so two agents on two processes claiming
the same conversation can never both succeed, and the queue, the agents' chats and the open
pointers always agree with the states.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from redis.asyncio import Redis
from redis.exceptions import WatchError

from handoff import keyspace, lua
from handoff.state import InvalidTransition, State, Step, next_state
from handoff.transitions import Receiver, plan


class Conflict(Exception):
    """A guard failed: someone else changed the conversation first (or no capacity)."""

    def __init__(self, kind: str, name: str, have: str) -> None:
        super().__init__(f"{kind} {name} (is {have!r})")
        self.kind, self.name, self.have = kind, name, have


class NotFound(Exception):
    pass


class ConversationFull(Exception):
    """The conversation holds its maximum number of messages (HANDOFF_MAX_MESSAGES)."""


@dataclass
class LiveConversation:
    """A conversation as the service's Redis holds it now (its SQL log row: analytics.models.Conversation)."""

    id: str
    visitor_id: str
    state: State
    language: str = ""
    agent: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    queued_at: Optional[float] = None
    claimed_at: Optional[float] = None
    closed_at: Optional[float] = None
    last_seq: int = 0
    translation: str = ""  # "on", "off" or "" (not decided: the default applies)
    escalation: Optional[Dict[str, Any]] = None
    resolution: Optional[Dict[str, Any]] = None
    bot_resolution: Optional[Dict[str, Any]] = None
    offline: Optional[Dict[str, Any]] = None
    raw: Dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_hash(cls, data: Dict[str, str]) -> LiveConversation:
        def num(name: str) -> Optional[float]:
            return float(data[name]) if data.get(name) else None

        def obj(name: str) -> Optional[Dict[str, Any]]:
            return json.loads(data[name]) if data.get(name) else None

        return cls(
            id=data["id"],
            visitor_id=data.get("visitor_id", ""),
            state=State(data["state"]),
            language=data.get("language", ""),
            agent=data.get("agent", ""),
            created_at=num("created_at") or 0.0,
            updated_at=num("updated_at") or 0.0,
            queued_at=num("queued_at"),
            claimed_at=num("claimed_at"),
            closed_at=num("closed_at"),
            last_seq=int(data.get("last_seq") or 0),
            translation=data.get("translation", ""),
            escalation=obj("escalation"),
            resolution=obj("resolution"),
            bot_resolution=obj("bot_resolution"),
            offline=obj("offline"),
            raw=data,
        )

    @classmethod
    def from_flat(cls, flat: Sequence[str]) -> LiveConversation:
        """From a Lua script's HGETALL answer (field, value, field, value, ...)."""
        return cls.from_hash(dict(zip(flat[::2], flat[1::2], strict=True)))


@dataclass
class VisitorTurn:
    """What storing a visitor's message returned (one round trip, `Store.visitor_message`)."""

    conversation: LiveConversation
    created: bool
    message: Dict[str, Any]
    fresh: bool  # False: a retried client_id, `message` is the one stored the first time
    chosen_language: str  # the visitor's own choice (`set_language`), '' if none


def _message_body(message: Dict[str, Any]) -> Tuple[str, str]:
    """(lang, JSON of the other fields) as the append scripts take them (see handoff/lua.py)."""
    fields = {k: v for k, v in message.items() if k not in ("seq", "lang")}
    fields["at"] = message.get("at") or time.time()
    return message.get("lang") or "", json.dumps(fields, ensure_ascii=False)


def _templates() -> List[str]:
    return [keyspace.conversation("%s"), keyspace.messages("%s"), keyspace.client_ids("%s")]


class Store:
    def __init__(self, redis: Redis, max_messages: int = 0, anonymous_ttl: int = 7 * 86400) -> None:
        self.redis, self.max_messages, self.anonymous_ttl = redis, max_messages, anonymous_ttl
        self._open = redis.register_script(lua.OPEN_OR_CREATE)
        self._visitor_message = redis.register_script(lua.VISITOR_MESSAGE)
        self._append = redis.register_script(lua.APPEND)
        self._transition = redis.register_script(lua.TRANSITION)
        self._bot_turn = redis.register_script(lua.BOT_TURN)

    @staticmethod
    def _xadd(pipe: Any, kind: str, cid: str, vid: str, body: Dict[str, Any]) -> None:
        entry = {"type": kind, "cid": cid, "vid": vid, "at": repr(time.time())}
        pipe.xadd(keyspace.EVENTS, {**entry, "body": json.dumps(body, ensure_ascii=False)})

    @staticmethod
    def _conv_keys(cid: str) -> List[str]:
        return [*keyspace.conversation_keys(cid), keyspace.EVENTS, keyspace.ACTIVE]

    # --- visitors -----------------------------------------------------------

    async def touch_visitor(self, vid: str, **fields: Optional[str]) -> Dict[str, str]:
        key = keyspace.visitor(vid)
        values = {k: v for k, v in fields.items() if v}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "first_seen", repr(time.time()))
            if values:
                pipe.hset(key, mapping=values)
                self._xadd(pipe, "visitor", "", vid, values)
            pipe.hgetall(key)
            result = await pipe.execute()
        if self.anonymous_ttl:  # a record without a conversation expires (a connect costs nothing)
            await self.redis.eval(
                lua.EXPIRE_ANONYMOUS, 2, key, keyspace.visitor_conversations(vid), self.anonymous_ttl
            )
        return result[-1]

    async def visitor(self, vid: str) -> Dict[str, str]:
        return await self.redis.hgetall(keyspace.visitor(vid))

    async def open_conversation_id(self, vid: str) -> Optional[str]:
        return await self.redis.get(keyspace.open_conversation(vid))

    async def latest_conversation_id(self, vid: str) -> Optional[str]:
        return await self.redis.get(keyspace.open_conversation(vid)) or await self.redis.lindex(
            keyspace.visitor_conversations(vid), -1
        )

    async def visitor_conversations(self, vid: str) -> List[str]:
        return await self.redis.lrange(keyspace.visitor_conversations(vid), 0, -1)

    def _visitor_keys(self, vid: str) -> List[str]:
        return [
            keyspace.open_conversation(vid),
            keyspace.visitor(vid),
            keyspace.visitor_conversations(vid),
            keyspace.EVENTS,
            keyspace.ACTIVE,
        ]

    async def open_or_create(self, vid: str, language: str = "") -> Tuple[LiveConversation, bool]:
        """The visitor's open conversation, or a new one in state `bot` in `language` (by default the
        visitor's chosen language); created once, even from two tabs: one script."""
        new_cid, now = "c_" + secrets.token_hex(8), repr(time.time())
        cid, created, flat = await self._open(
            keys=self._visitor_keys(vid), args=[vid, new_cid, keyspace.conversation("%s"), now, language]
        )
        return LiveConversation.from_flat(flat), bool(int(created))

    async def visitor_message(self, vid: str, text: str, client_id: str) -> VisitorTurn:
        """Open (or create) the visitor's conversation and store their message in its language: one
        round trip. A retried client_id returns the message stored the first time."""
        now = repr(time.time())
        _, body = _message_body({"sender": "visitor", "text": text, "meta": {}, "client_id": client_id})
        result = await self._visitor_message(
            keys=[*self._visitor_keys(vid), keyspace.PENDING_TURNS],
            args=[vid, "c_" + secrets.token_hex(8), *_templates(), now, client_id, body, self.max_messages],
        )
        if len(result) == 2:
            raise ConversationFull(result[0])
        cid, created, _seq, stored, fresh, flat, chosen = result
        message = json.loads(stored)
        return VisitorTurn(
            conversation=LiveConversation.from_flat(flat),
            created=bool(int(created)),
            message=message,
            fresh=bool(int(fresh)),
            chosen_language=chosen or "",
        )

    # --- conversations ------------------------------------------------------

    async def get(self, cid: str) -> Optional[LiveConversation]:
        data = await self.redis.hgetall(keyspace.conversation(cid))
        return LiveConversation.from_hash(data) if data else None

    async def get_many(self, cids: Sequence[str]) -> List[Optional[LiveConversation]]:
        """Several conversations in one round trip (None for a missing one)."""
        if not cids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.hgetall(keyspace.conversation(cid))
            rows = await pipe.execute()
        return [LiveConversation.from_hash(row) if row else None for row in rows]

    async def set_fields(self, cid: str, **fields: Any) -> None:
        """Descriptive fields (translation choice, rating, language); never state or memberships."""
        mapping = {
            k: json.dumps(v) if isinstance(v, (dict, list)) else str(v)
            for k, v in fields.items()
            if v is not None
        }
        if mapping:
            vid = await self.redis.hget(keyspace.conversation(cid), "visitor_id") or ""  # never changes
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(keyspace.conversation(cid), mapping=mapping)
                self._xadd(pipe, "conversation", cid, vid, {k: v for k, v in fields.items() if v is not None})
                await pipe.execute()

    async def transition(
        self,
        conv: LiveConversation,
        event: str,
        fields: Optional[Dict[str, Any]] = None,
        receiver: Optional[Receiver] = None,
        message: Optional[Dict[str, Any]] = None,
    ) -> Tuple[Step, Optional[Dict[str, Any]]]:
        """Move `conv` by `event` if it is still as the caller read it; persist, then return the step
        and, with `message`, the message stored in the same script (so both happen or neither).
        Raises InvalidTransition (the state moved on) or Conflict (agent or capacity guard)."""
        step = next_state(conv.state, event)
        now = time.time()
        change = plan(step, conv, fields, receiver, now)
        has_message, client_id, lang, body = "0", "", "", "{}"
        if message is not None:
            has_message, client_id = "1", message.get("client_id") or ""
            lang, body = _message_body({**message, "conversation_id": conv.id})
        status, kind, name, stored = await self._transition(
            keys=self._conv_keys(conv.id),
            args=[conv.id, repr(now), has_message, client_id, lang, body, *change.argv()],
        )
        if int(status) != 1:
            if name == "state":
                raise InvalidTransition(State(stored or conv.state), event)
            raise Conflict(str(kind), str(name), str(stored))
        conv.state = step.target
        for key, value in change.fields.items():
            if key in ("agent", "translation") and hasattr(conv, key):
                setattr(conv, key, value or "")
        return step, (json.loads(stored) if stored else None)

    # --- messages -----------------------------------------------------------

    async def append(
        self,
        cid: str,
        message: Dict[str, Any],
        client_id: str = "",
        expect: Sequence[Tuple[str, str]] = (),
    ) -> Tuple[Dict[str, Any], bool]:
        """Store a message: (stored message, fresh); a repeated client_id gets the first one, fresh=False."""
        lang, body = _message_body({**message, "conversation_id": cid})
        guards = [part for pair in expect for part in pair]
        result = await self._append(
            keys=self._conv_keys(cid),
            args=[cid, client_id, lang, body, repr(time.time()), str(len(expect)), *guards],
        )
        seq = int(result[0])
        if seq == -2:
            raise NotFound(cid)
        if seq == -1:
            raise Conflict("eq", str(result[1]), str(result[2]))
        return json.loads(result[1]), bool(int(result[2]))

    async def record_bot_turn(
        self,
        cid: str,
        visitor_seq: int,
        detected: Optional[str],
        resolution: Optional[Dict[str, Any]],
        replies: Sequence[Dict[str, Any]],
        run: str = "",
    ) -> Optional[List[Dict[str, Any]]]:
        """After Rasa answered: the detected language (written once, onto the conversation and the
        visitor's message), the bot's resolution, and its replies, in one script. Each reply carries
        `turn` (`<visitor seq>:<run>`: the message it answers, and which run). Returns the stored
        replies (those of `run`, called again after a reply lost with the connection), or None when
        the conversation left the bot or another run answered the message: nothing written."""
        args: List[str] = [cid, repr(time.time()), str(visitor_seq), detected or ""]
        args += [json.dumps(resolution) if resolution else "", str(len(replies))]
        turn = f"{visitor_seq}:{run or secrets.token_hex(4)}"  # which message this answers, and which run
        for reply in replies:
            args += list(_message_body({**reply, "conversation_id": cid, "turn": turn}))
        written, *stored = await self._bot_turn(
            keys=[*self._conv_keys(cid), keyspace.PENDING_TURNS], args=args
        )
        if int(written) == -3 and run:  # answered already: by this run, whose reply was lost?
            return [m for m in await self.messages(cid, visitor_seq) if m.get("turn") == turn] or None
        if int(written) in (-2, -3):  # left the bot, or another run already answered this message
            return None
        if int(written) == -1 and detected:  # a message stored by an older version: rewrite it
            await self.update_message(cid, visitor_seq, lang=detected)
        return [json.loads(item) for item in stored]

    async def turn_done(self, cid: str, seq: int) -> None:
        """The visitor message `seq` no longer awaits the bot (answered, or it cannot be)."""
        await self.redis.zrem(keyspace.PENDING_TURNS, f"{cid}|{seq}")

    async def stalled_turns(self, before: float) -> List[Tuple[str, int]]:
        """(cid, seq) of visitor messages awaiting the bot since before `before`, oldest first."""
        members = await self.redis.zrangebyscore(keyspace.PENDING_TURNS, "-inf", before, start=0, num=100)
        return [(m.split("|")[0], int(m.split("|")[1])) for m in members]

    async def messages(self, cid: str, after_seq: int = 0) -> List[Dict[str, Any]]:
        raw = await self.redis.lrange(keyspace.messages(cid), max(0, after_seq), -1)
        return [json.loads(item) for item in raw]

    async def latest_messages(
        self, convs: Sequence[LiveConversation], count: int
    ) -> List[List[Dict[str, Any]]]:
        """The last `count` messages of each conversation, in one round trip."""
        if not convs:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.lrange(keyspace.messages(conv.id), max(0, conv.last_seq - count), -1)
            rows = await pipe.execute()
        return [[json.loads(item) for item in row] for row in rows]

    async def message(self, cid: str, seq: int) -> Optional[Dict[str, Any]]:
        raw = await self.redis.lindex(keyspace.messages(cid), seq - 1)
        return json.loads(raw) if raw else None

    async def update_message(self, cid: str, seq: int, **fields: Any) -> Dict[str, Any]:
        """Add fields (a translation) to a stored message; seq and text never change."""
        key = keyspace.messages(cid)
        vid = await self.redis.hget(keyspace.conversation(cid), "visitor_id") or ""
        added = {k: v for k, v in fields.items() if k not in ("seq", "text")}
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.lindex(key, seq - 1)
                    if raw is None:
                        raise NotFound(f"{cid}:{seq}")
                    message = json.loads(raw)
                    message.update(added)
                    pipe.multi()
                    pipe.lset(key, seq - 1, json.dumps(message, ensure_ascii=False))
                    self._xadd(pipe, "message_update", cid, vid, {"seq": seq, **added})
                    await pipe.execute()
                    return message
                except WatchError:  # the list changed between WATCH and EXEC: read it again
                    continue

    # --- the queue, agents' chats, idle and offline conversations (read only) -----

    async def queue(self) -> List[Tuple[str, float]]:
        return [
            (cid, score) for cid, score in await self.redis.zrange(keyspace.QUEUE, 0, -1, withscores=True)
        ]

    async def queue_position(self, cid: str) -> Optional[int]:
        rank = await self.redis.zrank(keyspace.QUEUE, cid)
        return None if rank is None else rank + 1

    async def agent_chats(self, username: str) -> List[str]:
        return sorted(await self.redis.smembers(keyspace.agent_chats(username)))

    async def recent_waits(self) -> List[float]:
        return [float(w) for w in await self.redis.lrange(keyspace.WAITS, 0, keyspace.RECENT_WAITS - 1)]

    async def idle_conversations(self, before: float, limit: int = 200) -> List[str]:
        return await self.redis.zrangebyscore(keyspace.ACTIVE, "-inf", before, start=0, num=limit)

    async def forget_active(self, cid: str) -> None:
        await self.redis.zrem(keyspace.ACTIVE, cid)

    async def offline_items(self, limit: int = 100) -> List[str]:
        return await self.redis.zrevrange(keyspace.OFFLINE, 0, limit - 1)
