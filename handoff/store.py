"""Everything the handoff service keeps, in Redis. One class, `Store`; no I/O until called.

Keys (one Redis database; no key is shared with Rasa):

| key | type | what |
|---|---|---|
| `conv:<cid>` | hash | a conversation: state, visitor, language, agent, times, escalation, resolution |
| `conv:<cid>:msgs` | list | its messages as JSON, in order; message `seq` n is index n-1 |
| `conv:<cid>:clients` | hash | client_id -> seq (a retried event is stored once) |
| `visitor:<vid>` | hash | page, locale, chosen language, first seen |
| `visitor:<vid>:open` | string | the visitor's open conversation (at most one) |
| `visitor:<vid>:convs` | list | all the visitor's conversations, oldest first |
| `queue` | sorted set | queued conversations, score = queued_at (FIFO) |
| `agent:<username>:chats` | set | conversations assigned to an agent |
| `offline` | sorted set | conversations closed through the offline form, score = time |
| `presence` | sorted set | `<username>|<socket id>` -> last heartbeat (per service process) |
| `agents:last_seen` | hash | username -> last heartbeat of any of their sockets |
| `waits` | list | the last 20 queue waits (queued -> claimed), seconds |
| `lock:sweeper` | string | which service process runs the periodic sweep |
| `active` | sorted set | conversations by last message time (to end idle bot conversations) |
| `log:events` | stream | the outbox: one entry per stored change, for the SQL log (issue 5) |

**The outbox.** Every write here also appends an entry to the `log:events`
stream, in the same Lua script or MULTI as the write itself: `type`
(`message`, `message_update`, `transition`, `conversation`, `visitor`;
a visitor's rating is a `conversation` entry with a `rating` field), `cid`,
`vid`, `at` and `body` (JSON). A stored change therefore
always has its log entry and vice versa; the log writer reads the stream with
a consumer group, writes the SQL database idempotently (the entry id is
unique) and acknowledges after the commit, so a database outage loses
nothing and writes nothing twice.

State changes go through one Lua script (`_CHANGE`): it checks guards (the
state is what the caller saw, the agent is the caller, the agent has free
capacity) and applies every write at once, so two agents on two processes
claiming the same conversation can never both succeed.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from redis.asyncio import Redis
from redis.exceptions import WatchError

from handoff.state import InvalidTransition, State, Transition, next_state

RECENT_WAITS = 20
EVENTS = "log:events"

# Appends a message unless its client_id was stored already. The message JSON
# comes from Python without `seq`; the script prepends it, so the seq is the
# list position and ids never have gaps. Optional guards: field/value pairs
# that the conversation hash must hold.
_APPEND = """
local conv, msgs, clients, events, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local client_id, body, nguards = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', conv) == 0 then return {-2, 'missing'} end
for i = 0, nguards - 1 do
  local name, want = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  local have = redis.call('HGET', conv, name)
  if have == false then have = '' end
  if have ~= want then return {-1, name, have} end
end
if client_id ~= '' then
  local seen = redis.call('HGET', clients, client_id)
  if seen then return {tonumber(seen), 'duplicate'} end
end
local seq = redis.call('LLEN', msgs) + 1
local stored = '{"seq":' .. seq .. ',' .. string.sub(body, 2)
redis.call('RPUSH', msgs, stored)
if client_id ~= '' then redis.call('HSET', clients, client_id, seq) end
local now = ARGV[4 + 2 * nguards]
redis.call('HSET', conv, 'updated_at', now, 'last_seq', seq)
redis.call('ZADD', active, now, ARGV[5 + 2 * nguards])
redis.call('XADD', events, '*', 'type', 'message', 'cid', ARGV[5 + 2 * nguards],
           'vid', redis.call('HGET', conv, 'visitor_id') or '', 'at', now, 'body', stored)
return {seq, 'stored'}
"""

# Guards, then writes, all or nothing. ARGV: nguards, guards..., nops, ops...
#   guard `eq <field> <value>`      the conversation hash field equals value ('' = unset)
#   guard `scard_lt <key> <n>`      set <key> has fewer than n members
#   op `hset <field> <value>` / `hdel <field>`          on the conversation hash
#   op `zadd <key> <score> <member>` / `zrem <key> <member>`
#   op `sadd <key> <member>` / `srem <key> <member>`
#   op `del_if <key> <value>`       delete a string key if it holds value
#   op `push_trim <key> <value> <n>` LPUSH and keep n items
#   op `xadd <stream> <type> <cid> <at> <json>`    an outbox entry (see the module doc)
_CHANGE = """
local conv = KEYS[1]
local i = 1
local nguards = tonumber(ARGV[i]); i = i + 1
for _ = 1, nguards do
  local kind = ARGV[i]
  if kind == 'eq' then
    local have = redis.call('HGET', conv, ARGV[i + 1])
    if have == false then have = '' end
    if have ~= ARGV[i + 2] then return {0, 'eq', ARGV[i + 1], have} end
    i = i + 3
  elseif kind == 'scard_lt' then
    if redis.call('SCARD', ARGV[i + 1]) >= tonumber(ARGV[i + 2]) then return {0, 'scard', ARGV[i + 1], ''} end
    i = i + 3
  else
    return redis.error_reply('unknown guard ' .. kind)
  end
