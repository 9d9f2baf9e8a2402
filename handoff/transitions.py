"""A step of the state machine (handoff/state.py, `STEPS`) as guarded Redis writes.

`plan()` is the only code that writes the queue, the agents' chat sets, the open pointers and the
offline list; `Store.transition` runs its `Change` in one Lua script (handoff/lua.py, TRANSITION).
Callers say what the step is about (the fields: times, escalation, resolution, offline form) and,
for a claim or a transfer, which agent receives the conversation; the table decides the rest:

| effect | writes | guards |
|---|---|---|
| every step | `state`, `updated_at`, one `transition` outbox entry | `state` is what the caller read |
| `Queue.ENTER` / `LEAVE` | ZADD `queue` (score `queued_at`) / ZREM | |
| `Chats.ASSIGN` | `agent` = receiver, SADD its chats; the wait joins `waits` | `agent` unset; receiver below capacity |
| `Chats.MOVE` | `agent` = receiver, SREM old / SADD new; `translation` reset | `agent` is the one read; receiver below capacity |
| `Chats.RELEASE` | SREM its chats; `agent` and `translation` cleared | `agent` is the one read |
| `Chats.DROP` | SREM its chats (`agent` kept as history) | `agent` is the one read |
| target `closed` | `closed_at`; the open pointer deleted if it is this conversation | |
| `offline_list` | ZADD `offline` (score = now) | |
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from handoff import keyspace
from handoff.state import Chats, Queue, Step


class Change:
    """A guarded set of writes on one conversation (the op language of handoff/lua.py, TRANSITION)."""

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
        self.guards += ["scard_lt", keyspace.agent_chats(username), str(capacity)]
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

    def outbox(self, kind: str, body: Dict[str, Any]) -> Change:
        return self._op("xadd", kind, json.dumps(body, ensure_ascii=False))

    def argv(self) -> List[str]:
        return [str(self.count_guards), *self.guards, str(self.count_ops), *self.ops]


@dataclass(frozen=True)
class Receiver:
    """The agent a claim or a transfer gives the conversation to."""

    username: str
    capacity: int


def _plain(name: str, value: Any) -> Any:
    """A field value as the log should see it: times (`*_at`) as numbers."""
    if name.endswith("_at") and isinstance(value, str):
        return float(value)
    return value


def plan(
    step: Step,
    conv: Any,
    fields: Optional[Dict[str, Any]] = None,
    receiver: Optional[Receiver] = None,
    now: Optional[float] = None,
) -> Change:
    """The guarded writes of `step` for `conv` as the caller read it (`conv.state`, `conv.agent`,
    `conv.queued_at`, `conv.visitor_id`). `fields` are the caller's own conversation fields."""
    if step.needs_agent and receiver is None:
        raise ValueError(f"{step.event!r} needs the agent who receives the conversation")
    now = time.time() if now is None else now
    fields = dict(fields or {})
    change = Change().expect("state", step.source.value)
    owner = conv.agent or ""
    if step.chats is Chats.ASSIGN:
        assert receiver is not None
        change.expect("agent", "").below_capacity(receiver.username, receiver.capacity)
        fields["agent"] = receiver.username
        change.sadd(keyspace.agent_chats(receiver.username), conv.id)
        if conv.queued_at:
            change.push_trim(keyspace.WAITS, round(now - conv.queued_at, 3), keyspace.RECENT_WAITS)
    elif step.chats is Chats.MOVE:
        assert receiver is not None
        change.expect("agent", owner).below_capacity(receiver.username, receiver.capacity)
        fields.update(agent=receiver.username, translation=None)
        change.srem(keyspace.agent_chats(owner), conv.id).sadd(
            keyspace.agent_chats(receiver.username), conv.id
        )
    elif step.chats in (Chats.RELEASE, Chats.DROP):
        change.expect("agent", owner).srem(keyspace.agent_chats(owner), conv.id)
        if step.chats is Chats.RELEASE:
            fields.update(agent=None, translation=None)
    if step.queue is Queue.ENTER:
        score = float(fields.get("queued_at") or conv.queued_at or now)
        change.zadd(keyspace.QUEUE, score, conv.id)
    elif step.queue is Queue.LEAVE:
        change.zrem(keyspace.QUEUE, conv.id)
    if step.clears_open_pointer:
        fields.setdefault("closed_at", repr(now))
        change.del_if(keyspace.open_conversation(conv.visitor_id), conv.id)
    if step.offline_list:
        change.zadd(keyspace.OFFLINE, now, conv.id)
    change.set(**fields)
    logged = {k: _plain(k, v) for k, v in change.fields.items()}
    change.set(state=step.target.value, updated_at=repr(now))
    body = {"event": step.event, "from": step.source.value, "to": step.target.value, "fields": logged}
    return change.outbox("transition", body)
