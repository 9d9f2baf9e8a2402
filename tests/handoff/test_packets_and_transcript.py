"""handoff/packets.py, handoff/transcript.py and handoff/announcer.py on the real service (no
translator running: translation is unavailable, and says why)."""

from __future__ import annotations

import pytest

from handoff.agents import Agent

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


async def test_system_messages_are_in_the_visitors_language_and_reach_both_sides(live):
    asha = await live.agent("asha", "ml,en")
    visitor = await live.visitor(language="ml")
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    assert (await asha.claim(cid))["ok"]
    conv = await live.service.store.get(cid)
    stored = await live.service.transcript.system(conv, "bot_unavailable")
    assert stored["lang"] == "ml" and stored["meta"]["buttons"][0]["payload"] == "/request_human"
    seen = await visitor.wait_message("system", kind="bot_unavailable")
    heard = await asha.wait_for("message", lambda m: m["meta"].get("kind") == "bot_unavailable")
    assert seen["seq"] == heard["seq"] == stored["seq"]
    english, _ = live.service.transcript.texts.get("bot_unavailable", "en")
    assert seen["text"] != english  # Malayalam text, not the English fallback


async def test_the_packet_and_translation_state_for_an_agent_who_needs_translation(live):
    visitor = await live.visitor(language="bn", page="https://shop.example/cart", locale="bn-BD")
    await visitor.call("visitor_info", {"name": "Rina"})
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    conv = await live.service.store.get(cid)
    ravi = Agent("ravi", "Ravi", "agent", ("en",), 3)
    packets = live.service.packets
    state = await packets.translation_state(conv, ravi)
    assert (state["enabled"], state["available"], state["visitor_lang"], state["agent_lang"]) == (
        True,
        False,
        "bn",
        "en",
    )
    assert "not running" in state["reason"]
    packet = await packets.packet(conv, ravi)
    assert packet["state"] == "queued" and packet["agent"] is None and packet["wait_seconds"] >= 0
    assert packet["visitor"]["page"] == "https://shop.example/cart" and packet["visitor"]["info"] == {
        "name": "Rina"
    }
    assert packet["visitor"]["returning"] is False
    message = {"seq": 1, "text": "আমার অর্ডার", "lang": "bn"}
    assert await packets.translate_for_agent(conv, message) is message  # unavailable: unchanged
    typed = await packets.translate_for_visitor(conv, ravi, "hello")
    assert typed == {"lang": "en", "translated": None}
