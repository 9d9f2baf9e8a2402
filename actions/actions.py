"""The assistant's custom actions. Every reply is in the conversation's language
(actions/replies.py) and carries metadata the handoff service shows to agents."""

from __future__ import annotations

import abc
import asyncio
import functools
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import REASON_BY_INTENT, handoff_event
from actions.language import conversation_language
from actions.replies import Localiser, Reply
from bot.content import Content, load_content
from translator.client import TranslatorClient

LOW_CONFIDENCE_STREAK = 2  # consecutive low-confidence messages that escalate


@functools.lru_cache(maxsize=1)
def content() -> Content:
    """The content, read once on first use (not at import time)."""
    return load_content()


@functools.lru_cache(maxsize=1)
def localiser() -> Localiser:
    return Localiser(content(), TranslatorClient())


def off_the_event_loop(run: Callable[..., List]) -> Callable[..., Any]:
    """An action's `run` in a worker thread: replies may call the translator over HTTP with a
    blocking client (translator/client.py), which must not stall the action server's event loop."""

    @functools.wraps(run)
    async def wrapped(self: Action, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List:
        return await asyncio.to_thread(run, self, dispatcher, tracker, domain)

    return wrapped


def _language(tracker: Tracker) -> str:
    return conversation_language(tracker, default=content().settings.default)


def _send(
    # Metadata keys must not collide with rasa-sdk's message keys: Rasa treats
    # `response` (and `template`) as the name of a domain response to render.
    dispatcher: CollectingDispatcher,
    reply: Reply,
    response: str,
    buttons: Optional[List[Dict[str, str]]] = None,
    custom: Optional[Dict[str, Any]] = None,
    **meta: Any,
) -> None:
    dispatcher.utter_message(
        text=reply.text,
        buttons=localiser().maybe_offer_human(reply, buttons),
        json_message=custom,
        **reply.meta(reply=response, **meta),
    )


def _intent(tracker: Tracker) -> Dict[str, Any]:
    return (tracker.latest_message or {}).get("intent") or {}


class ActionAnswerFaq(Action):
    """Answers the FAQ topic of the latest message, then asks if it helped."""

    def name(self) -> str:
        return "action_answer_faq"

    @off_the_event_loop
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List:
        lang = _language(tracker)
        intent = _intent(tracker)
        topic = intent.get("name")
        if topic not in content().faq_topics:
            topic = tracker.get_slot("faq_topic")
        if topic not in content().faq_topics:
            _send(dispatcher, localiser().say("rephrase", lang), "rephrase")
            return [SlotSet("language", lang)]
        answer = localiser().render(content().answer(topic), lang)
        _send(
            dispatcher,
            answer,
            f"faq/{topic}",
            topic=topic,
            intent_confidence=intent.get("confidence"),
        )
        ask = localiser().say("ask_feedback", lang)
        buttons = localiser().buttons(lang, "button_yes", "button_no")
        _send(dispatcher, ask, "ask_feedback", buttons=buttons, topic=topic)
        return [SlotSet("faq_topic", topic), SlotSet("language", lang)]


class ActionMarkResolved(Action):
    """ "Yes" after an answer: the bot resolved the conversation."""

    def name(self) -> str:
        return "action_mark_resolved"

    @off_the_event_loop
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List:
        lang = _language(tracker)
        topic = tracker.get_slot("faq_topic")
        resolution = {"resolution": {"by": "bot", "topic": topic}}
        _send(dispatcher, localiser().say("resolved", lang), "resolved", custom=resolution, topic=topic)
        return [SlotSet("resolution", "resolved_by_bot"), SlotSet("language", lang)]


def escalate(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> List:
    lang = _language(tracker)
    event = handoff_event(tracker, reason, lang, content().faq_topics)
    reply = localiser().say(f"handoff_{reason}", lang)
    _send(dispatcher, reply, "handoff", custom={"handoff": event}, handoff_reason=reason)
    return [SlotSet("handoff", event), SlotSet("language", lang)]


class ActionHandoff(Action):
    """Escalates to a human: explicit request, complaint, or "no" after an answer."""

    def name(self) -> str:
        return "action_handoff"

    @off_the_event_loop
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List:
        reason = REASON_BY_INTENT.get(_intent(tracker).get("name"), "requested")
        return escalate(dispatcher, tracker, reason)


def low_confidence_streak(tracker: Tracker) -> int:
    """How many of the newest user messages in a row were low-confidence."""
    streak = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            break
        streak += 1
    return streak


class ActionLowConfidence(Action):
    """A message the bot did not understand: ask to rephrase; the second in a
    row escalates to a human."""

    def name(self) -> str:
        return "action_low_confidence"

    @off_the_event_loop
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List:
        if low_confidence_streak(tracker) >= LOW_CONFIDENCE_STREAK:
            return escalate(dispatcher, tracker, "low_confidence")
        lang = _language(tracker)
        buttons = localiser().buttons(lang, "button_human")
        _send(dispatcher, localiser().say("rephrase", lang), "rephrase", buttons=buttons)
        return [SlotSet("language", lang)]


class _SayResponse(Action, abc.ABC):
    """Says one response of data/responses.yml in the conversation's language."""

    response_key = ""

    @abc.abstractmethod
    def name(self) -> str: ...

    @off_the_event_loop
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List:
        lang = _language(tracker)
        _send(dispatcher, localiser().say(self.response_key, lang), self.response_key)
        return [SlotSet("language", lang)]


class ActionGreet(_SayResponse):
    response_key = "greet"

    def name(self) -> str:
        return "action_greet"


class ActionGoodbye(_SayResponse):
    response_key = "goodbye"

    def name(self) -> str:
        return "action_goodbye"


class ActionThanks(_SayResponse):
    response_key = "thanks"

    def name(self) -> str:
        return "action_thanks"


class ActionOutOfScope(_SayResponse):
    response_key = "out_of_scope"

    def name(self) -> str:
        return "action_out_of_scope"


class ActionAnythingElse(_SayResponse):
    response_key = "anything_else"

    def name(self) -> str:
        return "action_anything_else"
