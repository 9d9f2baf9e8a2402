"""The transition table (handoff/state.py, handoff/transitions.py) keeps its invariants on a real Redis.

A seeded random walk (hypothesis is not in the service environment): many events, valid and
invalid, on a handful of conversations, visitors and agents, each applied with `Store.transition`
to a copy of the conversation that may be stale (read several steps earlier), exactly as
concurrent service processes would. After every step, for every conversation:

- it is in the queue iff it is `queued`, with its original place (score = queued_at);
- it is in an agent's chat set iff it is `assigned` to that agent, and in no other;
- it is its visitor's open conversation iff it is not `closed`;
- it is in the offline list iff its last step was `offline`;
- no agent holds more conversations than their capacity.
"""

from __future__ import annotations

import random

import pytest

from handoff import keyspace
from handoff.state import STEPS, InvalidTransition, State, allowed_events, next_state
from handoff.store import Conflict, Store
from handoff.transitions import Receiver

AGENTS = {"asha": 2, "ravi": 1, "meera": 3}
EVENTS = sorted({step.event for step in STEPS})


async def check_invariants(store: Store, cids, closed_by):
    redis = store.redis
    queue = dict(await redis.zrange(keyspace.QUEUE, 0, -1, withscores=True))
    offline = set(await redis.zrange(keyspace.OFFLINE, 0, -1))
    chats = {name: set(await redis.smembers(keyspace.agent_chats(name))) for name in AGENTS}
    for name, capacity in AGENTS.items():
        assert len(chats[name]) <= capacity, (name, chats[name])
    for cid in cids:
        conv = await store.get(cid)
        assert (cid in queue) == (conv.state is State.QUEUED), (cid, conv.state, queue)
        if conv.state is State.QUEUED:
            assert queue[cid] == conv.queued_at
        holders = {name for name, members in chats.items() if cid in members}
        if conv.state is State.ASSIGNED:
            assert holders == {conv.agent}, (cid, conv.agent, holders)
        else:
            assert holders == set(), (cid, conv.state, holders)
        pointer = await redis.get(keyspace.open_conversation(conv.visitor_id))
        assert (pointer == cid) == (conv.state is not State.CLOSED), (cid, conv.state, pointer)
        assert (cid in offline) == (closed_by.get(cid) == "offline"), (cid, closed_by.get(cid))


async def walk(store: Store, seed: int):
    """400 random events; returns (events applied, number refused)."""
    await store.redis.flushdb()
    rng = random.Random(seed)
    cids, copies, closed_by = [], {}, {}
    applied, rejected = set(), 0
    for vid in ("v_1", "v_2", "v_3", "v_4"):
        conv, _ = await store.open_or_create(vid, "en")
        cids.append(conv.id)
        copies[conv.id] = [conv]
    for _ in range(400):
        cid = rng.choice(cids)
        if rng.random() < 0.7:  # a fresh read, else a copy read some steps ago
            copies[cid].append(await store.get(cid))
        conv = rng.choice(copies[cid][-3:])
        conv = type(conv).from_hash(dict(conv.raw))  # a private copy of what was read then
        allowed = allowed_events(conv.state)  # mostly events the copy's state allows; closing ones less
        weights = [1 if next_state(conv.state, e).target is State.CLOSED else 2 for e in allowed]
        event = rng.choices(allowed, weights)[0] if allowed and rng.random() < 0.8 else rng.choice(EVENTS)
        name = rng.choice(sorted(AGENTS))
        fields = {"queued_at": repr(rng.uniform(1, 1000))} if event == "escalate" else {}
        try:
            await store.transition(conv, event, fields, Receiver(name, AGENTS[name]))
            applied.add(event)
            if conv.state is State.CLOSED:
                closed_by[cid] = event
                # the visitor comes back: a new conversation, the closed one stays checked
                new, created = await store.open_or_create((await store.get(cid)).visitor_id, "en")
                assert created
                cids.append(new.id)
                copies[new.id] = [new]
        except (InvalidTransition, Conflict):
            rejected += 1
        await check_invariants(store, cids, closed_by)
    return applied, rejected


async def test_random_events_keep_the_memberships_true_to_the_states(redis_client):
    store = Store(redis_client)
    applied, rejected = set(), 0
    for seed in range(1, 6):
        done, refused = await walk(store, seed)
        applied, rejected = applied | done, rejected + refused
    assert applied == set(EVENTS) and rejected > 100, (applied, rejected)  # every step happened, many refused


async def test_a_rejected_transition_writes_nothing(redis_client):
    store = Store(redis_client)
    conv, _ = await store.open_or_create("v_1", "en")
    await store.transition(conv, "escalate", {"queued_at": "5.0"})
    entries = await redis_client.xlen(keyspace.EVENTS)
    stale = await store.get(conv.id)
    await store.transition(await store.get(conv.id), "claim", receiver=Receiver("asha", 2))
    with pytest.raises(InvalidTransition):
        await store.transition(stale, "claim", receiver=Receiver("ravi", 1))
    with pytest.raises(InvalidTransition):
        await store.transition(await store.get(conv.id), "escalate")
    assert await redis_client.smembers(keyspace.agent_chats("ravi")) == set()
    assert await redis_client.xlen(keyspace.EVENTS) == entries + 1  # the claim's entry only
    assert (await store.get(conv.id)).agent == "asha"


def test_claim_and_transfer_need_the_receiving_agent():
    from handoff.store import LiveConversation
    from handoff.transitions import plan

    conv = LiveConversation(id="c_0", visitor_id="v_0", state=State.QUEUED)
    with pytest.raises(ValueError, match="needs the agent"):
        plan(next_state(State.QUEUED, "claim"), conv)
