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
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Callable, Dict, Optional

MAX_CHARS = 2000
LANGUAGES = ("bn", "ml")
# A run of ASCII letters (with apostrophes inside: "don't"); anything else is kept as it is.
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_HAS_DIGIT = re.compile(r"\d")

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


def to_native(text: str, lang: str) -> Optional[str]:
    """`text` (romanized `lang`) in `lang`'s own script; None when there is nothing to do.

    None for a language with no transliterator, an empty or too long text,
    or a text with no Latin word to convert.
    """
    if lang not in _FACTORIES or not text or len(text) > MAX_CHARS:
        return None
    convert = _converter(lang)
    tokens = text.split(" ")
    changed = False
    for i, token in enumerate(tokens):
        if not token or _HAS_DIGIT.search(token) or not _WORD.search(token):
            continue
        # Only the ASCII letters are converted: punctuation and native letters stay.
        tokens[i] = _WORD.sub(lambda m: convert(m.group(0).lower()), token)
        changed = True
    return unicodedata.normalize("NFC", " ".join(tokens)) if changed else None
