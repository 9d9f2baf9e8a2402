"""Admins joining a live chat (the supervisor's view): a joined admin reads the conversation live
and writes into it alongside its agent (the visitor sees the admin's name on those messages), and
leaves when done. Joining is no step of the state machine (handoff/state.py): the conversation
stays `assigned` to its agent, who keeps it; no queue, chat set or pointer changes.

Who joined is kept in the conversation's hash, one field `joined:<username>` (value "1") per admin,
so each join or leave is a single HSET or HDEL (two admins joining at once cannot overwrite each
other), the message script's guards can require it (`agent_message` from a joined admin is stored
only while the conversation is `assigned` and the admin still joined), and erasure and retention,
which delete the hash, remove it too. Each join and leave is also an outbox entry (`conversation`
with `joined` {username: true/false}) and so in the SQL log's raw `events`.
"""

from __future__ import annotations

from typing import List

from redis.exceptions import WatchError

from handoff import keyspace
from handoff.protocol import ProtocolError
from handoff.state import State
from handoff.store import LiveConversation, Store

PREFIX = "joined:"
MAX_ATTEMPTS = 50


def joined_field(username: str) -> str:
    return PREFIX + username


def joined(conv: LiveConversation) -> List[str]:
    """The admins who joined `conv` (as its hash was read)."""
    return sorted(name[len(PREFIX) :] for name in conv.raw if name.startswith(PREFIX))


def watchers(conv: LiveConversation) -> List[str]:
    """Everyone on the agents' side who follows `conv` live: its agent and the joined admins."""
    return sorted({conv.agent, *joined(conv)} - {""})


class Joins:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def join(self, cid: str, username: str) -> None:
        """Only an `assigned` conversation of another agent; atomic with that check (WATCH)."""
        key = keyspace.conversation(cid)
        async with self.store.redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    state, agent, vid = await pipe.hmget(key, "state", "agent", "visitor_id")
                    if state is None:
                        raise ProtocolError("not_found", f"no conversation {cid}")
                    if state != State.ASSIGNED.value or not agent:
                        raise ProtocolError("invalid_state", "only a chat an agent has can be joined")
                    if agent == username:
                        raise ProtocolError("bad_request", "the conversation is already yours")
                    pipe.multi()
                    pipe.hset(key, joined_field(username), "1")
                    Store._xadd(pipe, "conversation", cid, vid or "", {"joined": {username: True}})
                    await pipe.execute()
                    return
                except WatchError:
                    continue
        raise ProtocolError("invalid_state", "the conversation keeps changing; try again")

    async def leave(self, cid: str, username: str) -> bool:
        """False when `username` had not joined `cid` (nothing written)."""
        key, field = keyspace.conversation(cid), joined_field(username)
        async with self.store.redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    present, vid = await pipe.hmget(key, field, "visitor_id")
                    if present is None:
                        await pipe.reset()
                        return False
                    pipe.multi()
                    pipe.hdel(key, field)
                    Store._xadd(pipe, "conversation", cid, vid or "", {"joined": {username: False}})
                    await pipe.execute()
                    return True
                except WatchError:
                    continue
        raise ProtocolError("invalid_state", "the conversation keeps changing; try again")
