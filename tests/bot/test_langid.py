"""bot/langid.py: script ranges, candidates, function words, short messages, determinism."""

import pytest

from bot.langid import LanguageIdentifier, latin_only, script_counts

CANDIDATES = ["en", "bn", "ml", "hi", "ta", "fr", "es", "ar"]


@pytest.fixture(scope="module")
def detector():
    return LanguageIdentifier(CANDIDATES, default="en", min_chars=12)


@pytest.mark.parametrize(
    "text, lang",
    [
        ("আমার অর্ডার কোথায়", "bn"),
        ("আমার order টা কবে আসবে", "bn"),  # code-mixed
        ("NS2650391 এর refund status কি", "bn"),  # mostly Latin letters, Bengali words
        ("എന്റെ ഓർഡർ എവിടെ", "ml"),
        ("thanks ഡാ", "ml"),
        ("मेरा ऑर्डर कहाँ है", "hi"),
        ("என் ஆர்டர் எங்கே", "ta"),
        ("أين طلبي", "ar"),
        ("where is my order NS1234567", "en"),
        ("cancel my order", "en"),  # plain langdetect says Spanish
        ("are agents available at 10 pm", "en"),  # plain langdetect says French
        ("où est ma commande s'il vous plaît", "fr"),
        ("¿dónde está mi pedido?", "es"),
    ],
)
def test_detects_language(detector, text, lang):
    detection = detector.detect(text)
    assert detection.code == lang
    assert detection.reliable


def test_script_counts_include_vowel_signs():
    counts = script_counts("কি order")
    assert counts == {"bengali": 2, "latin": 5}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("amar order kothay?", True),
        ("NS9988776 refund", True),
        ("আমার order", False),
        ("123 ?", False),
        ("", False),
    ],
)
def test_latin_only_needs_latin_letters_and_no_other_script(text, expected):
    assert latin_only(text) is expected


@pytest.mark.parametrize("text", ["ok", "yes", "hmm", "payment failed", "👍", "12345", ""])
def test_short_latin_or_letterless_messages_keep_the_conversation_language(detector, text):
    detection = detector.detect(text, hint="bn")
    assert detection.code == "bn"
    assert not detection.reliable
    assert detection.method == "hint"


def test_short_message_without_hint_falls_back_to_default(detector):
    detection = detector.detect("ok")
    assert (detection.code, detection.reliable, detection.method) == ("en", False, "default")


def test_hint_outside_candidates_is_ignored(detector):
    assert detector.detect("ok", hint="xx").code == "en"


def test_script_of_no_candidate_is_unreliable(detector):
    detection = detector.detect("Где мой заказ")  # Cyrillic: no candidate uses it
    assert not detection.reliable
    assert detection.script == "cyrillic"


def test_only_configured_candidates_are_returned():
    english_only = LanguageIdentifier(["en", "bn"], default="en")
    assert english_only.detect("où est ma commande s'il vous plaît").code == "en"


def test_seeded_detection_is_deterministic(detector):
    text = "do you have express delivery to my city"
    results = {detector.detect(text).as_dict().__repr__() for _ in range(20)}
    assert len(results) == 1


def test_invalid_configuration_is_rejected():
    with pytest.raises(ValueError):
        LanguageIdentifier([], default="en")
    with pytest.raises(ValueError):
        LanguageIdentifier(["bn"], default="en")


@pytest.fixture(scope="module")
def romanized_detector():
    """The detector with the romanized classifier trained as the NLU component trains it."""
    from bot.components.language_detector import romanized_classifier
    from bot.content import load_content

    examples = [
        (text, key.split("-")[0])
        for intent in load_content().intents.values()
        for key, block in intent.languages.items()
        for text in block.examples
    ]
    detector = LanguageIdentifier(CANDIDATES, default="en", min_chars=12)
    detector.romanized = romanized_classifier(examples, CANDIDATES)
    return detector


@pytest.mark.parametrize(
    "text, lang",
    [
        ("amar order kothay", "bn"),
        ("refund kobe pabo", "bn"),
        ("ente order evide", "ml"),
        ("password marannu poyi", "ml"),
    ],
)
def test_romanized_bengali_and_malayalam_are_detected_with_latin_script(romanized_detector, text, lang):
    detection = romanized_detector.detect(text)
    assert (detection.code, detection.script, detection.method, detection.reliable) == (
        lang,
        "latin",
        "romanized",
        True,
    )


@pytest.mark.parametrize(
    "text, lang",
    [
        ("where is my order NS1234567", "en"),
        ("cancel my order", "en"),
        ("où est ma commande s'il vous plaît", "fr"),
        ("¿dónde está mi pedido?", "es"),
        ("আমার অর্ডার কোথায়", "bn"),
    ],
)
def test_romanized_classifier_leaves_other_languages_alone(romanized_detector, text, lang):
    assert romanized_detector.detect(text).code == lang


def test_romanized_classifier_needs_two_languages():
    from bot.components.language_detector import romanized_classifier

    assert romanized_classifier([("hello", "en"), ("where is my order", "en")], CANDIDATES) is None
