"""Talks to the Rasa server through the `handoff` channel (bot/channels.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx


class BotUnavailable(Exception):
    """The bot could not answer (Rasa down, timed out or returned an error)."""


@dataclass
class BotReply:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    custom: Optional[Dict[str, Any]] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    @property
    def handoff(self) -> Optional[Dict[str, Any]]:
        return (self.custom or {}).get("handoff")

    @property
    def resolution(self) -> Optional[Dict[str, Any]]:
        return (self.custom or {}).get("resolution")


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 30.0, token: str = "") -> None:
        self.url = base_url.rstrip("/") + "/webhooks/handoff/webhook"  # a channel: no token
        self.status_url = base_url.rstrip("/") + "/status"  # the HTTP API: needs the token
        self.api_url = base_url.rstrip("/")
        self._token, self.timeout = token, timeout
        self._client = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> List[BotReply]:
        try:
            response = await self._client.post(
                self.url, json={"sender": conversation_id, "message": text, "metadata": metadata}
            )
        except httpx.HTTPError as exc:
            raise BotUnavailable(f"Rasa at {self.url} is unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise BotUnavailable(f"Rasa answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise BotUnavailable("Rasa answered something that is not JSON") from exc
        replies = []
        for item in body if isinstance(body, list) else []:
            if not isinstance(item, dict):
                continue
            replies.append(
                BotReply(
                    text=item.get("text") or "",
                    buttons=[
                        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                        for b in item.get("buttons") or []
                        if isinstance(b, dict)
                    ],
                    custom=item.get("custom") if isinstance(item.get("custom"), dict) else None,
                    meta=item.get("meta") if isinstance(item.get("meta"), dict) else {},
                )
            )
        return replies

    async def healthy(self) -> bool:
        try:
            return (
                await self._client.get(self.status_url, params={"token": self._token}, timeout=2.0)
            ).status_code == 200
        except httpx.HTTPError:
            return False

    async def clear_tracker(self, conversation_id: str) -> None:
        """Empty the conversation's tracker (Rasa 3.6 has no delete: its events become an empty list).
        Raises httpx.HTTPError when Rasa is unreachable or refuses."""
        response = await self._client.put(
            f"{self.api_url}/conversations/{quote(conversation_id, safe='')}/tracker/events",
            params={"token": self._token},
            json=[],
            timeout=10.0,
        )
        response.raise_for_status()
