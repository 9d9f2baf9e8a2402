"""bot/transliterate.py: romanized Bengali and Malayalam back to the native script."""

import numpy as np
import pytest

from bot.components.sentence_features import combine
from bot.transliterate import MAX_CHARS, to_native


@pytest.mark.parametrize(
    "latin, lang, native",
    [
        ("amar order kothay", "bn", "আমার অর্ডার কথায়"),
        ("dhonnobad", "bn", "ধন্নবাদ"),
        ("ami bujhi", "bn", "আমি বুঝি"),
        ("nanni", "ml", "നന്നി"),
        ("ente order evide", "ml", "എന്തെ ഒര്ദെര് എവിദെ"),
    ],
)
def test_known_inputs(latin, lang, native):
    assert to_native(latin, lang) == native


def test_capitals_are_read_as_lower_case():
    assert to_native("Amar ORDER Kothay", "bn") == to_native("amar order kothay", "bn")


def test_order_numbers_punctuation_and_native_words_stay():
    assert to_native("amar order NS2650391 kothay?", "bn") == "আমার অর্ডার NS2650391 কথায়?"
    assert to_native("আমার order", "bn") == "আমার অর্ডার"
    assert to_native("ente order, evide?", "ml") == "എന്തെ ഒര്ദെര്, എവിദെ?"


def test_nothing_to_convert_is_none():
    assert to_native("", "bn") is None
    assert to_native("NS2650391 12", "bn") is None
    assert to_native("আমার অর্ডার", "bn") is None
    assert to_native("where is my order", "es") is None  # no transliterator for this language
    assert to_native("where is my order", None) is None


def test_too_long_is_not_transliterated():
    assert to_native("a" * MAX_CHARS, "bn") is not None
    assert to_native("a" * (MAX_CHARS + 1), "bn") is None


def test_combine_modes():
    latin, native = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert combine(latin, native, "latin") is latin
    assert combine(latin, native, "native") is native
    mean = combine(latin, native, "mean")
    assert np.allclose(mean, [2**-0.5, 2**-0.5]) and np.isclose(np.linalg.norm(mean), 1.0)


def test_featurizer_embeds_romanized_messages_with_their_native_form():
    from rasa.shared.nlu.training_data.message import Message

    from bot.components.sentence_features import SentenceEncoderFeaturizer, sentence_embedding
    from bot.encoder import get_encoder

    featurizer = SentenceEncoderFeaturizer({})
    romanized = Message(
        data={"text": "amar order kothay", "language": "bn", "language_detection": {"script": "latin"}}
    )
    english = Message(
        data={"text": "where is my order", "language": "en", "language_detection": {"script": "latin"}}
    )
    featurizer.process([romanized, english])
    latin, native, plain = get_encoder().encode(["amar order kothay", "আমার অর্ডার কথায়", "where is my order"])
    assert np.allclose(sentence_embedding(romanized), combine(latin, native, "mean"), atol=1e-5)
    assert np.allclose(sentence_embedding(english), plain, atol=1e-5)


def test_featurizer_rejects_an_unknown_mode():
    from bot.components.sentence_features import SentenceEncoderFeaturizer

    with pytest.raises(ValueError, match="romanized must be one of"):
        SentenceEncoderFeaturizer({"romanized": "both"})


def test_a_generated_copy_takes_its_source_as_native_form():
    from rasa.shared.nlu.training_data.message import Message

    from bot.components.sentence_features import copy_sources
    from bot.romanize import romanize

    def example(text, intent, **block):
        return Message(data={"text": text, "intent": intent, "metadata": {"intent": block}})

    source = "আমার অর্ডার কোথায়"
    messages = [
        example(source, "order_status", language="bn"),
        example("amar order kothay", "order_status", language="bn", script="latin"),  # human-typed
        example(romanize(source), "order_status", language="bn", script="latin", generated="bot.romanize"),
        example(romanize(source), "refund", language="bn", script="latin", generated="bot.romanize"),
    ]
    assert copy_sources(messages) == {2: source}  # another intent's copy has no source here


@pytest.mark.parametrize(
    "variants, lang",
    [
        (["ente", "ende", "nte"], "ml"),
        (["evide", "yevide", "evidde"], "ml"),
        (["cheyyanam", "cheyanam", "cheyyannam"], "ml"),
        (["undu", "und"], "ml"),
        (["kothay", "kothai", "kotay"], "bn"),
        (["bhule", "vule"], "bn"),
    ],
)
def test_spelling_key_joins_chat_variants(variants, lang):
    from bot.transliterate import spelling_key

    assert len({spelling_key(v, lang) for v in variants}) == 1


def _lexicon():
    from bot.transliterate import Lexicon

    return Lexicon.learn(
        {
            "ml": ["എന്റെ order എവിടെ?", "order cancel ചെയ്യണം", "പൈസ എപ്പോ തിരിച്ചു കിട്ടും", "NS2650391 എവിടെ"],
            "bn": ["আমার order কোথায়", "টাকা কবে ফেরত পাবো"],
        }
    )


def test_the_lexicon_gives_the_native_words_of_training_examples():
    lexicon = _lexicon()
    assert to_native("ende order evida", "ml", lexicon) == "എന്റെ order എവിടെ"
    assert to_native("nte order yevide", "ml", lexicon) == "എന്റെ order എവിടെ"
    assert to_native("Cancel cheyyanam", "ml", lexicon) == "Cancel ചെയ്യണം"  # English stays, as mixed in
    assert to_native("paisa eppo thirichu kittum", "ml", lexicon) == "പൈസ എപ്പോ തിരിച്ചു കിട്ടും"
    assert to_native("amar order kothai", "bn", lexicon) == "আমার order কোথায়"
    # Unknown words go through the scheme, as without a lexicon.
    assert to_native("nanni", "ml", lexicon) == to_native("nanni", "ml") == "നന്നി"
    assert to_native("ami bujhi", "bn", lexicon) == "আমি বুঝি"


def test_the_lexicon_is_plain_data():
    import json

    from bot.transliterate import Lexicon

    lexicon = _lexicon()
    again = Lexicon.from_dict(json.loads(json.dumps(lexicon.as_dict())))
    assert again.as_dict() == lexicon.as_dict()
    assert to_native("ende order evida", "ml", again) == "എന്റെ order എവിടെ"
    assert "ns2650391" not in again.latin["ml"]  # order numbers are never learned


def test_the_featurizer_learns_and_saves_the_lexicon(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.components.sentence_features import SentenceEncoderFeaturizer

    def example(text, **block):
        return Message(data={"text": text, "intent": "order_status", "metadata": {"intent": block}})

    storage, resource = LocalModelStorage(tmp_path), Resource("featurizer")
    featurizer = SentenceEncoderFeaturizer.create({}, storage, resource, None)
    featurizer.train(
        TrainingData(
            [
                example("എന്റെ ഓർഡർ എവിടെ", language="ml"),
                example("ente order evide", language="ml", script="latin"),  # not learned from
                example("ഏന്റെ", language="ml", script="latin", generated="bot.romanize"),
            ]
        )
    )
    loaded = SentenceEncoderFeaturizer.load({}, storage, resource, None)
    assert to_native("ende ordar evida", "ml", loaded.lexicon) == "എന്റെ ഓർഡർ എവിടെ"
    assert loaded.lexicon.as_dict() == featurizer.lexicon.as_dict()
