"""Issue 12's defects on the service side, on the real service (in-process, real Redis, real
sockets; Rasa is down, so the bot's turns are stored the way handoff/bot_turn.py stores them):

- a message that opens a new conversation after a closed one sends the visitor a `status`;
- agents read what the visitor tapped ("No"), not the payload ("/deny"), in the queue preview;
- the "talk to a person" link (`request_human`) carries the bot's context: intents tried, FAQ topic;
- /health says the translator runs even when it has no model (a real translator, no packages).
"""

from __future__ import annotations

import httpx
import pytest

from handoff.translation import LiveTranslator
from tests.support.processes import free_port, translator_service

pytestmark = pytest.mark.asyncio(loop_scope="session")

FEEDBACK = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


@pytest.fixture
def live(live_clean):
    return live_clean


async def bot_answered(live, visitor, text: str, client_id: str) -> str:
    """The visitor asks; the bot's FAQ answer and feedback question are stored as bot_turn stores them."""
    ack = await visitor.call("visitor_message", {"text": text, "client_id": client_id})
    assert ack["ok"], ack
    replies = [
        {
            "sender": "bot",
            "text": "Refunds take 5 days.",
            "lang": "en",
            "meta": {"reply": "faq/refund_status", "topic": "refund_status", "intent_confidence": 0.93},
        },
        {
            "sender": "bot",
            "text": "Did that answer your question?",
            "lang": "en",
            "meta": {"reply": "ask_feedback", "topic": "refund_status", "buttons": FEEDBACK},
        },
    ]
    await live.service.store.record_bot_turn(ack["conversation_id"], ack["seq"], "en", None, replies)
    return ack["conversation_id"]


async def test_a_message_after_a_closed_chat_sends_the_new_conversations_status(live):
    visitor = await live.visitor(language="en")
    first = await visitor.call("request_human", {})
    await visitor.wait_state("queued")
    assert (await visitor.call("leave", {}))["ok"]
    await visitor.wait_state("closed")
    again = await visitor.call("visitor_message", {"text": "one more thing", "client_id": "n-1"})
    assert again["conversation_id"] != first["conversation_id"]
    status = await visitor.wait_state("bot", timeout=5)  # no longer "the conversation has ended"
    assert status["position"] is None and status["agent"] is None


async def test_request_human_carries_the_bots_context_and_previews_show_button_titles(live):
    agent = await live.agent("ravi", "en")
    visitor = await live.visitor(language="en")
    cid = await bot_answered(live, visitor, "where is my refund", "q-1")
    tapped = await visitor.call("visitor_message", {"text": "/deny", "client_id": "q-2"})
    assert tapped["ok"]
    asked = await visitor.call("request_human", {})
    assert asked["state"] == "queued" and asked["conversation_id"] == cid
    conv = await live.service.store.get(cid)
    escalation = conv.escalation
    assert (escalation["reason"], escalation["source"]) == ("requested", "service")
    assert escalation["faq_topic"] == "refund_status"
    assert [(t["text"], t["intent"], t["confidence"]) for t in escalation["intents_tried"]] == [
        ("where is my refund", "refund_status", 0.93),
        ("No", None, None),
    ]
    assert (escalation["last_intent"], escalation["confidence"]) == ("refund_status", 0.93)
    view = await agent.wait_for("queue", lambda q: any(e["conversation_id"] == cid for e in q["queue"]))
    entry = next(e for e in view["queue"] if e["conversation_id"] == cid)
    assert entry["preview"] == "No"  # what the visitor tapped, not "/deny"


async def test_health_says_the_translator_runs_when_it_has_no_model(tmp_path):
    port = free_port()
    empty = tmp_path / "no-packages"
    empty.mkdir()
    translator = translator_service(port, empty, tmp_path).start()
    try:
        live_translator = LiveTranslator(f"http://127.0.0.1:{port}")
        try:
            assert await live_translator.pairs() == set()
            assert live_translator.reachable is True
        finally:
            await live_translator.close()
        down = LiveTranslator(f"http://127.0.0.1:{free_port()}")
        try:
            assert await down.pairs() == set() and down.reachable is False
        finally:
            await down.close()
    finally:
        translator.stop()


async def test_health_reports_translation_pairs(live):
    async with httpx.AsyncClient() as client:
        health = (await client.get(live.base_url + "/health", timeout=5)).json()
    assert health["translator"] is False and health["translation_pairs"] == 0, health
