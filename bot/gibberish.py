"""Keyboard mashes ("qwrtp zxcvb", "asdf jkl"): told from words before the classifier acts.

A linear classifier spreads a mash over the intents, and sometimes one crosses
the confidence threshold ("qwrtp zxcvb" was taken for `thanks` at 80%). A
Latin-letter message is a mash when both hold:
- none of its words is a word of the Latin-letter training examples (English,
  romanized Bengali and Malayalam), also after folding chat spellings
  (bot/transliterate.py `spelling_key`: "ende" = "ente"), and
- its letters are unlike those words: the mean log-probability of its
  character trigrams under a model of the training words is below
  `threshold`.
Words with digits (order numbers) and messages of fewer than `min_letters`
letters are never mashes. Native-script messages are not checked, nor are
messages the language detector puts in a language the examples are not in
(`languages`): French or Spanish words are unknown here, and their letters
can look unlike English ones.

Chosen by cross-validation on the training examples (`python -m
bench.gibberish`): no unseen training example is flagged, and most generated
mashes are.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional

from bot.langid import latin_only
from bot.transliterate import spelling_key

WORD = re.compile(r"(?u)\b\w+\b")
FOLDS = ("bn", "ml")  # the spelling keys a word is also known by
ALPHABET = 28  # a-z and the two word boundaries: add-k smoothing of the trigram model
SMOOTHING = 0.1


def words(text: str) -> List[str]:
    """Lower-case words of a message, without those holding digits (order numbers, codes)."""
    return [w for w in WORD.findall(text.lower()) if not any(ch.isdigit() for ch in w)]


def _forms(word: str) -> set:
    return {word, *(spelling_key(word, lang) for lang in FOLDS)}


def _trigrams(word: str) -> Iterable[str]:
    padded = f"^{word}$"
    return (padded[i : i + 3] for i in range(len(padded) - 2))


class MashDetector:
    """Known words and a character trigram model of the Latin-letter training examples."""

    def __init__(
        self,
        known: Iterable[str] = (),
        trigrams: Dict[str, int] | None = None,
        threshold: float = -3.5,
        min_letters: int = 4,
        languages: Iterable[str] = (),
    ) -> None:
        self.known = set(known)
        self.trigrams = Counter(trigrams or {})
        self.bigrams: Counter = Counter()
        for trigram, count in self.trigrams.items():
            self.bigrams[trigram[:2]] += count
        self.threshold = float(threshold)
        self.min_letters = int(min_letters)
        self.languages = set(languages)  # of the examples; empty: any

    @classmethod
    def learn(cls, texts: Iterable[str], **settings: Any) -> MashDetector:
        """From the examples written entirely in Latin letters among `texts`."""
        known: set = set()
        trigrams: Counter = Counter()
        for text in filter(latin_only, texts):
            for word in words(text):
                known |= _forms(word)
                trigrams.update(_trigrams(word))
        return cls(known, trigrams, **settings)

    def letter_score(self, text: str) -> float:
        """Mean log-probability of the message's character trigrams (0 without words)."""
        logs = [
            math.log((self.trigrams[t] + SMOOTHING) / (self.bigrams[t[:2]] + SMOOTHING * ALPHABET))
            for word in words(text)
            for t in _trigrams(word)
        ]
        return sum(logs) / len(logs) if logs else 0.0

    def is_mash(self, text: str, language: Optional[str] = None) -> bool:
        """Whether a message (in `language`, as detected, if known) is a keyboard mash."""
        if language and self.languages and language not in self.languages:
            return False
        if not latin_only(text):
            return False
        found = words(text)
        if not self.known or sum(map(len, found)) < self.min_letters:
            return False
        if any(_forms(word) & self.known for word in found):
            return False
        return self.letter_score(text) < self.threshold

    def as_dict(self) -> Dict[str, Any]:
        return {
            "known": sorted(self.known),
            "trigrams": dict(self.trigrams),
            "threshold": self.threshold,
            "min_letters": self.min_letters,
            "languages": sorted(self.languages),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> MashDetector:
        return cls(
            data["known"], data["trigrams"], data["threshold"], data["min_letters"], data.get("languages", ())
        )
