"""Rasa NLU component: intents from the sentence encoder and n-grams.

A linear SVM over the multilingual encoder's embedding (added by
SentenceEncoderFeaturizer) and tf-idf word and character n-grams of the text,
with confidences from a calibrated softmax (bot/text_model.py). Chosen over
DIET and logistic regression by cross-validation on the training examples
(bench/nlu_compare.py); it trains in seconds.

A message with no word of at least two letters ("ক খ গ ঘ", "?", "👍"), or a
keyboard mash in Latin letters ("qwrtp zxcvb": bot/gibberish.py, learned
from the Latin-letter training examples), is not understood, whatever the
encoder makes of it: its intent gets confidence 0, so the FallbackClassifier
asks to rephrase (the ranking keeps the guesses).

An explicit request for a person wins over a topic named in the same message
("I need a human to check my invoice NS9988776"): when a `priority_intents`
intent reaches its share of the probability, it becomes the intent and the
topic stays second in the ranking (the actions put it into the handoff event).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from typing import Any, Dict, List, Optional, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.language_detector import LANGUAGE, block_metadata
from bot.components.sentence_features import SentenceEncoderFeaturizer, sentence_embedding
from bot.gibberish import MashDetector
from bot.text_model import TextClassifier, prioritise

logger = logging.getLogger(__name__)
MASHES_FILE = "mash_detector.json"


def has_words(text: str) -> bool:
    """Whether any whitespace-separated token has two or more letters (vowel signs count)."""
    return any(
        sum(1 for ch in token if ch.isalpha() or unicodedata.category(ch).startswith("M")) >= 2
        for token in text.split()
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EncoderIntentClassifier(IntentClassifier, GraphComponent):
    """Linear SVM over sentence-encoder and n-gram features, with calibrated confidences."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "encoder_weight": 3.0,  # the embedding's weight next to the n-gram blocks
            "C": 1.0,
            "neighbour_weight": 0.0,  # weight of the nearest-neighbour similarity (bot/text_model.py)
            "neighbours": 5,
            "use_ngrams": True,
            "calibration_folds": 3,
            "training_threads": 2,  # the model and its calibration folds are fitted this many at once
            "priority_intents": {},  # e.g. {"request_human": 0.3}: promote it at that share
            "ranking_length": 10,
            # Keyboard mashes (bot/gibberish.py; chosen by python -m bench.gibberish); null: off.
            "mash_threshold": -3.5,
            "mash_min_letters": 4,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[TextClassifier] = None,
        mashes: Optional[MashDetector] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.mashes = mashes

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EncoderIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning(
                "EncoderIntentClassifier: fewer than two intents in the training data; not trained."
            )
            return self._resource
        texts = [m.get(TEXT) for m in examples]
        embeddings = np.vstack([self._embedding(m) for m in examples])
        self.model = TextClassifier(
            encoder_weight=float(self.config["encoder_weight"]),
            C=float(self.config["C"]),
            use_ngrams=bool(self.config["use_ngrams"]),
            calibration_folds=int(self.config["calibration_folds"]),
            neighbour_weight=float(self.config["neighbour_weight"]),
            neighbours=int(self.config["neighbours"]),
            jobs=int(self.config["training_threads"]),
        ).fit(texts, embeddings, [m.get(INTENT) for m in examples])
        if self.config["mash_threshold"] is not None:
            self.mashes = MashDetector.learn(
                texts,
                threshold=float(self.config["mash_threshold"]),
                min_letters=int(self.config["mash_min_letters"]),
                languages={block_metadata(m).get("language") for m in examples} - {None},
            )
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
            if self.mashes is not None:
                (directory / MASHES_FILE).write_text(json.dumps(self.mashes.as_dict()), encoding="utf-8")
        return self._resource

    def understood(self, message: Message) -> bool:
        """Whether the text can be a question at all: words, and in Latin letters not a mash."""
        text = message.get(TEXT)
        if not has_words(text):
            return False
        return self.mashes is None or not self.mashes.is_mash(text, message.get(LANGUAGE))

    @staticmethod
    def _embedding(message: Message) -> np.ndarray:
        vector = sentence_embedding(message)
        if vector is None:
            raise ValueError(
                "EncoderIntentClassifier needs SentenceEncoderFeaturizer before it in the pipeline"
            )
        return vector

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EncoderIntentClassifier:
        model = mashes = None
        try:
            with model_storage.read_from(resource) as directory:
                model = TextClassifier.load(directory)
                if (directory / MASHES_FILE).exists():
                    mashes = MashDetector.from_dict(json.loads((directory / MASHES_FILE).read_text("utf-8")))
        except (ValueError, FileNotFoundError):
            logger.warning("EncoderIntentClassifier: no trained model in storage; intents will be empty.")
        return cls(config, model_storage, resource, model, mashes)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        embedded = [(m, sentence_embedding(m)) for m in messages if m.get(TEXT)]
        embedded = [(m, vector) for m, vector in embedded if vector is not None]
        if not embedded:
            return messages
        usable = [m for m, _ in embedded]
        probabilities = self.model.predict_proba(
            [m.get(TEXT) for m in usable], np.vstack([v for _, v in embedded])
        )
        priority = {str(k): float(v) for k, v in (self.config["priority_intents"] or {}).items()}
        for message, row in zip(usable, probabilities, strict=True):
            order = np.argsort(-row)
            ranking = [{"name": self.model.classes[i], "confidence": float(row[i])} for i in order]
            ranking = prioritise(ranking, priority)
            intent = ranking[0] if self.understood(message) else {**ranking[0], "confidence": 0.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[: int(self.config["ranking_length"])], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
