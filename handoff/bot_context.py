"""What the bot's part of a stored transcript tells agents: the titles of the buttons the visitor
tapped (a tapped button is stored as its payload, `/deny`; agents should read "No"), and the context
of an escalation the service makes itself (the widget's "talk to a person" link): the intents the
bot recognised with their confidences and the FAQ topic it last answered, in the shape of the bot's
own handoff event (docs/handoff-event.md). Pure functions over MESSAGE dicts.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

MAX_INTENTS_TRIED = 10  # as the bot's own event (actions/actions.py)


def button_titles(messages: Iterable[Dict[str, Any]]) -> Dict[str, str]:
    """payload -> title of every button offered in `messages` (a later offer wins)."""
    titles: Dict[str, str] = {}
    for message in messages:
        for button in (message.get("meta") or {}).get("buttons") or []:
            if isinstance(button, dict):
                payload, title = button.get("payload"), button.get("title")
                if isinstance(payload, str) and isinstance(title, str) and title.strip():
                    titles[payload] = title
    return titles


def shown_text(message: Dict[str, Any], titles: Dict[str, str]) -> str:
    """What the visitor saw: a tapped button's title instead of its payload."""
    text = str(message.get("text") or "")
    if message.get("sender") == "visitor" and text in titles:
        return titles[text]
    return text


def _intent_of(reply: Dict[str, Any]) -> Optional[str]:
    meta = reply.get("meta") or {}
    name = meta.get("reply")
    if isinstance(name, str) and name.startswith("faq/"):
        return name[4:]
    return meta.get("topic") if isinstance(meta.get("topic"), str) else None


def escalation_context(messages: List[Dict[str, Any]], language: str) -> Dict[str, Any]:
    """`intents_tried`, `last_intent`, `confidence`, `faq_topic` from the stored bot turns: each
    visitor message with the FAQ answer the bot gave it (the answer's intent and confidence)."""
    titles = button_titles(messages)
    tried: List[Dict[str, Any]] = []
    faq_topic: Optional[str] = None
    for index, message in enumerate(messages):
        if message.get("sender") == "bot":
            topic = (message.get("meta") or {}).get("topic")
            if isinstance(topic, str) and topic:
                faq_topic = topic
        if message.get("sender") != "visitor":
            continue
        replies = []
        for later in messages[index + 1 :]:
            if later.get("sender") == "visitor":
                break
            if later.get("sender") == "bot":
                replies.append(later)
        answer = next((r for r in replies if _intent_of(r)), None)
        meta = (answer or {}).get("meta") or {}
        tried.append(
            {
                "text": shown_text(message, titles),
                "intent": _intent_of(answer) if answer else None,
                "confidence": meta.get("intent_confidence"),
                "language": message.get("lang") or language or None,
                "timestamp": message.get("at"),
            }
        )
    tried = tried[-MAX_INTENTS_TRIED:]
    last = next((t for t in reversed(tried) if t["intent"]), None)
    return {
        "intents_tried": tried,
        "last_intent": last["intent"] if last else None,
        "confidence": last["confidence"] if last else None,
        "faq_topic": faq_topic,
    }
