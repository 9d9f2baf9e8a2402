"""Rasa NLU component: detect each message's language (see bot/langid.py).

Adds to the parse result:
- `language`: ISO 639-1 code of the message's language,
- `language_confidence`: 0..1,
- `language_detection`: {reliable, method, script}.

The component is trained: from the Latin-script training examples (English,
and the romanized Bengali and Malayalam blocks, whose metadata says
`script: latin`) it learns to tell romanized Bengali and Malayalam from
English (bot/langid.py, step 6).

Message metadata (sent by the channel, e.g. the handoff service or the REST
webhook's `metadata`) can carry `language` (the visitor's explicit choice,
which wins) and `conversation_language` (the language so far, kept for
messages too short to judge).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.langid import Detection, LanguageIdentifier, latin_only
from bot.text_model import TextClassifier

logger = logging.getLogger(__name__)

LANGUAGE = "language"
LANGUAGE_CONFIDENCE = "language_confidence"
LANGUAGE_DETECTION = "language_detection"


def romanized_classifier(
    examples: List[Tuple[str, Optional[str]]], candidates: List[str]
) -> Optional[TextClassifier]:
    """An n-gram classifier of Latin-script text by language, from (text, language) examples.

    Only examples written entirely in Latin letters count: English ones, and
    the romanized Bengali and Malayalam blocks. None with fewer than two languages.
    """
    texts, labels = [], []
    for text, lang in examples:
        if text and lang in candidates and latin_only(text):
            texts.append(text)
            labels.append(lang)
    if len(set(labels)) < 2:
        return None
    return TextClassifier(encoder_weight=0.0, C=1.0).fit(texts, None, labels)


def block_metadata(message: Message) -> Dict[str, Any]:
    """The metadata of the training block a message came from (bot/compile.py writes it)."""
    metadata = message.get("metadata") or {}
    block = metadata.get("intent") if isinstance(metadata, dict) else None
    return block if isinstance(block, dict) else {}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class LanguageDetector(GraphComponent):
    """Detects the language of every message among configured candidates."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "languages": ["en"],  # candidate languages (ISO 639-1)
            "default": "en",
            "min_chars": 12,  # fewer Latin letters than this: keep the conversation's language
            "script_share": 0.1,  # share of native-script letters that makes a code-mixed message native
            "min_words": 4,  # fewer Latin-script words, and no function word: too short to judge
            "seed": 0,
            "romanized_threshold": 0.8,  # how sure the romanized classifier must be
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: Optional[ModelStorage] = None,
        resource: Optional[Resource] = None,
        romanized: Optional[TextClassifier] = None,
    ) -> None:
        config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.identifier = LanguageIdentifier(
            candidates=config["languages"],
            default=config["default"],
            min_chars=int(config["min_chars"]),
            script_share=float(config["script_share"]),
            min_words=int(config["min_words"]),
            seed=int(config["seed"]),
            romanized=romanized,
            romanized_threshold=float(config["romanized_threshold"]),
        )

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn romanized Bengali/Malayalam vs English from the Latin-script examples."""
        # Human-typed examples only: the generated Latin-letter copies of native
        # examples (bot/romanize.py) made English look romanized more often.
        examples = [
            (m.get(TEXT), block_metadata(m).get("language"))
            for m in training_data.intent_examples
            if not block_metadata(m).get("generated")
        ]
        model = romanized_classifier(examples, self.identifier.candidates)
        if model is None:
            logger.info("LanguageDetector: no romanized training examples; romanized detection is off.")
            return self._resource
        with self._model_storage.write_to(self._resource) as directory:
            model.save(directory, "romanized")
        self.identifier.romanized = model
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        try:
            with model_storage.read_from(resource) as directory:
                romanized = TextClassifier.load(directory, "romanized")
        except (ValueError, FileNotFoundError):
            romanized = None
        return cls(config, model_storage, resource, romanized)

    def detect(self, message: Message) -> Optional[Detection]:
        text = message.get(TEXT)
        if not text:
            return None
        metadata = message.get("metadata") or {}
        chosen = metadata.get("language") if isinstance(metadata, dict) else None
        if chosen in self.identifier.candidates:
            return Detection(chosen, 1.0, True, "visitor_choice")
        hint = metadata.get("conversation_language") if isinstance(metadata, dict) else None
        return self.identifier.detect(text, hint=hint)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            detection = self.detect(message)
            if detection is None:
                continue
            message.set(LANGUAGE, detection.code, add_to_output=True)
            message.set(LANGUAGE_CONFIDENCE, detection.confidence, add_to_output=True)
            message.set(
                LANGUAGE_DETECTION,
                {
                    "reliable": detection.reliable,
                    "method": detection.method,
                    "script": detection.script,
                },
                add_to_output=True,
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry their authored language in their metadata;
        # nothing downstream needs the detected one at training time.
        return training_data
