"""bot/components/fallback.py: "please rephrase" below the threshold of the message's language block."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.components.fallback import LanguageFallbackClassifier, language_block

CONFIG = {
    "threshold": 0.7,
    "ambiguity_threshold": 0.0,
    "thresholds": {"en": 0.25, "bn": 0.55, "bn-Latn": 0.45},
}


def message(intent: str, confidence: float, language: str, script=None, second: float = 0.0) -> Message:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": second}]
    return Message(
        data={
            "text": "…",
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking,
            "language": language,
            "language_detection": {"reliable": True, "method": "test", "script": script},
        }
    )


def classify(msg: Message, config=CONFIG) -> Message:
    return LanguageFallbackClassifier({**LanguageFallbackClassifier.get_default_config(), **config}).process(
        [msg]
    )[0]


@pytest.mark.parametrize(
    "language, script, block",
    [
        ("bn", "bengali", "bn"),
        ("bn", "latin", "bn-Latn"),
        ("ml", "latin", "ml-Latn"),
        ("en", "latin", "en"),  # English has no other script
        ("es", "latin", "es"),
        ("hi", "devanagari", "hi"),
        (None, None, None),
    ],
)
def test_language_block_names_romanized_text_by_its_script(language, script, block):
    assert language_block(language, script) == block


@pytest.mark.parametrize(
    "language, script, confidence, falls_back",
    [
        ("en", "latin", 0.30, False),  # above en's 0.25
        ("en", "latin", 0.20, True),
        ("bn", "bengali", 0.60, False),  # above bn's 0.55
        ("bn", "bengali", 0.50, True),
        ("bn", "latin", 0.50, False),  # romanized Bengali: bn-Latn's 0.45
        ("bn", "latin", 0.40, True),
        ("ml", "malayalam", 0.65, True),  # no threshold of its own: the default 0.7
        ("ml", "malayalam", 0.75, False),
        ("es", "latin", 0.65, True),  # a language with no training examples: the default
    ],
)
def test_each_language_block_has_its_threshold(language, script, confidence, falls_back):
    result = classify(message("order_status", confidence, language, script))
    assert (result.get("intent")["name"] == "nlu_fallback") is falls_back
    if falls_back:
        # The fallback's confidence is the threshold it fell below, and the guess stays in the ranking.
        threshold = CONFIG["thresholds"].get(language_block(language, script), CONFIG["threshold"])
        assert result.get("intent")["confidence"] == threshold
        assert [r["name"] for r in result.get("intent_ranking")][:2] == ["nlu_fallback", "order_status"]


def test_without_per_language_thresholds_it_is_rasas_fallback_classifier():
    config = {"threshold": 0.7, "ambiguity_threshold": 0.0}
    assert (
        classify(message("order_status", 0.65, "en", "latin"), config).get("intent")["name"] == "nlu_fallback"
    )
    assert (
        classify(message("order_status", 0.75, "en", "latin"), config).get("intent")["name"] == "order_status"
    )


def test_ambiguity_margin_applies_in_every_language():
    config = {**CONFIG, "ambiguity_threshold": 0.1}
    result = classify(message("order_status", 0.5, "en", "latin", second=0.45), config)
    assert result.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("thresholds", [{"bn": 1.5}, {"bn": "high"}, ["bn", 0.5]])
def test_invalid_thresholds_are_rejected(thresholds):
    with pytest.raises(ValueError):
        LanguageFallbackClassifier({"threshold": 0.7, "ambiguity_threshold": 0.0, "thresholds": thresholds})
