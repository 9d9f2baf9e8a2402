"""Adding messages to a conversation: store (handoff/store.py), then announce (handoff/announcer.py).

System messages are in the visitor's language (data/handoff/messages.yml, handoff/texts.py).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from handoff.announcer import Announcer
from handoff.store import LiveConversation, Store
from handoff.texts import Texts

REQUEST_HUMAN_PAYLOAD = "/request_human"


class Transcript:
    def __init__(self, store: Store, announcer: Announcer, texts: Texts) -> None:
        self.store, self.announcer, self.texts = store, announcer, texts

    async def add(
        self,
        conv: LiveConversation,
        sender: str,
        text: str,
        lang: Optional[str],
        meta: Optional[Dict[str, Any]] = None,
        client_id: str = "",
        expect: Tuple[Tuple[str, str], ...] = (),
        **extra: Any,
    ) -> Tuple[Dict[str, Any], bool]:
        """Store a message and announce it (unless it is a retried client_id): (message, fresh)."""
        body = {"conversation_id": conv.id, "sender": sender, "text": text, "lang": lang, "meta": meta or {}}
        body.update({k: v for k, v in extra.items() if v is not None})
        if client_id:
            body["client_id"] = client_id
        message, fresh = await self.store.append(conv.id, body, client_id=client_id, expect=expect)
        if fresh:
            await self.announcer.message(conv, message)
        return message, fresh

    async def system(
        self, conv: LiveConversation, kind: str, note: Optional[str] = None, **values: str
    ) -> Dict[str, Any]:
        """A system message in the visitor's language; `note` is for agents (meta.note)."""
        text, lang = self.texts.get(kind, conv.language or "en", **values)
        meta: Dict[str, Any] = {"kind": kind}
        if note:
            meta["note"] = note
        if kind == "bot_unavailable":
            title, _ = self.texts.get("button_human", conv.language or "en")
            meta["buttons"] = [{"title": title, "payload": REQUEST_HUMAN_PAYLOAD}]
        message, _ = await self.add(conv, "system", text, lang, meta)
        return message
