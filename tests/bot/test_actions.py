"""The custom actions, run on real rasa-sdk trackers (translator service down)."""

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from actions.language import conversation_language
from bot.content import load_content
from tests.bot.conftest import bot_action, make_tracker, user_event


@pytest.fixture(autouse=True)
def fresh_singletons():
    actions.content.cache_clear()
    actions.localiser.cache_clear()
    yield


@pytest.fixture(scope="module")
def content():
    return load_content()


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_faq_answer_in_bengali_then_feedback_question(content):
    tracker = make_tracker(user_event("আমার অর্ডার কোথায়", "order_status", language="bn"))
    messages, slots = run(actions.ActionAnswerFaq(), tracker)
    answer, ask = messages
    assert answer["text"] == content.answer("order_status")["bn"]
    assert answer["lang"] == "bn" and answer["machine_translated"] is False
    assert answer["reply"] == "faq/order_status" and answer["topic"] == "order_status"
    assert answer["intent_confidence"] == 0.95
    assert ask["text"] == content.response("ask_feedback")["bn"]
    assert [b["payload"] for b in ask["buttons"]] == ["/affirm", "/deny"]
    assert slots == {"faq_topic": "order_status", "language": "bn"}


@pytest.mark.parametrize("lang", ["en", "bn", "ml"])
def test_every_topic_is_answered_in_every_authored_language(content, lang):
    for topic in content.faq_topics:
        tracker = make_tracker(user_event("q", topic, language=lang))
        messages, _ = run(actions.ActionAnswerFaq(), tracker)
        assert messages[0]["text"] == content.answer(topic)[lang]


def test_unserved_language_gets_english_with_authored_apology_and_human_offer(content):
    tracker = make_tracker(user_event("मेरा ऑर्डर कहाँ है", "order_status", language="hi"))
    messages, slots = run(actions.ActionAnswerFaq(), tracker)
    answer = messages[0]
    assert answer["text"].startswith(content.response("no_language_support")["hi"])
    assert answer["text"].endswith(content.answer("order_status")["en"])
    assert answer["lang"] == "en" and answer["requested_lang"] == "hi"
    assert answer["machine_translated"] is False
    assert "unreachable" in answer["notes"][0] or "no translation model" in answer["notes"][0]
    assert any(b["payload"] == "/request_human" for b in answer["buttons"])
    assert slots["language"] == "hi"


def test_language_without_authored_apology_gets_plain_english(content):
    tracker = make_tracker(user_event("Где мой заказ", "order_status", language="ru"))
    messages, _ = run(actions.ActionAnswerFaq(), tracker)
    assert messages[0]["text"] == content.answer("order_status")["en"]


def test_short_message_keeps_conversation_language():
    tracker = make_tracker(
        user_event("എന്റെ ഓർഡർ എവിടെ", "order_status", language="ml"),
        bot_action("action_answer_faq"),
        user_event("ok", "affirm", language="en", reliable=False, method="default"),
    )
    assert conversation_language(tracker) == "ml"


def test_visitor_choice_in_metadata_wins():
    tracker = make_tracker(
        user_event("where is my order", "order_status", language="en", metadata={"language": "bn"})
    )
    assert conversation_language(tracker) == "bn"


def test_yes_after_answer_marks_resolved_by_bot(content):
    tracker = make_tracker(
        user_event("എന്റെ ഓർഡർ എവിടെ", "order_status", language="ml"),
        bot_action("action_answer_faq"),
        user_event("അതെ", "affirm", language="ml"),
        slots={"faq_topic": "order_status"},
    )
    messages, slots = run(actions.ActionMarkResolved(), tracker)
    assert slots["resolution"] == "resolved_by_bot"
    assert messages[0]["custom"] == {"resolution": {"by": "bot", "topic": "order_status"}}
    assert messages[0]["text"] == content.response("resolved")["ml"]