end
local nops = tonumber(ARGV[i]); i = i + 1
for _ = 1, nops do
  local op = ARGV[i]
  if op == 'hset' then redis.call('HSET', conv, ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'hdel' then redis.call('HDEL', conv, ARGV[i + 1]); i = i + 2
  elseif op == 'zadd' then redis.call('ZADD', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]); i = i + 4
  elseif op == 'zrem' then redis.call('ZREM', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'sadd' then redis.call('SADD', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'srem' then redis.call('SREM', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'del_if' then
    if redis.call('GET', ARGV[i + 1]) == ARGV[i + 2] then redis.call('DEL', ARGV[i + 1]) end
    i = i + 3
  elseif op == 'xadd' then
    redis.call('XADD', ARGV[i + 1], '*', 'type', ARGV[i + 2], 'cid', ARGV[i + 3],
               'vid', redis.call('HGET', conv, 'visitor_id') or '', 'at', ARGV[i + 4], 'body', ARGV[i + 5])
    i = i + 6
  elseif op == 'push_trim' then
    redis.call('LPUSH', ARGV[i + 1], ARGV[i + 2]); redis.call('LTRIM', ARGV[i + 1], 0, tonumber(ARGV[i + 3]) - 1)
    i = i + 4
  else
    return redis.error_reply('unknown op ' .. op)
  end
end
return {1, 'ok', '', ''}
"""


class Conflict(Exception):
    """A guard failed: someone else changed the conversation first (or no capacity)."""

    def __init__(self, kind: str, name: str, have: str) -> None:
        super().__init__(f"{kind} {name} (is {have!r})")
        self.kind, self.name, self.have = kind, name, have


class NotFound(Exception):
    pass


@dataclass
class Conversation:
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
    def from_hash(cls, data: Dict[str, str]) -> Conversation:
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


def _plain(name: str, value: Any) -> Any:
    """A field value as the log should see it: times (`*_at`) as numbers."""
    if name.endswith("_at") and isinstance(value, str):
        return float(value)
    return value


def open_key(vid: str) -> str:
    """The visitor's open conversation (a string key; at most one open conversation per visitor)."""
    return f"visitor:{vid}:open"


def conv_key(cid: str) -> str:
    return f"conv:{cid}"


def chats_key(username: str) -> str:
    return f"agent:{username}:chats"


def message_id(cid: str, seq: int) -> str:
    return f"{cid}:{seq}"


class Change:
    """A guarded set of writes on one conversation (see `_CHANGE`)."""

    def __init__(self) -> None:
        self.guards: List[str] = []
        self.ops: List[str] = []
        self.count_guards = 0
        self.count_ops = 0
        self.fields: Dict[str, Any] = {}

    def expect(self, name: str, value: str) -> Change:
        self.guards += ["eq", name, value]
        self.count_guards += 1
        return self

    def below_capacity(self, username: str, capacity: int) -> Change:
        self.guards += ["scard_lt", chats_key(username), str(capacity)]
        self.count_guards += 1
        return self

    def _op(self, *parts: Any) -> Change:
        self.ops += [str(p) for p in parts]
        self.count_ops += 1
        return self

    def set(self, **fields: Any) -> Change:
        self.fields.update(fields)
        for name, value in fields.items():
            if value is None:
                self._op("hdel", name)
            else:
                self._op("hset", name, json.dumps(value) if isinstance(value, (dict, list)) else value)
        return self

    def zadd(self, key: str, score: float, member: str) -> Change:
        return self._op("zadd", key, repr(score), member)

    def zrem(self, key: str, member: str) -> Change:
        return self._op("zrem", key, member)

    def sadd(self, key: str, member: str) -> Change:
        return self._op("sadd", key, member)

    def srem(self, key: str, member: str) -> Change:
        return self._op("srem", key, member)

    def del_if(self, key: str, value: str) -> Change:
        return self._op("del_if", key, value)

    def push_trim(self, key: str, value: Any, keep: int) -> Change:
        return self._op("push_trim", key, value, keep)

    def log(self, kind: str, cid: str, body: Dict[str, Any]) -> Change:
        return self._op("xadd", EVENTS, kind, cid, repr(time.time()), json.dumps(body, ensure_ascii=False))

    def argv(self) -> List[str]:
        return [str(self.count_guards), *self.guards, str(self.count_ops), *self.ops]


class Store:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._append = redis.register_script(_APPEND)
        self._change = redis.register_script(_CHANGE)

    # --- visitors -----------------------------------------------------------

    async def touch_visitor(self, vid: str, **fields: Optional[str]) -> Dict[str, str]:
        key = f"visitor:{vid}"
        values = {k: v for k, v in fields.items() if v}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "first_seen", repr(time.time()))
            if values:
                pipe.hset(key, mapping=values)
                self._xadd(pipe, "visitor", "", vid, values)
            pipe.hgetall(key)
            result = await pipe.execute()
        return result[-1]

    async def visitor(self, vid: str) -> Dict[str, str]:
        return await self.redis.hgetall(f"visitor:{vid}")

    async def open_conversation_id(self, vid: str) -> Optional[str]:
        return await self.redis.get(open_key(vid))

    async def latest_conversation_id(self, vid: str) -> Optional[str]:
        return await self.redis.get(open_key(vid)) or await self.redis.lindex(f"visitor:{vid}:convs", -1)

    async def visitor_conversations(self, vid: str) -> List[str]:
        return await self.redis.lrange(f"visitor:{vid}:convs", 0, -1)

    async def open_or_create(self, vid: str, language: str = "") -> Tuple[Conversation, bool]:
        """The visitor's open conversation, or a new one in state `bot` (created once, even from two tabs)."""
        for _ in range(5):
            cid = await self.open_conversation_id(vid)
            if cid:
                conv = await self.get(cid)
                if conv is not None and conv.state is not State.CLOSED:
                    return conv, False
                await self.redis.delete(open_key(vid))  # stale pointer: closed
            cid = "c_" + secrets.token_hex(8)
            if await self.redis.set(open_key(vid), cid, nx=True):
                now = time.time()
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.hset(
                        conv_key(cid),
                        mapping={
                            "id": cid,
                            "visitor_id": vid,
                            "state": State.BOT.value,
                            "language": language,
                            "created_at": repr(now),
                            "updated_at": repr(now),
                            "last_seq": "0",
                        },
                    )
                    pipe.rpush(f"visitor:{vid}:convs", cid)
                    created = {"state": State.BOT.value, "language": language, "created_at": now}
                    self._xadd(pipe, "conversation", cid, vid, created)
                    await pipe.execute()
                conv = await self.get(cid)
                assert conv is not None
                return conv, True
        raise RuntimeError("could not open a conversation")  # pragma: no cover

    # --- conversations ------------------------------------------------------

    async def get(self, cid: str) -> Optional[Conversation]:
        data = await self.redis.hgetall(conv_key(cid))
        return Conversation.from_hash(data) if data else None

    async def require(self, cid: str) -> Conversation:
        conv = await self.get(cid)
        if conv is None:
            raise NotFound(cid)
        return conv

    async def set_fields(self, cid: str, **fields: Any) -> None:
        mapping = {
            k: json.dumps(v) if isinstance(v, (dict, list)) else str(v)
            for k, v in fields.items()
            if v is not None
        }
        if mapping:
            vid = await self.redis.hget(conv_key(cid), "visitor_id") or ""  # never changes once set
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(conv_key(cid), mapping=mapping)
                self._xadd(pipe, "conversation", cid, vid, {k: v for k, v in fields.items() if v is not None})
                await pipe.execute()

    @staticmethod
    def _xadd(pipe: Any, kind: str, cid: str, vid: str, body: Dict[str, Any]) -> None:
        entry = {"type": kind, "cid": cid, "vid": vid, "at": repr(time.time())}
        pipe.xadd(EVENTS, {**entry, "body": json.dumps(body, ensure_ascii=False)})

    async def log(self, kind: str, cid: str, vid: str, body: Dict[str, Any]) -> None:
        """An outbox entry on its own (for facts that change nothing else here)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            self._xadd(pipe, kind, cid, vid, body)
            await pipe.execute()

    async def apply(self, cid: str, change: Change) -> None:
        status, kind, name, have = await self._change(keys=[conv_key(cid)], args=change.argv())
        if int(status) != 1:
            raise Conflict(str(kind), str(name), str(have))

    async def transition(self, conv: Conversation, event: str, change: Optional[Change] = None) -> Transition:
        """Move `conv` by `event` if it is still in the state the caller read; persist, then return."""
        step = next_state(conv.state, event)
        change = change or Change()
        change.expect("state", conv.state.value)
        change.set(state=step.target.value, updated_at=repr(time.time()))
        fields = {k: _plain(k, v) for k, v in change.fields.items() if k not in ("state", "updated_at")}
        change.log(
            "transition",
            conv.id,
            {"event": event, "from": step.source.value, "to": step.target.value, "fields": fields},
        )
        try:
            await self.apply(conv.id, change)
        except Conflict as conflict:
            if conflict.name == "state":
                raise InvalidTransition(State(conflict.have or conv.state), event) from conflict
            raise
        conv.state = step.target
        return step

    # --- messages -----------------------------------------------------------

    async def append(
        self,
        cid: str,
        message: Dict[str, Any],
        client_id: str = "",
        expect: Sequence[Tuple[str, str]] = (),
    ) -> Tuple[int, bool]:
        """Store a message; returns (seq, stored). A repeated client_id returns the first seq, stored=False."""
        body = json.dumps({**message, "at": message.get("at") or time.time()}, ensure_ascii=False)
        guards = [part for pair in expect for part in pair]
        result = await self._append(
            keys=[conv_key(cid), f"{conv_key(cid)}:msgs", f"{conv_key(cid)}:clients", EVENTS, "active"],
            args=[client_id, body, str(len(expect)), *guards, repr(time.time()), cid],
        )
        seq, outcome = int(result[0]), str(result[1])
        if seq == -2:
            raise NotFound(cid)
        if seq == -1:
            raise Conflict("eq", outcome, str(result[2]))
        return seq, outcome == "stored"

    async def messages(self, cid: str, after_seq: int = 0) -> List[Dict[str, Any]]:
        raw = await self.redis.lrange(f"{conv_key(cid)}:msgs", max(0, after_seq), -1)
        return [json.loads(item) for item in raw]

    async def message(self, cid: str, seq: int) -> Optional[Dict[str, Any]]:
        raw = await self.redis.lindex(f"{conv_key(cid)}:msgs", seq - 1)
        return json.loads(raw) if raw else None

    async def update_message(self, cid: str, seq: int, **fields: Any) -> Dict[str, Any]:
        """Add fields (a translation, the detected language) to a stored message; seq and text never change."""
        key = f"{conv_key(cid)}:msgs"
        vid = await self.redis.hget(conv_key(cid), "visitor_id") or ""
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

    # --- queue and agents ---------------------------------------------------

    async def queue(self) -> List[Tuple[str, float]]:
        return [(cid, score) for cid, score in await self.redis.zrange("queue", 0, -1, withscores=True)]

    async def queue_position(self, cid: str) -> Optional[int]:
        rank = await self.redis.zrank("queue", cid)
        return None if rank is None else rank + 1

    async def agent_chats(self, username: str) -> List[str]:
        return sorted(await self.redis.smembers(chats_key(username)))

    async def recent_waits(self) -> List[float]:
        return [float(w) for w in await self.redis.lrange("waits", 0, RECENT_WAITS - 1)]

    async def idle_conversations(self, before: float, limit: int = 200) -> List[str]:
        return await self.redis.zrangebyscore("active", "-inf", before, start=0, num=limit)

    async def forget_active(self, cid: str) -> None:
        await self.redis.zrem("active", cid)

    async def offline_items(self, limit: int = 100) -> List[str]:
        return await self.redis.zrevrange("offline", 0, limit - 1)

    async def heartbeat(self, members: Iterable[Tuple[str, str]], now: Optional[float] = None) -> None:
        now = now or time.time()
        members = list(members)
        if not members:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd("presence", {f"{user}|{sid}": now for user, sid in members})
            pipe.hset("agents:last_seen", mapping={user: repr(now) for user, _ in members})
            await pipe.execute()

    async def drop_presence(self, username: str, sid: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem("presence", f"{username}|{sid}")
            pipe.hset("agents:last_seen", username, repr(time.time()))
            await pipe.execute()

    async def online_agents(self, stale_after: float, now: Optional[float] = None) -> Dict[str, int]:
        """username -> number of live sockets; entries older than stale_after are dropped."""
        now = now or time.time()
        await self.redis.zremrangebyscore("presence", "-inf", now - stale_after)
        online: Dict[str, int] = {}
        for member in await self.redis.zrange("presence", 0, -1):
            user = member.rsplit("|", 1)[0]
            online[user] = online.get(user, 0) + 1
        return online

    async def last_seen(self) -> Dict[str, float]:
        return {k: float(v) for k, v in (await self.redis.hgetall("agents:last_seen")).items()}

    async def try_lead(self, owner: str, ttl: float) -> bool:
        """One service process at a time runs the periodic sweep (a lock that expires)."""
        key = "lock:sweeper"
        if await self.redis.set(key, owner, nx=True, px=int(ttl * 1000)):
            return True
        if await self.redis.get(key) == owner:
            await self.redis.pexpire(key, int(ttl * 1000))
            return True
        return False
