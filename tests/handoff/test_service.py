"""The handoff service as it runs: two service processes sharing one real Redis, the real Rasa server
with the trained model, the action server and the translator (with tiny real bn<->en models), driven
by real Socket.IO clients. Visitors connect to process A, agents mostly to process B."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis as redis_sync
import socketio

from bot.content import load_content
from handoff import keyspace
from handoff.announcer import Announcer
from handoff.bot_turn import BotTurn
from handoff.embedded_redis import EmbeddedRedis
from handoff.rasa_client import RasaClient
from handoff.store import Store
from tests.support.handoff_service import (
    AgentClient,
    Visitor,
    add_agent,
    handoff_service,
    login,
    running_stack,
)
from tests.support.processes import MODEL, free_port


@pytest.fixture(autouse=True, scope="module")
def trained_model():
    """These tests need the trained model: a missing one is a failure, not a skip."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")


CONTENT = load_content()


def example(intent: str, lang: str, index: int = 0) -> str:
    return CONTENT.intents[intent].languages[lang].examples[index]


AGENTS = [
    ("asha", "bn,en", 5),
    ("ravi", "en", 5),
    ("meera", "ml,en", 5),
    ("solo", "en", 1),
    ("boss", "en", 3),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Two handoff service processes (a, b) on one Redis, with Rasa, actions and the translator."""
    logs = tmp_path_factory.mktemp("handoff-stack")
    settings = {"HANDOFF_ROUTE_ALL_AFTER": "4", "HANDOFF_AGENT_GRACE": "2"}
    with running_stack(logs, ("a", "b"), AGENTS, **settings) as stack:
        yield stack


@pytest.fixture
def redis(stack):
    client = redis_sync.Redis.from_url(stack["redis_url"], decode_responses=True)
    yield client
    client.close()


@pytest.fixture
async def clients():
    opened = []

    async def make(kind, base_url, *args, **kwargs):
        if kind == "visitor":
            client = await Visitor(base_url).connect(*args, **kwargs)
        else:
            client = await AgentClient.logged_in(base_url, *args)
        opened.append(client)
        return client

    yield make
    for client in opened:
        if client.sio.connected:
            await client.disconnect()


async def escalated_visitor(stack, clients, lang="en"):
    """A visitor on process A who asked for a person (through the bot) and is now queued."""
    visitor = await clients("visitor", stack["a"], {"language": lang, "page": "https://shop.example/orders"})
    await visitor.wait_for("session")
    ack = await visitor.say(example("request_human", lang))
    await visitor.wait_state("queued")
    return visitor, ack["conversation_id"]


# --- the whole path, in each language -----------------------------------------------------


@pytest.mark.parametrize("lang, agent", [("en", "ravi"), ("bn", "asha"), ("ml", "meera")])
async def test_bot_answer_then_escalation_then_agent_resolution(stack, clients, redis, lang, agent):
    visitor = await clients(
        "visitor", stack["a"], {"page": "https://shop.example/help", "locale": f"{lang}-IN"}
    )
    session = await visitor.wait_for("session")
    assert session["conversation_id"] is None and session["visitor_token"]

    question = example("refund_status", lang)
    ack = await visitor.say(question)
    cid = ack["conversation_id"]
    echo = await visitor.wait_message("visitor")
    assert (echo["text"], echo["seq"]) == (question, 1)
    answer = await visitor.wait_message("bot", reply="faq/refund_status")
    assert answer["lang"] == lang and answer["meta"]["topic"] == "refund_status"
    assert 0 < answer["meta"]["intent_confidence"] <= 1 and answer["meta"]["machine_translated"] is False
    feedback = await visitor.wait_message("bot", reply="ask_feedback")
    assert [b["payload"] for b in feedback["meta"]["buttons"]][:2] == ["/affirm", "/deny"]

    await visitor.say("/deny")  # the "no" button: the answer did not help
    status = await visitor.wait_state("queued")
    assert status["position"] >= 1 and status["eta_seconds"] > 0

    staff = await clients("agent", stack["b"], agent)  # the agent is on the other process
    entry = await staff.wait_queued(cid)
    assert entry["language"] == lang and entry["reason"] == "answer_not_helpful"
    no_title = feedback["meta"]["buttons"][1]["title"]  # the preview shows what was tapped, not "/deny"
    assert entry["preview"] == no_title, (entry["preview"], no_title)

    claimed = await staff.claim(cid)
    assert claimed["ok"], claimed
    packet = claimed["conversation"]
    assert packet["state"] == "assigned" and packet["language"] == lang
    assert packet["escalation"]["reason"] == "answer_not_helpful"
    assert packet["escalation"]["faq_topic"] == "refund_status"
    tried = packet["escalation"]["intents_tried"]
    assert tried[0]["intent"] == "refund_status" and 0 < tried[0]["confidence"] <= 1
    assert (
        packet["visitor"]["page"] == "https://shop.example/help"
        and packet["visitor"]["locale"] == f"{lang}-IN"
    )
    transcript = packet["messages"]
    assert transcript[0]["text"] == question and transcript[0]["lang"] == lang
    assert [m["seq"] for m in transcript] == list(range(1, len(transcript) + 1))
    assert packet["translation"]["enabled"] is False  # the agent speaks the visitor's language
    joined = await visitor.wait_for("status", lambda s: s["state"] == "assigned")
    assert joined["agent"]["name"] == agent.capitalize()

    ack = await staff.reply(cid, "Let me check that refund for you.")
    assert ack["ok"], ack
    got = await visitor.wait_message("agent")
    assert (
        got["text"] == "Let me check that refund for you."
        and got["meta"]["agent"]["name"] == agent.capitalize()
    )

    await visitor.say("thanks")
    heard = await staff.wait_for("message", lambda m: m["sender"] == "visitor" and m["text"] == "thanks")
    assert heard["conversation_id"] == cid

    closed = await staff.call(
        "close", {"conversation_id": cid, "resolution": "resolved", "note": "refund sent"}
    )
    assert closed["ok"], closed
    await visitor.wait_state("closed")
    assert (await staff.wait_for("unassigned"))["conversation_id"] == cid
    stored = redis.hgetall(f"conv:{cid}")
    assert stored["state"] == "closed" and '"resolved"' in stored["resolution"]
    assert not redis.sismember("agent:" + agent + ":chats", cid)

    # a new message after closing starts a new conversation, and the packet knows the visitor came back
    again = await visitor.say(example("request_human", lang))
    assert again["conversation_id"] != cid
    await staff.wait_queued(again["conversation_id"])
    packet = (await staff.call("claim", {"conversation_id": again["conversation_id"]}))["conversation"]
    assert packet["visitor"]["returning"] is True
    assert packet["visitor"]["earlier_conversations"][0]["resolution"] == "resolved"
    await staff.call("close", {"conversation_id": again["conversation_id"], "resolution": "follow_up"})


# --- queue: atomic claims, capacity, routing ------------------------------------------------


async def test_two_agents_on_two_processes_claim_at_once_only_one_wins(stack, clients):
    ravi = await clients("agent", stack["a"], "ravi")
    boss = await clients("agent", stack["b"], "boss")
    winners = {"ravi": 0, "boss": 0}
    for _ in range(8):
        _, cid = await escalated_visitor(stack, clients)
        await ravi.wait_queued(cid)
        first, second = await asyncio.gather(ravi.claim(cid), boss.claim(cid))
        assert [first["ok"], second["ok"]].count(True) == 1, (first, second)
        loser = second if first["ok"] else first
        assert loser["error"]["code"] == "taken"
        winner, client = ("ravi", ravi) if first["ok"] else ("boss", boss)
        winners[winner] += 1
        assert (await client.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]
    assert sum(winners.values()) == 8


async def test_capacity_is_enforced(stack, clients):
    solo = await clients("agent", stack["b"], "solo")
    _, first = await escalated_visitor(stack, clients)
    _, second = await escalated_visitor(stack, clients)
    await solo.wait_queued(second)
    assert (await solo.claim(first))["ok"]
    refused = await solo.claim(second)
    assert refused["error"]["code"] == "capacity"
    assert (await solo.call("close", {"conversation_id": first, "resolution": "resolved"}))["ok"]
    assert (await solo.claim(second))["ok"]
    assert (await solo.call("close", {"conversation_id": second, "resolution": "not_resolved"}))["ok"]


async def test_language_routing_offers_to_speakers_first_then_to_everyone(stack, clients):
    ravi = await clients("agent", stack["b"], "ravi")  # English only
    visitor, cid = await escalated_visitor(stack, clients, "bn")
    assert cid not in [e["conversation_id"] for e in (await ravi.call("queue"))["queue"]]
    early = await ravi.claim(cid)
    assert early["error"]["code"] == "not_offered"
    assert (await ravi.call("open", {"conversation_id": cid}))["error"]["code"] == "forbidden"
    asha = await clients("agent", stack["a"], "asha")  # speaks Bengali: may read it before claiming
    peek = await asha.call("open", {"conversation_id": cid})
    assert peek["ok"] and peek["conversation"]["state"] == "queued"
    assert peek["conversation"]["messages"][0]["text"] == example("request_human", "bn")
    entry = await ravi.wait_queued(cid, timeout=15)  # HANDOFF_ROUTE_ALL_AFTER=4 in this stack
    assert entry["offered_to_all"] is True and entry["wait_seconds"] >= 4
    claimed = await ravi.claim(cid)
    assert claimed["ok"], claimed
    translation = claimed["conversation"]["translation"]
    assert translation["enabled"] and translation["available"], translation  # bn<->en models installed
    assert (translation["visitor_lang"], translation["agent_lang"]) == ("bn", "en")

    # live translation both ways, originals kept
    await visitor.say("আমার অর্ডার কোথায়")
    heard = await ravi.wait_for("message", lambda m: m["sender"] == "visitor" and m.get("translation"))
    assert heard["text"] == "আমার অর্ডার কোথায়" and heard["lang"] == "bn"
    assert heard["translation"]["lang"] == "en" and heard["translation"]["text"]
    assert (await ravi.reply(cid, "Your order ships today."))["ok"]
    got = await visitor.wait_message("agent")
    assert got["lang"] == "bn" and got["meta"]["machine_translated"] is True
    assert got["meta"]["original"] == {"text": "Your order ships today.", "lang": "en"}

    off = await ravi.call("set_translation", {"conversation_id": cid, "enabled": False})
    assert off["ok"] and off["translation"]["enabled"] is False
    assert (await ravi.reply(cid, "plain english"))["ok"]
    plain = await visitor.wait_for(
        "message", lambda m: m["sender"] == "agent" and m["text"] == "plain english"
    )
    assert "machine_translated" not in plain["meta"]
    assert (await ravi.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]


async def test_no_translation_model_is_said_plainly_to_both_sides(stack, clients):
    ravi = await clients("agent", stack["b"], "ravi")
    visitor, cid = await escalated_visitor(stack, clients, "ml")
    await ravi.wait_queued(cid, timeout=15)
    packet = (await ravi.claim(cid))["conversation"]
    assert packet["translation"]["enabled"] is True and packet["translation"]["available"] is False
    assert "ml" in packet["translation"]["reason"]
    notice = await visitor.wait_message("system", kind="translation_unavailable")
    assert notice["lang"] == "ml"
    await ravi.wait_for("message", lambda m: m["meta"].get("kind") == "translation_unavailable")
    assert (await ravi.call("close", {"conversation_id": cid, "resolution": "not_resolved"}))["ok"]


# --- agent tools ------------------------------------------------------------------------------


async def test_typing_canned_replies_transfer_and_handback(stack, clients, redis):
    asha = await clients("agent", stack["b"], "asha")
    ravi = await clients("agent", stack["a"], "ravi")
    visitor, cid = await escalated_visitor(stack, clients, "en")
    await asha.wait_queued(cid)
    assert (await asha.claim(cid))["ok"]

    await visitor.emit("typing", {"typing": True})
    typing = await asha.wait_for("typing")
    assert typing == {"conversation_id": cid, "sender": "visitor", "typing": True}
    await asha.emit("typing", {"conversation_id": cid, "typing": True})
    assert (await visitor.wait_for("typing")) == {"sender": "agent", "typing": True}

    canned = await asha.call("canned_replies", {"language": "bn"})
    assert canned["ok"] and canned["replies"] and {r["lang"] for r in canned["replies"]} == {"bn"}
    everyone = await asha.call("agents")
    online = {a["username"]: a for a in everyone["agents"]}
    assert online["ravi"]["online"] is True and online["asha"]["load"] >= 1

    moved = await asha.call("transfer", {"conversation_id": cid, "to": "ravi"})
    assert moved["ok"], moved
    assert (await asha.wait_for("unassigned"))["reason"] == "transferred"
    assert (await ravi.wait_for("conversation", lambda c: c["conversation_id"] == cid))["state"] == "assigned"
    await visitor.wait_for("status", lambda s: s["state"] == "assigned" and s["agent"]["name"] == "Ravi")
    assert (await asha.reply(cid, "still mine?"))["error"]["code"] == "forbidden"

    back = await ravi.call("handback", {"conversation_id": cid})
    assert back["ok"], back
    await visitor.wait_state("bot")
    assert redis.hget(f"conv:{cid}", "state") == "bot"
    await visitor.say(example("refund_status", "en"))
    await visitor.wait_message("bot", reply="faq/refund_status")  # the bot answers again


async def test_agent_who_disconnects_loses_chats_after_the_grace_period(stack, clients):
    meera = await clients("agent", stack["b"], "meera")
    visitor, cid = await escalated_visitor(stack, clients, "en")
    await meera.wait_queued(cid)
    assert (await meera.claim(cid))["ok"]
    await meera.disconnect()
    note = await visitor.wait_message("system", kind="agent_left", timeout=20)  # grace is 2 s here
    assert note["text"]
    status = await visitor.wait_state("queued")
    assert status["position"] >= 1
    back = await clients("agent", stack["b"], "meera")
    assert (await back.wait_queued(cid))["reason"] == "requested"
    assert (await back.claim(cid))["ok"]
    assert (await back.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]


async def test_agent_reconnecting_within_grace_keeps_the_chat(stack, clients):
    ravi = await clients("agent", stack["b"], "ravi")
    visitor, cid = await escalated_visitor(stack, clients)
    await ravi.wait_queued(cid)
    assert (await ravi.claim(cid))["ok"]
    await ravi.disconnect()
    again = await clients("agent", stack["a"], "ravi")
    session = await again.wait_for("agent_session")
    assert cid in [c["conversation_id"] for c in session["conversations"]]
    await asyncio.sleep(4)
    assert (await again.reply(cid, "I'm back"))["ok"]
    assert not [m for m in visitor.messages("system") if m["meta"].get("kind") == "agent_left"]
    assert (await again.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]


# --- visitors: reconnection, offline form, isolation -------------------------------------------


async def test_reconnection_restores_history_without_loss_or_duplicates(stack, clients, redis):
    visitor = await clients("visitor", stack["a"], {"language": "en"})
    token = (await visitor.wait_for("session"))["visitor_token"]
    first = await visitor.say(example("refund_status", "en"), client_id="retry-me-1")
    await visitor.wait_message("bot", reply="ask_feedback")
    cid = first["conversation_id"]
    seen = max(m["seq"] for m in visitor.messages())
    await visitor.disconnect()

    # while the visitor is away, the same event is retried (no ack came back) and a new one is sent
    other_tab = await clients("visitor", stack["b"], {"visitor_token": token})
    await other_tab.wait_for("session")
    retried = await other_tab.say(example("refund_status", "en"), client_id="retry-me-1")
    assert retried["id"] == first["id"] and retried["seq"] == first["seq"]
    await other_tab.say("/affirm")
    await other_tab.wait_message("bot", after_seq=seen)

    back = await clients("visitor", stack["a"], {"visitor_token": token, "last_seq": seen})
    session = await back.wait_for("session")
    assert session["conversation_id"] == cid and session["visitor_id"] == (await visitor_id(token, stack))
    seqs = [m["seq"] for m in session["messages"]]
    assert seqs and seqs[0] == seen + 1 and seqs == list(range(seen + 1, seen + 1 + len(seqs)))
    history = await back.call("history", {"after_seq": 0})
    all_seqs = [m["seq"] for m in history["messages"]]
    assert all_seqs == list(range(1, len(all_seqs) + 1))
    assert [m["client_id"] for m in map_raw(redis, cid) if m.get("client_id") == "retry-me-1"] == [
        "retry-me-1"
    ]


async def visitor_id(token, stack):
    probe = await Visitor(stack["b"]).connect({"visitor_token": token})
    try:
        return (await probe.wait_for("session"))["visitor_id"]
    finally:
        await probe.disconnect()


def map_raw(redis, cid):
    import json

    return [json.loads(item) for item in redis.lrange(f"conv:{cid}:msgs", 0, -1)]


async def test_offline_form_when_no_agent_is_online(stack, clients, redis):
    # no agent socket is connected in this test (earlier tests' clients are closed); wait out presence
    deadline = time.time() + 15
    while redis.zcard("presence") and time.time() < deadline:
        await asyncio.sleep(0.5)
    visitor, cid = await escalated_visitor(stack, clients, "bn")
    status = await visitor.wait_for("status", lambda s: s["state"] == "queued" and s["offline"])
    assert status["offline"] is True
    form = await visitor.wait_message("system", kind="offline")
    assert form["lang"] == "bn"
    ack = await visitor.call(
        "offline_message", {"text": "ফোনে যোগাযোগ করুন", "contact": "+8801700000000", "client_id": "off-1"}
    )
    assert ack["ok"], ack
    await visitor.wait_state("closed")
    assert redis.hget(f"conv:{cid}", "state") == "closed"
    boss = await clients("agent", stack["b"], "boss")
    items = (await boss.call("offline_messages"))["items"]
    mine = [i for i in items if i["conversation_id"] == cid][0]
    assert mine["offline"]["contact"] == "+8801700000000" and mine["offline"]["text"] == "ফোনে যোগাযোগ করুন"
    assert mine["messages"][0]["text"] == example("request_human", "bn")


async def test_visitors_cannot_reach_agents_or_each_other(stack, clients):
    visitor = await clients("visitor", stack["a"])
    token = (await visitor.wait_for("session"))["visitor_token"]
    for auth in ({"token": token}, {"token": "forged.token"}, {}):
        intruder = AgentClient(stack["a"])
        with pytest.raises(socketio.exceptions.ConnectionError):
            await intruder.connect(auth)
        assert intruder.received("connect_error") == [{"message": "unauthorized"}]
    other = await clients("visitor", stack["a"])
    await other.wait_for("session")
    await visitor.say("hello there")
    await visitor.wait_message("bot")
    assert not other.messages()
    assert (await other.call("history", {"after_seq": 0}))["messages"] == []
    bad = await clients("visitor", stack["a"], {"visitor_token": token[:-2] + "xx"})
    assert (await bad.wait_for("session"))["visitor_id"] != (await visitor_id(token, stack))
    refused = login_status(stack["a"], "ravi", "wrong password")
    assert refused == 401


def login_status(base_url, username, password):
    import urllib.error

    try:
        login(base_url, username, password)
        return 200
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(
    "payload, code",
    [
        ("just a string", "bad_request"),
        ({"text": "hi"}, "bad_request"),
        ({"text": "hi", "client_id": "has spaces"}, "bad_request"),
        ({"text": "   ", "client_id": "e1"}, "empty"),
        ({"text": "x" * 4001, "client_id": "e2"}, "too_long"),
        ({"text": "hi", "client_id": "e3", "padding": "p" * 17000}, "too_long"),
        ({"text": 42, "client_id": "e4"}, "bad_request"),
    ],
)
async def test_malformed_and_oversized_events_are_rejected_and_nothing_is_stored(
    stack, clients, redis, payload, code
):
    visitor = await clients("visitor", stack["a"])
    await visitor.wait_for("session")

    def stored() -> int:  # rate-limit windows (`limits/...`) count requests; they store no event
        return sum(1 for key in redis.scan_iter(count=1000) if not key.startswith("limits"))

    before = stored()
    ack = await visitor.call("visitor_message", payload)
    assert ack == {"ok": False, "error": {"code": code, "message": ack["error"]["message"]}}
    assert ack["error"]["message"]
    assert stored() == before  # no conversation or message was created
    assert not visitor.messages()


async def test_agent_events_are_validated(stack, clients):
    ravi = await clients("agent", stack["b"], "ravi")
    assert (await ravi.call("claim", {"conversation_id": "c_" + "0" * 16}))["error"]["code"] == "not_found"
    assert (await ravi.call("claim", ["x"]))["error"]["code"] == "bad_request"
    assert (await ravi.call("close", {"conversation_id": "c_" + "0" * 16, "resolution": "done"}))["error"][
        "code"
    ] == "bad_request"
    visitor, cid = await escalated_visitor(stack, clients)
    assert (await ravi.reply(cid, "not yours"))["error"]["code"] == "forbidden"
    assert (await ravi.claim(cid))["ok"]
    assert (await ravi.claim(cid))["error"]["code"] == "taken"
    assert (await ravi.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]
    assert (await ravi.reply(cid, "too late"))["error"]["code"] == "invalid_state"


# --- dependencies down -------------------------------------------------------------------------


async def test_rasa_down_tells_the_visitor_and_offers_a_human(stack, clients, tmp_path):
    port = free_port()
    dead_rasa = f"http://127.0.0.1:{free_port()}"
    service = handoff_service(
        "no-rasa", port, stack["redis_url"], dead_rasa, stack["translator_url"], tmp_path
    ).start()
    try:
        visitor = await clients("visitor", f"http://127.0.0.1:{port}", {"language": "ml"})
        await visitor.wait_for("session")
        ack = await visitor.say(example("refund_status", "ml"))
        notice = await visitor.wait_message("system", kind="bot_unavailable")
        assert notice["lang"] == "ml" and notice["meta"]["buttons"][0]["payload"] == "/request_human"
        await visitor.say(notice["meta"]["buttons"][0]["payload"])
        await visitor.wait_state("queued")
        boss = await clients("agent", stack["b"], "boss")
        entry = await boss.wait_queued(ack["conversation_id"])
        assert entry["reason"] == "requested"
        assert (await boss.claim(ack["conversation_id"]))["ok"]
        assert (
            await boss.call("close", {"conversation_id": ack["conversation_id"], "resolution": "follow_up"})
        )["ok"]
    finally:
        service.stop()


async def test_redis_restarted_mid_conversation(tmp_path, stack, clients):
    """Own Redis and service: Redis stops, events get `unavailable` (nothing half-stored), it comes back,
    the conversation goes on with its history intact."""
    own = EmbeddedRedis(tmp_path / "redis")
    redis_url = own.start()
    add_agent(redis_url, "ravi", languages="en")
    port = free_port()
    service = handoff_service(
        "restart",
        port,
        redis_url,
        stack["rasa_url"],
        stack["translator_url"],
        tmp_path,
        RASA_TOKEN=stack["rasa_token"],
    ).start()
    base = f"http://127.0.0.1:{port}"
    try:
        visitor = await clients("visitor", base, {"language": "en"})
        await visitor.wait_for("session")
        first = await visitor.say(example("refund_status", "en"))
        await visitor.wait_message("bot", reply="ask_feedback")
        own.stop()
        down = await visitor.call("visitor_message", {"text": "are you there?", "client_id": "during-outage"})
        assert down["ok"] is False and down["error"]["code"] == "unavailable"
        own = EmbeddedRedis(tmp_path / "redis")
        own.start()
        deadline = time.time() + 20
        while True:
            retry = await visitor.call(
                "visitor_message", {"text": "are you there?", "client_id": "during-outage"}
            )
            if retry["ok"] or time.time() > deadline:
                break
            await asyncio.sleep(0.5)
        assert retry["ok"], retry
        history = (await visitor.call("history", {"after_seq": 0}))["messages"]
        assert history[0]["text"] == example("refund_status", "en") and history[0]["seq"] == first["seq"]
        assert [m["text"] for m in history].count("are you there?") == 1
        assert [m["seq"] for m in history] == list(range(1, len(history) + 1))
        await visitor.say("talk to a person")
        agent = await AgentClient.logged_in(base, "ravi")
        try:
            await agent.wait_queued(first["conversation_id"])
        finally:
            await agent.disconnect()
    finally:
        service.stop()
        own.stop()


async def test_health_and_unique_ids(stack):
    import json
    import urllib.request

    with urllib.request.urlopen(stack["a"] + "/health", timeout=5) as response:
        health = json.loads(response.read())
    assert health["translator"] is True and health["translation_pairs"] > 0, health
    assert {k: health[k] for k in ("status", "redis", "rasa")} == {
        "status": "ok",
        "redis": True,
        "rasa": True,
    }
    assert health["redis_memory"]["used"] > 0 and health["redis_memory"]["policy"] == "noeviction"


async def test_outside_opening_hours_the_visitor_gets_the_offline_form(tmp_path, stack, clients):
    """An agent is online, but the configured hours are closed: waiting visitors are offered the form."""
    own = EmbeddedRedis(tmp_path / "redis")
    redis_url = own.start()
    add_agent(redis_url, "ravi", languages="en")
    opens = (time.gmtime().tm_hour + 3) % 24
    hours = f"daily {opens:02d}:00-{(opens + 1) % 24:02d}:00"
    port = free_port()
    service = handoff_service(
        "closed",
        port,
        redis_url,
        stack["rasa_url"],
        stack["translator_url"],
        tmp_path,
        HANDOFF_HOURS=hours,
        RASA_TOKEN=stack["rasa_token"],
    ).start()
    base = f"http://127.0.0.1:{port}"
    try:
        agent = await clients("agent", base, "ravi")
        await agent.wait_for("agent_session")
        visitor = await clients("visitor", base, {"language": "en"})
        await visitor.wait_for("session")
        ack = await visitor.call("request_human", {})
        assert ack["ok"] and ack["state"] == "queued"
        status = await visitor.wait_for("status", lambda s: s["state"] == "queued")
        assert status["offline"] is True
        await visitor.wait_message("system", kind="offline")
        sent = await visitor.call(
            "offline_message", {"text": "Call me", "contact": "a@b.example", "client_id": "o1"}
        )
        assert sent["ok"], sent
        await visitor.wait_state("closed")
    finally:
        service.stop()
        own.stop()


async def test_rating_after_close_and_verified_identity(stack, clients, redis):
    import hashlib
    import hmac

    from tests.support.handoff_service import IDENTITY_SECRET

    signature = hmac.new(IDENTITY_SECRET.encode(), b"customer-829", hashlib.sha256).hexdigest()
    visitor = await clients(
        "visitor", stack["a"], {"identity": {"id": "customer-829", "signature": signature}}
    )
    vid = (await visitor.wait_for("session"))["visitor_id"]
    forged = await clients(
        "visitor", stack["a"], {"identity": {"id": "customer-830", "signature": signature}}
    )
    forged_vid = (await forged.wait_for("session"))["visitor_id"]
    assert redis.hget(f"visitor:{vid}", "verified_id") == "customer-829"
    assert redis.hget(f"visitor:{forged_vid}", "verified_id") is None

    early = await visitor.call("rate", {"score": 5})
    assert early["error"]["code"] == "invalid_state"  # nothing to rate yet
    ack = await visitor.call("request_human", {})
    boss = await clients("agent", stack["b"], "boss")
    packet = (await boss.claim(ack["conversation_id"]))["conversation"]
    assert packet["visitor"]["verified_id"] == "customer-829"
    assert (await visitor.call("rate", {"score": 4}))["error"]["code"] == "invalid_state"  # not closed yet
    assert (await boss.call("close", {"conversation_id": ack["conversation_id"], "resolution": "resolved"}))[
        "ok"
    ]
    await visitor.wait_state("closed")
    for bad in ({"score": 0}, {"score": 6}, {"score": "5"}, {"score": 5, "resolved": "yes"}):
        assert (await visitor.call("rate", bad))["error"]["code"] == "bad_request"
    rated = await visitor.call("rate", {"score": 5, "comment": "দারুণ", "resolved": True})
    assert rated == {"ok": True, "conversation_id": ack["conversation_id"]}
    packet = (await boss.call("open", {"conversation_id": ack["conversation_id"]}))["conversation"]
    assert packet["rating"]["score"] == 5 and packet["rating"]["resolved"] is True


async def test_a_conversation_left_with_the_bot_ends_when_idle(tmp_path, stack, clients):
    own = EmbeddedRedis(tmp_path / "redis")
    redis_url = own.start()
    port = free_port()
    dead_rasa = f"http://127.0.0.1:{free_port()}"
    service = handoff_service(
        "idle", port, redis_url, dead_rasa, stack["translator_url"], tmp_path, HANDOFF_BOT_IDLE="2"
    ).start()
    try:
        visitor = await clients("visitor", f"http://127.0.0.1:{port}", {"language": "en"})
        await visitor.wait_for("session")
        first = await visitor.say("hello")
        await visitor.wait_message("system", kind="bot_unavailable")
        await visitor.wait_state("closed", timeout=15)
        again = await visitor.say("hello again")
        assert again["conversation_id"] != first["conversation_id"] and again["seq"] == 1
    finally:
        service.stop()
        own.stop()


async def test_erasing_a_customer_reaches_redis_and_the_rasa_tracker(stack, clients, redis, tmp_path):
    """GDPR erasure (handoff/analytics/privacy.py) against the real Rasa server's tracker store."""
    import json
    import urllib.request

    import redis.asyncio as redis_async

    from handoff.analytics import db, privacy

    visitor = await clients("visitor", stack["a"], {"language": "en"})
    vid = (await visitor.wait_for("session"))["visitor_id"]
    ack = await visitor.say(example("refund_status", "en"))
    await visitor.wait_message("bot", reply="ask_feedback")
    cid = ack["conversation_id"]

    def tracker_texts():
        with urllib.request.urlopen(
            f"{stack['rasa_url']}/conversations/{cid}/tracker?token={stack['rasa_token']}", timeout=10
        ) as r:
            return [e.get("text") for e in json.loads(r.read())["events"] if e.get("event") == "user"]

    assert tracker_texts() == [example("refund_status", "en")]
    url = f"sqlite:///{tmp_path / 'log.db'}"
    db.migrate(url)
    client = redis_async.Redis.from_url(stack["redis_url"], decode_responses=True)
    try:
        exported = await privacy.export_customer(
            db.make_engine(url), client, vid, stack["rasa_url"], stack["rasa_token"]
        )
        assert cid in exported["rasa"]["trackers"]
        result = await privacy.delete_customer(
            db.make_engine(url), client, vid, stack["rasa_url"], stack["rasa_token"]
        )
    finally:
        await client.aclose()
    assert result["rasa"]["status"] == "ok" and cid in result["conversation_ids"]
    assert tracker_texts() == []
    assert not redis.exists(f"conv:{cid}", f"conv:{cid}:msgs", f"visitor:{vid}")


async def test_prechat_info_reaches_the_packet_and_a_stale_copy_gets_the_whole_conversation(stack, clients):
    info = {"name": "Rina Das", "email": "rina@example.com"}
    visitor = await clients("visitor", stack["a"], {"visitor_info": info})
    session = await visitor.wait_for("session")
    bad = await visitor.call("visitor_info", {"name": 7})
    assert bad["error"]["code"] == "bad_request"
    ack = await visitor.call("request_human", {})
    boss = await clients("agent", stack["b"], "boss")
    packet = (await boss.claim(ack["conversation_id"]))["conversation"]
    assert packet["visitor"]["info"] == info
    assert (await boss.reply(ack["conversation_id"], "hello Rina"))["ok"]
    await visitor.wait_message("agent")
    # a copy of another (older) conversation with a high last_seq still gets all of the latest one
    token = session["visitor_token"]
    stale = await clients(
        "visitor", stack["b"], {"visitor_token": token, "conversation_id": "c_" + "f" * 16, "last_seq": 50}
    )
    messages = (await stale.wait_for("session"))["messages"]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1)) and len(messages) >= 2
    fresh = await clients(
        "visitor",
        stack["b"],
        {"visitor_token": token, "conversation_id": ack["conversation_id"], "last_seq": 50},
    )
    assert (await fresh.wait_for("session"))["messages"] == []
    assert (await boss.call("close", {"conversation_id": ack["conversation_id"], "resolution": "resolved"}))[
        "ok"
    ]


