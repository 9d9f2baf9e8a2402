"""The bot's turn: a visitor message to Rasa (handoff/rasa_client.py), its replies stored and announced.

One turn at a time per conversation (a lock that lives only while someone holds it). What the turn
leaves behind (the language Rasa detected, written once onto the conversation and the visitor's
message; the bot's resolution; the replies) is stored in one script (`Store.record_bot_turn`).
The bot's handoff event (docs/handoff-event.md) then escalates the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any, Dict, List, Optional

from handoff.announcer import Announcer
from handoff.bot_context import escalation_context
from handoff.rasa_client import BotReply, BotUnavailable, RasaClient
from handoff.store import LiveConversation, Store
from handoff.transcript import REQUEST_HUMAN_PAYLOAD, Transcript
from handoff.waiting import WaitingLine

log = logging.getLogger("handoff")

REPLY_META = ("reply", "topic", "intent_confidence", "machine_translated", "requested_lang", "notes")


def reply_body(reply: BotReply) -> Dict[str, Any]:
    """A bot reply as a message to store (its `lang`: the reply's, else the conversation's)."""
    meta = {k: reply.meta.get(k) for k in REPLY_META if reply.meta.get(k) is not None}
    if reply.buttons:
        meta["buttons"] = reply.buttons
    return {"sender": "bot", "text": reply.text, "lang": reply.meta.get("lang") or None, "meta": meta}


class BotTurn:
    def __init__(
        self,
        store: Store,
        rasa: RasaClient,
        announcer: Announcer,
        transcript: Transcript,
        waiting: WaitingLine,
    ) -> None:
        self.store, self.rasa, self.announcer = store, rasa, announcer
        self.transcript, self.waiting = transcript, waiting
        self._locks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    async def run(self, conv: LiveConversation, stored: Dict[str, Any], chosen_language: str = "") -> None:
        """Answer the visitor's `stored` message; `chosen_language` is the visitor's own choice."""
        lock = self._locks.get(conv.id)
        if lock is None:
            lock = self._locks[conv.id] = asyncio.Lock()
        async with lock:
            metadata: Dict[str, Any] = {"conversation_language": conv.language or None}
            if chosen_language:
                metadata["language"] = chosen_language
            try:
                replies = await self.rasa.send(conv.id, stored["text"], metadata)
            except BotUnavailable as exc:
                log.warning("bot unavailable for %s: %s", conv.id, exc)
                if stored["text"].strip() == REQUEST_HUMAN_PAYLOAD:
                    context = escalation_context(await self.store.messages(conv.id), conv.language)
                    escalation = {"reason": "requested", "source": "service", **context}
                    await self.waiting.escalate(conv, escalation)
                else:
                    await self.transcript.system(conv, "bot_unavailable")
                return
            await self._record(conv, stored, replies)
            handoff = next((r.handoff for r in replies if r.handoff), None)
            if handoff:
                await self.waiting.escalate(conv, handoff, announced_by_bot=True)

    async def _record(self, conv: LiveConversation, stored: Dict[str, Any], replies: List[BotReply]) -> None:
        detected: Optional[str] = None
        resolution: Optional[Dict[str, Any]] = None
        for reply in replies:
            detected = reply.meta.get("requested_lang") or detected
            if reply.resolution:
                resolution = {**reply.resolution, "at": time.time()}
        bodies = [reply_body(reply) for reply in replies if reply.text]
        messages = await self.store.record_bot_turn(conv.id, stored["seq"], detected, resolution, bodies)
        if detected:
            conv.language = detected
            stored["lang"] = detected
        for message in messages:
            await self.announcer.message(conv, message)
