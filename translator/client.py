"""HTTP client for the translator service. Standard library only, so that the
Rasa environment (NLU components, actions) can use it."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Optional, Set, Tuple

DEFAULT_URL = "http://127.0.0.1:5070"


class TranslationUnavailable(Exception):
    """No translation could be made; `reason` says why, in plain words."""

    def __init__(self, reason: str, code: str = "unavailable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

    @classmethod
    def from_error_body(cls, status: int, body: dict) -> TranslationUnavailable:
        """The service's error answer (`{"error", "message"}`, docs in translator/server.py)."""
        return cls(body.get("message", f"translator answered HTTP {status}"), body.get("error", "error"))


@dataclass(frozen=True)
class Translation:
    text: str
    source: str
    target: str
    engine: str
    model: str

    @classmethod
    def from_body(cls, body: dict) -> Translation:
        """The service's `POST /translate` answer."""
        return cls(
            text=body["text"],
            source=body["source"],
            target=body["target"],
            engine=body.get("engine", "argostranslate"),
            model=body.get("model", ""),
        )

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "source": self.source,
            "target": self.target,
            "engine": self.engine,
            "model": self.model,
        }


def pairs_from_health(health: dict) -> Set[Tuple[str, str]]:
    """The (source, target) pairs listed by the service's `GET /health`."""
    return {(p["source"], p["target"]) for p in health.get("pairs", [])}


class TranslatorClient:
    """Talks to `translator.server`. Cheap to create; nothing happens until called."""

    def __init__(self, base_url: Optional[str] = None, timeout: float = 3.0, pairs_ttl: float = 30.0) -> None:
        self.base_url = (base_url or os.environ.get("TRANSLATOR_URL") or DEFAULT_URL).rstrip("/")
        self.timeout = timeout
        self.pairs_ttl = float(os.environ.get("TRANSLATOR_PAIRS_TTL", pairs_ttl))
        self._pairs: Optional[Set[Tuple[str, str]]] = None
        self._pairs_at = 0.0

    def _request(self, path: str, payload: Optional[dict] = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            headers={"Content-Type": "application/json"},
            method="POST" if payload is not None else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read().decode("utf-8"))
            except ValueError:
                body = {}
            raise TranslationUnavailable.from_error_body(exc.code, body) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TranslationUnavailable(
                f"translator service at {self.base_url} is unreachable ({exc})", "unreachable"
            ) from exc

    def pairs(self) -> Set[Tuple[str, str]]:
        """Language pairs (source, target) the service can translate; empty if it is down."""
        now = time.monotonic()
        if self._pairs is None or now - self._pairs_at > self.pairs_ttl:
            try:
                health = self._request("/health")
                self._pairs = pairs_from_health(health)
            except TranslationUnavailable:
                self._pairs = set()
            self._pairs_at = now
        return self._pairs

    def can_translate(self, source: str, target: str) -> bool:
        return (source, target) in self.pairs()

    def translate(self, text: str, source: str, target: str) -> Translation:
        body = self._request("/translate", {"text": text, "source": source, "target": target})
        return Translation.from_body(body)
