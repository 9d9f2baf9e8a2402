"""Rasa NLU component: "please rephrase" below a confidence threshold of the message's language.

Rasa's FallbackClassifier with one threshold per language block instead of
one for all: the classifier's confidences are not equally reliable in every
language (out of fold, Malayalam needs 0.7 to keep wrong answers at or
below 3%, where English gets there with far fewer fallbacks), and one
threshold for all makes every language pay for the hardest one.

The block of a message is its detected language (bot/components/
language_detector.py), with `-Latn` when it was typed in Latin letters
although the language has a script of its own (romanized Bengali:
`bn-Latn`). `thresholds` maps blocks to thresholds; every other language
(one with no training examples, answered through the multilingual encoder)
gets `threshold`. Both are chosen by `python -m bench.nlu_calibrate`: per
block, the threshold with the fewest fallbacks whose out-of-fold wrong
answers acted on stay at or below the target. The ambiguity margin is
Rasa's, one for all.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import THRESHOLD_KEY, FallbackClassifier, _fallback_intent
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.components.language_detector import LANGUAGE, LANGUAGE_DETECTION
from bot.langid import LANGUAGE_SCRIPT

THRESHOLDS_KEY = "thresholds"


def language_block(language: Optional[str], script: Optional[str]) -> Optional[str]:
    """`bn`, or `bn-Latn` for Bengali typed in Latin letters; None when the language is unknown."""
    if not language:
        return None
    if script == "latin" and LANGUAGE_SCRIPT.get(language):
        return f"{language}-Latn"
    return language


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageFallbackClassifier(FallbackClassifier):
    """FallbackClassifier with a threshold per language block (`thresholds`), `threshold` otherwise."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**FallbackClassifier.get_default_config(), THRESHOLDS_KEY: {}}

    def __init__(self, config: Dict[str, Any]) -> None:
        thresholds = config.get(THRESHOLDS_KEY) or {}
        if not isinstance(thresholds, dict):
            raise ValueError(f"{THRESHOLDS_KEY} must map language blocks to thresholds, got {thresholds!r}")
        for block, value in thresholds.items():
            if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"threshold of {block!r} must be a number from 0 to 1, got {value!r}")
        super().__init__(config)
        self.thresholds = {str(block): float(value) for block, value in thresholds.items()}

    def threshold_of(self, message: Message) -> float:
        detection = message.get(LANGUAGE_DETECTION) or {}
        block = language_block(message.get(LANGUAGE), detection.get("script"))
        return self.thresholds.get(block, float(self.component_config[THRESHOLD_KEY]))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not self._should_fallback(message):
                continue
            # As Rasa does: the fallback's confidence is the threshold it fell below.
            confidence = self.threshold_of(message)
            message.data[INTENT] = _fallback_intent(confidence)
            message.data.setdefault(INTENT_RANKING_KEY, [])
            message.data[INTENT_RANKING_KEY].insert(0, _fallback_intent(confidence))
        return messages

    def _nlu_confidence_below_threshold(self, message: Message) -> Tuple[bool, float]:
        confidence = message.data[INTENT].get(PREDICTED_CONFIDENCE_KEY)
        return confidence < self.threshold_of(message), confidence
