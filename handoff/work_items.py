"""Offline messages as work items: the `offline` field of a conversation closed through the offline
form (assignee, done, the agents' email replies), changed by agents from the console
(handoff/agent_desk.py `offline_update`, `offline_reply`).

Each change reads the item and writes it back; two agents at the same moment (one assigns, the
other marks it done or replies) must both count. `update` does the read and the write in one
optimistic transaction on the conversation's hash (WATCH, then MULTI/EXEC with the outbox entry,
as handoff/store.py writes every change): when the hash changed in between, EXEC writes nothing and
the change is computed again from the new item. tests/handoff/test_work_items.py runs the changes
concurrently.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Optional

from redis.exceptions import WatchError

from handoff import keyspace
from handoff.protocol import ProtocolError
from handoff.store import Store

MAX_ATTEMPTS = 50  # each retry means another change landed; only a storm of changes exhausts it

Item = Dict[str, Any]


class WorkItems:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, cid: str) -> Item:
        raw = await self.store.redis.hget(keyspace.conversation(cid), "offline")
        return _item(raw)

    async def update(self, cid: str, change: Callable[[Item], Optional[Item]]) -> Item:
        """Apply `change` (the item -> the new item, or None for no change; it may raise
        ProtocolError) to the current item atomically; returns the item as stored."""
        key = keyspace.conversation(cid)
        async with self.store.redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    raw, vid = await pipe.hmget(key, "offline", "visitor_id")
                    item = _item(raw)
                    changed = change(dict(item))
                    if changed is None or changed == item:
                        await pipe.reset()
                        return item
                    pipe.multi()
                    pipe.hset(key, "offline", json.dumps(changed))
                    Store._xadd(pipe, "conversation", cid, vid or "", {"offline": changed})
                    await pipe.execute()
                    return changed
                except WatchError:  # the conversation changed between WATCH and EXEC: again
                    continue
        raise ProtocolError("invalid_state", "the offline message keeps changing; try again")


def _item(raw: Optional[str]) -> Item:
    try:
        item = json.loads(raw) if raw else None
    except ValueError:
        item = None
    if not isinstance(item, dict) or not item:
        raise ProtocolError("not_found", "no such offline message")
    return item
