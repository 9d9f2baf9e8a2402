"""bot/gibberish.py: keyboard mashes told from words, learned from Latin-letter examples."""

import pytest

from bot.content import load_content
from bot.gibberish import MashDetector, words
from bot.langid import latin_only


@pytest.fixture(scope="module")
def detector():
    """Learned as in production: from the Latin-letter training examples (en, romanized bn/ml)."""
    content = load_content()
    texts = [
        text
        for intent in content.intents.values()
        for block in intent.languages.values()
        for text in block.examples
        if latin_only(text)
    ]
    assert len(texts) > 3000
    return MashDetector.learn(texts)


@pytest.mark.parametrize("text", ["qwrtp zxcvb", "asdf qwerty", "hjkl hjkl", "zxcvbnm", "fjdksla ghty"])
def test_keyboard_mashes_are_mashes(detector, text):
    assert detector.is_mash(text)


@pytest.mark.parametrize(
    "text",
    [
        "where is it",  # known words
        "ende ordr evidaa",  # one known chat spelling is enough
        "où est ma commande",  # French: letters like words (the encoder reads it)
        "definitely",  # unknown, but spelt like the examples' words
        "NS9988776",  # codes and order numbers are never mashes
        "xkq",  # too few letters to judge
        "কখগঘ ঙচছজ",  # not in Latin letters: never judged
        "qwrtp আমার zxcvb",  # code-mixed: not only Latin letters
        "",
    ],
)
def test_words_and_codes_are_not_mashes(detector, text):
    assert not detector.is_mash(text)


def test_letter_score_ranks_words_above_mashes(detector):
    assert detector.letter_score("delivery") > detector.threshold > detector.letter_score("qwrtp")


def test_an_untrained_detector_flags_nothing():
    assert not MashDetector().is_mash("qwrtp zxcvb")


def test_saved_as_plain_data_and_loaded_the_same(detector):
    loaded = MashDetector.from_dict(detector.as_dict())
    for text in ("qwrtp zxcvb", "where is my order", "definitely"):
        assert loaded.is_mash(text) == detector.is_mash(text)
        assert loaded.letter_score(text) == pytest.approx(detector.letter_score(text))


def test_words_are_lower_case_and_skip_numbers():
    assert words("Where is ORDER 12345, NS99?") == ["where", "is", "order"]


def test_messages_in_languages_the_examples_are_not_in_are_not_judged(detector):
    gated = MashDetector.from_dict({**detector.as_dict(), "languages": ["en", "bn", "ml"]})
    assert gated.is_mash("qwrtp zxcvb", "en") and gated.is_mash("qwrtp zxcvb", "bn")
    assert gated.is_mash("qwrtp zxcvb")  # no detected language: judged
    assert not gated.is_mash("qwrtp zxcvb", "fr")  # French words are unknown here, not mashes
    assert MashDetector.from_dict(gated.as_dict()).languages == {"en", "bn", "ml"}