async def test_an_answer_rasa_gave_while_redis_restarts_is_stored_once_rasa_asked_once(
    tmp_path, stack, caplog
):
    """Redis goes away as a bot turn starts, and again after Rasa answered, each time back a second
    later: the turn waits for it both times and stores the answer once, with no re-drive, and Rasa
    is asked once (a re-drive would ask it again and put the text in its tracker twice)."""
    own = EmbeddedRedis(tmp_path / "redis")
    client = keyspace.async_client(own.start())
    asked, restarted = [], []

    def restart() -> None:
        restarted.append(EmbeddedRedis(tmp_path / "redis"))
        restarted[-1].start()

    def outage() -> None:
        (restarted or [own])[-1].stop()
        threading.Timer(1.0, restart).start()

    class RedisStopsWhileRasaAnswers(RasaClient):
        async def send(self, conversation_id, text, metadata):
            replies = await super().send(conversation_id, text, metadata)  # the real Rasa
            asked.append(text)
            outage()
            return replies

    store = Store(client)
    rasa = RedisStopsWhileRasaAnswers(stack["rasa_url"], token=stack["rasa_token"])
    turns = BotTurn(store, rasa, Announcer(socketio.AsyncServer()), transcript=None, waiting=None)
    try:
        turn = await store.visitor_message("v_outage", example("refund_status", "en"), "m-1")
        outage()
        await turns.run(turn.conversation, turn.message)
        assert asked == [example("refund_status", "en")]
        messages = await store.messages(turn.conversation.id)
        assert [m["sender"] for m in messages][:2] == ["visitor", "bot"], messages
        assert {m["meta"].get("reply") for m in messages[1:]} >= {"ask_feedback"}
        assert await store.stalled_turns(time.time() + 60) == []  # nothing left for the sweeper
        assert "taking the turn lock" in caplog.text and "storing the bot's answer" in caplog.text
        assert "re-drive" not in caplog.text
    finally:
        await rasa.close()
        await client.aclose()
        for server in [own, *restarted]:
            server.stop()
