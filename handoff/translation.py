"""Live translation between visitor and agent, through the translator service (translator/server.py).

The service runs argostranslate offline; when it has no model for a pair (or is
down) the caller gets `TranslationUnavailable` with a plain reason, and the
conversation goes on untranslated, with both sides told.
"""

from __future__ import annotations

import time
from typing import Optional, Set, Tuple

import httpx

from translator.client import Translation, TranslationUnavailable, pairs_from_health

__all__ = ["LiveTranslator", "Translation", "TranslationUnavailable"]


class LiveTranslator:
    def __init__(self, base_url: str, timeout: float = 10.0, pairs_ttl: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.pairs_ttl = pairs_ttl
        self._client = httpx.AsyncClient(timeout=timeout)
        self._pairs: Optional[Set[Tuple[str, str]]] = None
        self._pairs_at = 0.0
        self.reachable = False  # the service answered its last /health (it may have no models)

    async def close(self) -> None:
        await self._client.aclose()

    async def pairs(self) -> Set[Tuple[str, str]]:
        """The pairs the service translates (directly or through English); empty when it is down."""
        now = time.monotonic()
        if self._pairs is None or now - self._pairs_at > self.pairs_ttl:
            try:
                health = (await self._client.get(self.base_url + "/health", timeout=2.0)).json()
                self.reachable = True
                self._pairs = pairs_from_health(health)
            except httpx.HTTPError:
                self.reachable, self._pairs = False, set()
            except (ValueError, KeyError, TypeError):
                self._pairs = set()
            self._pairs_at = now
        return self._pairs

    async def why_not(self, source: str, target: str) -> Optional[str]:
        """None when source -> target can be translated, else the reason in plain words."""
        if source == target:
            return None
        pairs = await self.pairs()
        if not pairs:
            return "the translation service is not running or has no models installed"
        if (source, target) not in pairs:
            return f"no translation model for {source} -> {target} is installed"
        return None

    async def translate(self, text: str, source: str, target: str) -> Translation:
        try:
            response = await self._client.post(
                self.base_url + "/translate", json={"text": text, "source": source, "target": target}
            )
        except httpx.HTTPError as exc:
            raise TranslationUnavailable(f"translator service is unreachable ({type(exc).__name__})") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            raise TranslationUnavailable.from_error_body(response.status_code, body)
        return Translation.from_body(body)
