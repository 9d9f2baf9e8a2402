"""One spelling for text that keyboards encode in several ways (Unicode canonical form).

The same Bengali or Malayalam word reaches the assistant in different code
points depending on the keyboard: Malayalam chillu letters as the old
three-character sequence (consonant, virama, zero-width joiner: "ന്‍") or as one
atomic letter ("ൻ", Unicode 5.1); Bengali khanda ta as "ত্‍" or "ৎ"; zero-width
joiners and non-joiners that only steer rendering. The sentence encoder and the
character n-grams see different tokens for each form (a Malayalam message
typed with old chillus was classified 1.1 points less accurately out of fold),
so every text is brought to one form before it is embedded or split into
n-grams: NFC, atomic chillus and khanda ta, no zero-width characters.
"""

from __future__ import annotations

import re
import unicodedata

# (consonant, virama, zero-width joiner) -> the atomic letter.
_OLD_FORMS = {
    "\u0d23\u0d4d\u200d": "\u0d7a",  # ണ്‍ -> ൺ
    "\u0d28\u0d4d\u200d": "\u0d7b",  # ന്‍ -> ൻ
    "\u0d30\u0d4d\u200d": "\u0d7c",  # ര്‍ -> ർ
    "\u0d32\u0d4d\u200d": "\u0d7d",  # ല്‍ -> ൽ
    "\u0d33\u0d4d\u200d": "\u0d7e",  # ള്‍ -> ൾ
    "\u0d15\u0d4d\u200d": "\u0d7f",  # ക്‍ -> ൿ
    "\u09a4\u09cd\u200d": "\u09ce",  # ত্‍ -> ৎ
}
# Before റ, "ന്‍" is the old spelling of "ന്റ" (nta), which is written with ന, not the chillu.
_OLD_NTA = re.compile("\u0d28\u0d4d\u200d(?=\u0d31)")
_OLD_FORM = re.compile("|".join(_OLD_FORMS))
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def canonical(text: str) -> str:
    """`text` in NFC, with atomic chillus and khanda ta and without zero-width characters."""
    text = unicodedata.normalize("NFC", text)
    if not _ZERO_WIDTH.search(text):
        return text
    text = _OLD_FORM.sub(lambda m: _OLD_FORMS[m.group(0)], _OLD_NTA.sub("\u0d28\u0d4d", text))
    return _ZERO_WIDTH.sub("", text)
