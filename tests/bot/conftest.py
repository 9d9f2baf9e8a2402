"""Fixtures: real rasa-sdk trackers built from events (as in RasaHQ/rasa-demo)."""

import os

import pytest
from rasa_sdk import Tracker

from tests.support.processes import free_port


def user_event(
    text, intent, confidence=0.95, language="en", reliable=True, method="script", metadata=None, ranking=None
):
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": [],
        "language": language,
        "language_confidence": 1.0 if reliable else 0.0,
        "language_detection": {"reliable": reliable, "method": method, "script": None},
    }
    return {"event": "user", "text": text, "parse_data": parse, "metadata": metadata or {}, "timestamp": 1.0}


def bot_action(name):
    return {"event": "action", "name": name}


def make_tracker(*events, slots=None, sender_id="visitor-1"):
    events = list(events)
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(sender_id, slots or {}, latest, events, False, None, {}, "action_listen")


@pytest.fixture(autouse=True, scope="session")
def translator_down():
    """Point the actions at a port where nothing listens: the translator is down."""
    previous = os.environ.get("TRANSLATOR_URL")
    os.environ["TRANSLATOR_URL"] = f"http://127.0.0.1:{free_port()}"
    yield
    if previous is None:
        os.environ.pop("TRANSLATOR_URL", None)
    else:
        os.environ["TRANSLATOR_URL"] = previous
