"""Rasa NLU component: translate messages in untrained languages to English.

Runs after LanguageDetector and before the tokenizer. When a message's
language has no training examples (`trained_languages`) and the translator
service (translator/server.py, argostranslate, fully offline) has a model for
it, the message text is replaced by its English translation before intent
classification. The parse result gets a `translation` entry either way:

- `{"status": "translated", "source": "hi", "target": "en", "source_text": ..., "text": ..., "engine": ..., "model": ...}`
- `{"status": "unavailable", "source": "hi", "reason": "..."}` when no model
  is installed or the service is down: classification then runs on the
  original text, and the assistant's replies say so (see actions/replies.py).
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

from bot.components.language_detector import LANGUAGE, LANGUAGE_DETECTION
from translator.client import TranslationUnavailable, TranslatorClient

TRANSLATION = "translation"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class InboundTranslator(GraphComponent):
    """Replaces the text of untrained-language messages by an English translation."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "trained_languages": ["en"],
            "pivot": "en",
            "translator_url": None,  # default: $TRANSLATOR_URL or http://127.0.0.1:5070
            "timeout": 3.0,
        }

    def __init__(self, config: Dict[str, Any], client: Optional[TranslatorClient] = None) -> None:
        self.trained = set(config["trained_languages"])
        self.pivot = config["pivot"]
        self.client = client or TranslatorClient(
            config.get("translator_url"), timeout=float(config["timeout"])
        )

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InboundTranslator:
        return cls(config)

    def translate(self, message: Message) -> Optional[Dict[str, Any]]:
        text = message.get(TEXT)
        language = message.get(LANGUAGE)
        detection = message.get(LANGUAGE_DETECTION) or {}
        if not text or not language or language in self.trained:
            return None
        if not detection.get("reliable"):
            return None
        if not self.client.can_translate(language, self.pivot):
            return {
                "status": "unavailable",
                "source": language,
                "reason": f"no translation model installed for {language}->{self.pivot}",
            }
        try:
            translation = self.client.translate(text, language, self.pivot)
        except TranslationUnavailable as exc:
            return {"status": "unavailable", "source": language, "reason": exc.reason}
        message.set(TEXT, translation.text)
        return {"status": "translated", "source_text": text, **translation.as_dict()}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            result = self.translate(message)
            if result is not None:
                message.set(TRANSLATION, result, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
