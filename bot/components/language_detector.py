"""Rasa NLU component: detect each message's language (see bot/langid.py).

Adds to the parse result:
- `language`: ISO 639-1 code of the message's language,
- `language_confidence`: 0..1,
- `language_detection`: {reliable, method, script}.

Message metadata (sent by the channel, e.g. the handoff service or the REST
webhook's `metadata`) can carry `language` (the visitor's explicit choice,
which wins) and `conversation_language` (the language so far, kept for
messages too short to judge).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.langid import Detection, LanguageIdentifier

LANGUAGE = "language"
LANGUAGE_CONFIDENCE = "language_confidence"
LANGUAGE_DETECTION = "language_detection"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
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
        }

    def __init__(self, config: Dict[str, Any]) -> None:
        self.identifier = LanguageIdentifier(
            candidates=config["languages"],
            default=config["default"],
            min_chars=int(config["min_chars"]),
            script_share=float(config["script_share"]),
            min_words=int(config["min_words"]),
            seed=int(config["seed"]),
        )

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config)

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
