"""What agents see of a conversation: the handoff packet, and live translation for the agent.

Translation is on when the agent's languages do not include the visitor's (or as the agent chose
with `set_translation`); `available` says whether the translator has a model for the pair.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Dict, Optional

from handoff.agents import Agent, UserStore
from handoff.protocol import message_wire
from handoff.state import State
from handoff.store import LiveConversation, Store
from handoff.translation import LiveTranslator, TranslationUnavailable

log = logging.getLogger("handoff")


class Packets:
    def __init__(self, store: Store, users: UserStore, translator: LiveTranslator) -> None:
        self.store, self.users, self.translator = store, users, translator

    async def translation_state(self, conv: LiveConversation, agent: Optional[Agent]) -> Dict[str, Any]:
        """TRANSLATION of docs/protocol.md."""
        visitor_lang = conv.language or "en"
        agent_lang = agent.languages[0] if agent and agent.languages else "en"
        speaks = agent is None or visitor_lang in agent.languages
        enabled = {"on": True, "off": False}.get(conv.translation, not speaks)
        reason = await self.translator.why_not(visitor_lang, agent_lang) or await self.translator.why_not(
            agent_lang, visitor_lang
        )
        return {
            "enabled": enabled,
            "available": reason is None,
            "visitor_lang": visitor_lang,
            "agent_lang": agent_lang,
            "reason": reason,
        }

    async def _earlier(self, conv: LiveConversation) -> list:
        earlier = []
        for cid in await self.store.visitor_conversations(conv.visitor_id):
            if cid == conv.id:
                continue
            other = await self.store.get(cid)
            if other:
                earlier.append(
                    {
                        "conversation_id": cid,
                        "started_at": other.created_at,
                        "state": other.state.value,
                        "resolution": (other.resolution or other.bot_resolution or {}).get("code")
                        or ("resolved_by_bot" if other.bot_resolution else None),
                    }
                )
        return earlier

    async def packet(
        self, conv: LiveConversation, agent: Optional[Agent], translation: Optional[Dict[str, Any]] = None
    ) -> Dict[str, Any]:
        """PACKET of docs/protocol.md: the conversation with its whole history, for `agent`
        (`translation`: its translation state, when the caller has just worked it out)."""
        visitor = await self.store.visitor(conv.visitor_id)
        earlier = await self._earlier(conv)
        assigned = await self.users.get(conv.agent) if conv.agent else None
        now = time.time()
        wait_until = conv.claimed_at if conv.claimed_at and conv.state is not State.QUEUED else now
        return {
            "conversation_id": conv.id,
            "state": conv.state.value,
            "language": conv.language,
            "agent": {"username": assigned.username, "name": assigned.display_name} if assigned else None,
            "queued_at": conv.queued_at,
            "wait_seconds": int(wait_until - conv.queued_at) if conv.queued_at else None,
            "escalation": conv.escalation,
            "visitor": {
                "visitor_id": conv.visitor_id,
                "page": visitor.get("page"),
                "locale": visitor.get("locale"),
                "language": visitor.get("language"),
                "verified_id": visitor.get("verified_id"),
                "info": json.loads(visitor["info"]) if visitor.get("info") else None,
                "returning": bool(earlier),
                "earlier_conversations": earlier,
            },
            "translation": translation or await self.translation_state(conv, agent),
            "resolution": conv.resolution,
            "rating": json.loads(conv.raw["rating"]) if conv.raw.get("rating") else None,
            "offline": conv.offline,
            "messages": [message_wire(m, "agent") for m in await self.store.messages(conv.id)],
        }

    async def translate_for_agent(self, conv: LiveConversation, stored: Dict[str, Any]) -> Dict[str, Any]:
        """A visitor's message with a `translation` for the conversation's agent, when it is on."""
        agent = await self.users.get(conv.agent) if conv.agent else None
        state = await self.translation_state(conv, agent)
        if not (state["enabled"] and state["available"]):
            return stored
        source = stored.get("lang") or state["visitor_lang"]
        if source == state["agent_lang"]:
            return stored
        try:
            translation = await self.translator.translate(stored["text"], source, state["agent_lang"])
        except TranslationUnavailable as exc:
            log.warning("translation for agent failed: %s", exc.reason)
            return await self.store.update_message(conv.id, stored["seq"], translation_error=exc.reason)
        return await self.store.update_message(
            conv.id, stored["seq"], translation={"text": translation.text, "lang": translation.target}
        )

    async def translate_for_visitor(self, conv: LiveConversation, agent: Agent, text: str) -> Dict[str, Any]:
        """(lang the agent wrote in, `translated` for the visitor or None) for an agent's message."""
        state = await self.translation_state(conv, agent)
        agent_lang = state["agent_lang"]
        translated = None
        if state["enabled"] and state["available"] and state["visitor_lang"] != agent_lang:
            try:
                result = await self.translator.translate(text, agent_lang, state["visitor_lang"])
                translated = {"text": result.text, "lang": result.target}
            except TranslationUnavailable as exc:
                log.warning("translation for visitor failed: %s", exc.reason)
        lang = agent_lang if state["enabled"] else (conv.language or agent_lang)
        return {"lang": lang, "translated": translated}
