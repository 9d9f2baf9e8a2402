"""handoff/store.py against a real Redis: message ids, retries, guarded state changes, capacity."""

from __future__ import annotations

import asyncio
import json

import pytest

from handoff import keyspace
from handoff.state import InvalidTransition, State
from handoff.store import Conflict, NotFound, Store
from handoff.transitions import Receiver


@pytest.fixture
def store(redis_client):
    return Store(redis_client)


def visitor_message(cid, text):
    return {"conversation_id": cid, "sender": "visitor", "text": text, "lang": "bn", "meta": {}}


async def test_messages_get_gapless_seqs_and_a_retried_client_id_is_stored_once(store):
    conv, created = await store.open_or_create("v_1", "bn")
    assert created and conv.state is State.BOT
    again, created_again = await store.open_or_create("v_1")
    assert again.id == conv.id and not created_again

    results = await asyncio.gather(
        *(store.append(conv.id, visitor_message(conv.id, f"m{i}"), f"c{i}") for i in range(20))
    )
    assert sorted(m["seq"] for m, _ in results) == list(range(1, 21))
    again_message, stored = await store.append(conv.id, visitor_message(conv.id, "m3 again"), "c3")
    seq = again_message["seq"]
    assert not stored and seq == dict((f"c{i}", m["seq"]) for i, (m, _) in enumerate(results))["c3"]
    messages = await store.messages(conv.id)
    assert [m["seq"] for m in messages] == list(range(1, 21))
    assert "m3 again" not in [m["text"] for m in messages]
    assert [m["seq"] for m in await store.messages(conv.id, after_seq=18)] == [19, 20]
    assert (await store.get(conv.id)).last_seq == 20


async def test_append_guards_and_missing_conversations(store):
    conv, _ = await store.open_or_create("v_2")
    with pytest.raises(Conflict):
        await store.append(conv.id, visitor_message(conv.id, "x"), "g1", expect=[("state", "assigned")])
    with pytest.raises(NotFound):
        await store.append("c_" + "0" * 16, visitor_message("c_" + "0" * 16, "x"), "g2")
    assert await store.messages(conv.id) == []


async def test_update_message_adds_fields_but_never_changes_text_or_seq(store):
    conv, _ = await store.open_or_create("v_3")
    seq = (await store.append(conv.id, visitor_message(conv.id, "আমার অর্ডার"), "u1"))[0]["seq"]
    updated = await store.update_message(
        conv.id, seq, text="changed", translation={"text": "my order", "lang": "en"}
    )
    assert (updated["text"], updated["seq"]) == ("আমার অর্ডার", seq)
    assert (await store.message(conv.id, seq))["translation"] == {"text": "my order", "lang": "en"}


async def test_only_one_of_many_concurrent_claims_wins(store):
    conv, _ = await store.open_or_create("v_4")
    await store.transition(conv, "escalate", {"queued_at": "1.0"})

    async def claim(agent):
        fresh = await store.get(conv.id)
        try:
            await store.transition(fresh, "claim", receiver=Receiver(agent, 3))
            return agent
        except (InvalidTransition, Conflict):
            return None

    winners = [w for w in await asyncio.gather(*(claim(f"agent{i}") for i in range(10))) if w]
    assert len(winners) == 1
    final = await store.get(conv.id)
    assert final.state is State.ASSIGNED and final.agent == winners[0]
    assert await store.queue() == []
    for i in range(10):
        assert (await store.agent_chats(f"agent{i}") == [conv.id]) == (f"agent{i}" == winners[0])


async def test_capacity_guard_and_invalid_transitions_change_nothing(store, redis_client):
    await redis_client.sadd(keyspace.agent_chats("full"), "c_a", "c_b")
    conv, _ = await store.open_or_create("v_5")
    await store.transition(conv, "escalate", {"queued_at": "2.0"})
    with pytest.raises(Conflict) as conflict:
        await store.transition(conv, "claim", receiver=Receiver("full", 2))
    assert conflict.value.kind == "scard"
    unchanged = await store.get(conv.id)
    assert unchanged.state is State.QUEUED and unchanged.agent == ""
    assert await store.queue_position(conv.id) == 1
    with pytest.raises(InvalidTransition):
        await store.transition(unchanged, "handback")


async def test_every_change_leaves_exactly_one_outbox_entry(store, redis_client):
    conv, _ = await store.open_or_create("v_6", "ml")
    await store.append(conv.id, visitor_message(conv.id, "hello"), "o1")
    await store.append(conv.id, visitor_message(conv.id, "hello"), "o1")  # a retry: no second entry
    await store.update_message(conv.id, 1, translation={"text": "hi", "lang": "en"})
    await store.transition(conv, "escalate", {"queued_at": "12.5"})
    with pytest.raises(InvalidTransition):
        await store.transition(await store.get(conv.id), "handback")  # rejected: nothing logged
    await store.set_fields(conv.id, translation="on")
    await store.touch_visitor("v_6", page="https://shop.example/")
    entries = await redis_client.xrange("log:events")
    kinds = [fields["type"] for _, fields in entries]
    assert kinds == ["conversation", "message", "message_update", "transition", "conversation", "visitor"]
    message = json.loads(entries[1][1]["body"])
    assert (message["seq"], message["text"], entries[1][1]["vid"]) == (1, "hello", "v_6")
    transition = json.loads(entries[3][1]["body"])
    assert transition == {"event": "escalate", "from": "bot", "to": "queued", "fields": {"queued_at": 12.5}}
    assert all(fields["cid"] == conv.id for _, fields in entries[:5])
