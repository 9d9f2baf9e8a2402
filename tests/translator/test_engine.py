"""The real argostranslate path, on packages the tests build (no download)."""

import json
import zipfile

import pytest

from translator.client import TranslationUnavailable
from translator.engine import ChatSentencizer, TranslationEngine


def test_built_package_is_a_valid_argosmodel(model_files):
    archive = model_files[("hi", "en")]
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        metadata = json.loads(zipped.read("translate-hi_en-test/metadata.json"))
    assert "translate-hi_en-test/model/model.bin" in names
    assert "translate-hi_en-test/sentencepiece.model" in names
    assert (metadata["from_code"], metadata["to_code"]) == ("hi", "en")


def test_engine_loads_installed_packages_and_lists_pairs(packages_dir):
    engine = TranslationEngine(packages_dir).load()
    pairs = {(p["source"], p["target"]): p["via"] for p in engine.pairs()}
    assert pairs[("hi", "en")] is None
    assert pairs[("en", "hi")] is None
    assert pairs[("hi", "fr")] == "en"  # pivot through English
    assert ("fr", "hi") not in pairs


def test_translate_runs_ctranslate2_and_sentencepiece(packages_dir):
    engine = TranslationEngine(packages_dir).load()
    result = engine.translate("मेरा ऑर्डर कहाँ है", "hi", "en")
    assert result.engine == "argostranslate"
    assert result.model.startswith("translate-hi_en-test")
    assert isinstance(result.text, str) and result.text.strip()
    # Deterministic: the same model and input give the same output.
    assert engine.translate("मेरा ऑर्डर कहाँ है", "hi", "en").text == result.text


def test_pivot_translation_uses_both_models(packages_dir):
    engine = TranslationEngine(packages_dir).load()
    result = engine.translate("मुझे रिफंड चाहिए", "hi", "fr")
    assert "translate-hi_en-test" in result.model and "translate-en_fr-test" in result.model


def test_missing_pair_is_a_clear_error(packages_dir):
    engine = TranslationEngine(packages_dir).load()
    with pytest.raises(TranslationUnavailable) as error:
        engine.translate("hello", "ml", "en")
    assert error.value.code == "no_model"
    assert "ml->en" in error.value.reason


def test_no_models_installed_means_no_pairs(tmp_path):
    engine = TranslationEngine(tmp_path / "empty").load()
    assert engine.pairs() == []
    with pytest.raises(TranslationUnavailable):
        engine.translate("hello", "en", "hi")


def test_same_language_is_returned_unchanged(packages_dir):
    engine = TranslationEngine(packages_dir).load()
    assert engine.translate("hello", "en", "en").text == "hello"


def test_chat_sentencizer_splits_on_danda_and_punctuation():
    splitter = ChatSentencizer()
    assert splitter.split_sentences("আমার অর্ডার কোথায়। কবে আসবে? ok!\nthanks") == [
        "আমার অর্ডার কোথায়।",
        "কবে আসবে?",
        "ok!",
        "thanks",
    ]
