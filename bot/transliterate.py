"""Romanized Bengali and Malayalam back to their own script, for the sentence encoder.

"amar order kothay" -> "আমার অর্ডার কথায়", "ente order evide" -> "എന്തെ ഒര്ദെര് എവിദെ".
The multilingual encoder (bot/encoder.py) was trained on Bengali and
Malayalam in their own scripts, rarely on chat-style Latin spellings; a
message that the language detector found to be romanized Bengali or Malayalam
is therefore also embedded in its native-script form
(bot/components/sentence_features.py; chosen by cross-validation in
bench/nlu_compare.py).

Transliterators (PyPI, see docs/dependencies.md):
- Bengali: `avro-py`, Avro Phonetic, the scheme most Bengali speakers type with;
- Malayalam: `indic-transliteration`, its `optitrans_dravidian` scheme
  (ITRANS-like, lower-case).

Approximate on purpose: the result feeds an embedding, never a reply. Words
with digits (order numbers, pincodes) and words already in a non-Latin script
pass through unchanged; the text is lower-cased first (chat capitals are
random, while both schemes read capitals as other letters); the result is in
NFC. Texts longer
than `MAX_CHARS` are not transliterated (None): messages are limited well below
that upstream, and the encoder reads the Latin text instead.

The transliterator packages are imported on first use, never at import time.

A `Lexicon` learned from the native training examples is consulted first
(`to_native(text, lang, lexicon)`): each native word's Latin spelling
(bot/romanize.py) is reduced to a `spelling_key` that also fits the usual chat
variants ("ente"/"ende"/"nte" -> key of "എന്റെ", "evide"/"yevide"/"evida"),
so a word seen in training comes back in the spelling the encoder read in
training; English words that the native examples themselves mix in Latin
letters ("order", "cancel") stay in Latin letters, as there. Other words go
through the scheme. The lexicon is plain JSON-able data (`as_dict`/`from_dict`).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter, defaultdict
from typing import Callable, Dict, Iterable, Optional

MAX_CHARS = 2000
LANGUAGES = ("bn", "ml")
# A run of ASCII letters (with apostrophes inside: "don't"); anything else is kept as it is.
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_HAS_DIGIT = re.compile(r"\d")
_PUNCTUATION = "\"'.,!?;:()[]{}-\u0964\u0965"  # and the danda

_converters: Dict[str, Callable[[str], str]] = {}
_loading = threading.Lock()


def _bengali() -> Callable[[str], str]:
    import avro

    return avro.parse


def _malayalam() -> Callable[[str], str]:
    from indic_transliteration import sanscript

    def convert(word: str) -> str:
        return sanscript.transliterate(word, sanscript.OPTITRANS_DRAVIDIAN, sanscript.MALAYALAM)

    return convert


_FACTORIES = {"bn": _bengali, "ml": _malayalam}


def _converter(lang: str) -> Callable[[str], str]:
    with _loading:
        if lang not in _converters:
            _converters[lang] = _FACTORIES[lang]()
        return _converters[lang]


# Chat spelling variants reduced to one form, in order (both for the learned
# spellings and for the typed words): aspirates and long vowels as people drop
# them, doubled letters single, and the word-final half-u of Malayalam dropped.
_KEY_RULES = {
    "common": [
        (r"w", "v"),
        (r"q", "k"),
        (r"c(?!h)", "k"),
        (r"ph", "f"),
        (r"x", "ks"),
        (r"([kgcjtdpb])h", r"\1"),
        (r"sh", "s"),
        (r"ee", "i"),
        (r"oo", "u"),
        (r"(.)\1+", r"\1"),
    ],
    "bn": [(r"v", "b"), (r"z", "j"), (r"oi$", "oy"), (r"ai$", "ay")],
    "ml": [
        (r"^ye", "e"),
        (r"^nt(?=[aeiou])", "ent"),
        (r"zh", "l"),
        (r"nd", "nt"),
        (r"rr", "tt"),
        (r"(?<=[^aeiou])u$", ""),
    ],
}
_VOWEL_END = re.compile(r"(?<=[^aeiou])[aeiou]$")


def spelling_key(word: str, lang: str) -> str:
    """One form for the chat spellings of a Latin-letter word ("ende", "ente" -> "ente")."""
    key = word.lower()
    for pattern, repl in _KEY_RULES["common"][:-1] + _KEY_RULES.get(lang, []) + _KEY_RULES["common"][-1:]:
        key = re.sub(pattern, repl, key)
    return key


class Lexicon:
    """Latin chat spellings -> native words, learned from native training examples.

    `words[lang][key]` is the native word most often spelt that way;
    `latin[lang]` the Latin-letter words mixed into that language's native
    examples, kept as they are. Built with `learn`; stored as plain data.
    """

    def __init__(self, words: Dict[str, Dict[str, str]], latin: Dict[str, Iterable[str]]) -> None:
        self.words = {lang: dict(table) for lang, table in words.items()}
        self.latin = {lang: set(w.lower() for w in ws) for lang, ws in latin.items()}
        # The key without its final vowel, for "evida"/"evide": only when unambiguous.
        self.stems: Dict[str, Dict[str, str]] = {}
        for lang, table in self.words.items():
            stems: Dict[str, set] = defaultdict(set)
            for key, native in table.items():
                stems[_VOWEL_END.sub("", key)].add(native)
            self.stems[lang] = {k: next(iter(v)) for k, v in stems.items() if len(v) == 1}

    @classmethod
    def learn(cls, examples: Dict[str, Iterable[str]]) -> Lexicon:
        """From {lang: native-script examples} (code-mixed ones included)."""
        from bot.romanize import romanize

        words, latin = {}, {}
        for lang, texts in examples.items():
            counts: Dict[str, Counter] = defaultdict(Counter)
            mixed = set()
            for text in texts:
                for token in unicodedata.normalize("NFC", text).split():
                    token = token.strip(_PUNCTUATION)
                    if not token or _HAS_DIGIT.search(token):
                        continue
                    if _WORD.fullmatch(token):
                        mixed.add(token.lower())
                    elif not re.search(r"[A-Za-z]", token):
                        counts[spelling_key(romanize(token), lang)][token] += 1
            words[lang] = {key: c.most_common(1)[0][0] for key, c in counts.items() if key}
            latin[lang] = sorted(mixed)
        return cls(words, latin)

    def lookup(self, word: str, lang: str) -> Optional[str]:
        """The native form of a Latin word, the word itself if kept in Latin, or None (unknown)."""
        if word.lower() in self.latin.get(lang, ()):
            return word
        key = spelling_key(word, lang)
        table = self.words.get(lang, {})
        if key in table:
            return table[key]
        return self.stems.get(lang, {}).get(_VOWEL_END.sub("", key)) if len(key) > 3 else None

    def as_dict(self) -> dict:
        return {"words": self.words, "latin": {k: sorted(v) for k, v in self.latin.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> Lexicon:
        return cls(data.get("words", {}), data.get("latin", {}))


def to_native(text: str, lang: str, lexicon: Optional[Lexicon] = None) -> Optional[str]:
    """`text` (romanized `lang`) in `lang`'s own script; None when there is nothing to do.

    None for a language with no transliterator, an empty or too long text,
    or a text with no Latin word to convert.
    """
    if lang not in _FACTORIES or not text or len(text) > MAX_CHARS:
        return None
    scheme = _converter(lang)

    def convert(word: str) -> str:
        known = lexicon.lookup(word, lang) if lexicon is not None else None
        return known if known is not None else scheme(word.lower())

    tokens = text.split(" ")
    changed = False
    for i, token in enumerate(tokens):
        if not token or _HAS_DIGIT.search(token) or not _WORD.search(token):
            continue
        # Only the ASCII letters are converted: punctuation and native letters stay.
        tokens[i] = _WORD.sub(lambda m: convert(m.group(0)), token)
        changed = True
    return unicodedata.normalize("NFC", " ".join(tokens)) if changed else None
