"""A REST input channel that keeps each bot message's metadata.

Rasa's built-in `rest` channel drops the metadata of bot messages. The handoff
service needs it (language, FAQ topic, confidence, machine translation), so it
talks to Rasa through this channel, registered in credentials.yml:

    POST /webhooks/handoff/webhook
    {"sender": "conversation-id", "message": "text", "metadata": {...}}

answers a JSON list with one entry per bot message:

    {"recipient_id", "text", "buttons", "custom", "meta"}
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

MAX_MESSAGE_CHARS = 4000
_STRUCTURAL_KEYS = {
    "text",
    "buttons",
    "custom",
    "elements",
    "quick_replies",
    "attachment",
    "image",
    "timestamp",
}


class MetadataCollectingOutputChannel(CollectingOutputChannel):
    """Collects bot messages together with their metadata."""

    @classmethod
    def name(cls) -> str:
        return "handoff"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        meta = {
            key: value for key, value in message.items() if key not in _STRUCTURAL_KEYS and value is not None
        }
        # Rasa drops falsy values from action messages, so "not translated"
        # arrives as a missing key: say it explicitly.
        meta.setdefault("machine_translated", False)
        await self._persist_message(
            {
                "recipient_id": recipient_id,
                "text": message.get("text"),
                "buttons": message.get("buttons") or [],
                "custom": message.get("custom") or None,
                "meta": meta,
            }
        )


class HandoffInput(RestInput):
    """`POST /webhooks/handoff/webhook`: like `rest`, with metadata, and strict input."""

    @classmethod
    def name(cls) -> str:
        return "handoff"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("handoff_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else None
            if body is None:
                return response.json({"error": "bad_request", "message": "expected a JSON object"}, 400)
            sender, text = body.get("sender"), body.get("message")
            metadata = body.get("metadata") or {}
            if not isinstance(sender, str) or not sender or len(sender) > 200:
                return response.json(
                    {"error": "bad_request", "message": "`sender` must be a string of 1-200 characters"}, 400
                )
            if not isinstance(text, str) or not text.strip():
                return response.json(
                    {"error": "bad_request", "message": "`message` must be non-empty text"}, 400
                )
            if len(text) > MAX_MESSAGE_CHARS:
                return response.json(
                    {
                        "error": "too_long",
                        "message": f"`message` is longer than {MAX_MESSAGE_CHARS} characters",
                    },
                    413,
                )
            if not isinstance(metadata, dict):
                return response.json({"error": "bad_request", "message": "`metadata` must be an object"}, 400)
            collector = MetadataCollectingOutputChannel()
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
            return response.json(collector.messages)

        return webhook