@pytest.mark.parametrize(
    "intent, reason, key",
    [
        ("request_human", "requested", "handoff_requested"),
        ("complaint", "complaint", "handoff_complaint"),
        ("deny", "answer_not_helpful", "handoff_answer_not_helpful"),
    ],
)
def test_handoff_emits_structured_event(content, intent, reason, key):
    tracker = make_tracker(
        user_event("টাকা ফেরত কবে পাব", "refund_status", confidence=0.91, language="bn"),
        bot_action("action_answer_faq"),
        user_event("না", intent, confidence=0.88, language="bn"),
        slots={"faq_topic": "refund_status"},
        sender_id="conv-42",
    )
    messages, slots = run(actions.ActionHandoff(), tracker)
    event = messages[0]["custom"]["handoff"]
    assert messages[0]["text"] == content.response(key)["bn"]
    assert messages[0]["handoff_reason"] == reason
    assert event["type"] == "handoff" and event["reason"] == reason
    assert event["language"] == "bn" and event["conversation_id"] == "conv-42"
    assert event["last_intent"] == intent and event["confidence"] == 0.88
    assert event["faq_topic"] == "refund_status"
    assert [t["intent"] for t in event["intents_tried"]] == ["refund_status", intent]
    assert slots["handoff"] == event


def test_first_low_confidence_message_asks_to_rephrase(content):
    fallback = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "warranty", "confidence": 0.31}]
    tracker = make_tracker(user_event("ক খ গ", "nlu_fallback", 0.5, "bn", ranking=fallback))
    messages, slots = run(actions.ActionLowConfidence(), tracker)
    assert messages[0]["text"] == content.response("rephrase")["bn"]
    assert "handoff" not in slots


def test_second_low_confidence_message_in_a_row_escalates():
    fallback = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "warranty", "confidence": 0.31}]
    tracker = make_tracker(
        user_event("ক খ গ", "nlu_fallback", 0.5, "bn", ranking=fallback),
        bot_action("action_low_confidence"),
        user_event("ঘ ঙ চ", "nlu_fallback", 0.5, "bn", ranking=fallback),
    )
    messages, slots = run(actions.ActionLowConfidence(), tracker)
    event = messages[0]["custom"]["handoff"]
    assert event["reason"] == "low_confidence"
    assert event["best_guess"] == "warranty" and event["best_guess_confidence"] == 0.31
    assert slots["handoff"]["reason"] == "low_confidence"


def test_low_confidence_streak_is_broken_by_an_understood_message():
    fallback = [{"name": "nlu_fallback", "confidence": 0.5}]
    tracker = make_tracker(
        user_event("ক খ গ", "nlu_fallback", 0.5, "bn", ranking=fallback),
        user_event("আমার অর্ডার কোথায়", "order_status", language="bn"),
        user_event("ঘ ঙ চ", "nlu_fallback", 0.5, "bn", ranking=fallback),
    )
    messages, slots = run(actions.ActionLowConfidence(), tracker)
    assert "handoff" not in slots


@pytest.mark.parametrize(
    "action, key",
    [
        (actions.ActionGreet(), "greet"),
        (actions.ActionGoodbye(), "goodbye"),
        (actions.ActionThanks(), "thanks"),
        (actions.ActionOutOfScope(), "out_of_scope"),
        (actions.ActionAnythingElse(), "anything_else"),
    ],
)
def test_simple_responses_in_malayalam(content, action, key):
    tracker = make_tracker(user_event("...", "greet", language="ml"))
    messages, _ = run(action, tracker)
    assert messages[0]["text"] == content.response(key)["ml"]
    assert messages[0]["reply"] == key


def test_mentioned_topic_needs_a_clear_winner_among_topics():
    from actions.handoff import mentioned_topic

    topics = ["invoice", "refund_status", "support_hours"]
    clear = {
        "intent_ranking": [
            {"name": "request_human", "confidence": 0.98},
            {"name": "invoice", "confidence": 1e-2},
            {"name": "refund_status", "confidence": 1e-5},
        ]
    }
    vague = {
        "intent_ranking": [
            {"name": "request_human", "confidence": 0.99},
            {"name": "support_hours", "confidence": 2e-8},
            {"name": "invoice", "confidence": 1e-8},
        ]
    }
    # A "no" (seen from the served model): a topic leads by 11x, on 6e-9 of the probability.
    chance = {
        "intent_ranking": [
            {"name": "deny", "confidence": 1.0},
            {"name": "refund_status", "confidence": 5.8e-9},
            {"name": "invoice", "confidence": 5.0e-10},
        ]
    }
    assert mentioned_topic(clear, topics) == "invoice"
    assert mentioned_topic(vague, topics) is None
    assert mentioned_topic(chance, topics) is None
    assert mentioned_topic({"intent_ranking": []}, topics) is None
