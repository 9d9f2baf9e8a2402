"""Bengali and Malayalam script to Latin letters, the way people type in chat.

"আমার অর্ডার কোথায়" -> "amar ordar kothay", "എന്റെ ഓർഡർ എവിടെ" -> "ente ordar evide".
Rule-based and approximate on purpose: the compiler (bot/compile.py) uses it
to add romanized copies of the native training examples next to the authored
romanized ones, so the classifier and the romanized-language detector see
more of the spellings people use. Latin letters, digits and punctuation pass
through unchanged (code-mixed text keeps its English words).
"""

from __future__ import annotations

import unicodedata
from typing import Dict

# Consonants, independent vowels and vowel signs of each script.
_BENGALI = {
    "consonants": dict(
        zip(
            "ক খ গ ঘ ঙ চ ছ জ ঝ ঞ ট ঠ ড ঢ ণ ত থ দ ধ ন প ফ ব ভ ম য র ল শ ষ স হ ড় ঢ় য় ৎ".split(),
            "k kh g gh ng ch chh j jh n t th d dh n t th d dh n p f b bh m j r l sh sh s h r rh y t".split(),
            strict=True,
        )
    ),
    "vowels": dict(zip("অ আ ই ঈ উ ঊ ঋ এ ঐ ও ঔ".split(), "o a i i u u ri e oi o ou".split(), strict=True)),
    "signs": dict(zip("া ি ী ু ূ ৃ ে ৈ ো ৌ".split(), "a i i u u ri e oi o ou".split(), strict=True)),
    "virama": "্",
    "inherent": "o",
    "final_inherent": "",  # "আমার" is "amar", not "amaro"
    "other": {"ং": "ng", "ঃ": "h", "ঁ": "n", "়": "", "ৗ": "ou"},
    "digits": "০১২৩৪৫৬৭৮৯",
}
_MALAYALAM = {
    "consonants": dict(
        zip(
            "ക ഖ ഗ ഘ ങ ച ഛ ജ ഝ ഞ ട ഠ ഡ ഢ ണ ത ഥ ദ ധ ന പ ഫ ബ ഭ മ യ ര ല വ ശ ഷ സ ഹ ള ഴ റ".split(),
            "k kh g gh ng ch chh j jh nj d th d dh n th th d dh n p f b bh m y r l v sh sh s h l zh r".split(),
            strict=True,
        )
    ),
    "vowels": dict(
        zip("അ ആ ഇ ഈ ഉ ഊ ഋ എ ഏ ഐ ഒ ഓ ഔ".split(), "a aa i ee u oo ru e e ai o o au".split(), strict=True)
    ),
    "signs": dict(
        zip("ാ ി ീ ു ൂ ൃ െ േ ൈ ൊ ോ ൌ ൗ".split(), "aa i ee u oo ru e e ai o o au au".split(), strict=True)
    ),
    "virama": "്",
    "inherent": "a",
    "final_inherent": "a",
    "other": {"ം": "m", "ഃ": "h", "ൺ": "n", "ൻ": "n", "ർ": "r", "ൽ": "l", "ൾ": "l", "ൿ": "k"},
    "digits": "൦൧൨൩൪൫൬൭൮൯",
}
_SCRIPTS = (_BENGALI, _MALAYALAM)
# Conjuncts and nukta letters spelt as people type them (keys in NFC: the
# nukta letters stay decomposed there).
_CLUSTERS = {
    "\u0d28\u0d4d\u0d31": "nt",  # ന്റ
    "\u0d28\u0d4d\u0d24": "nth",  # ന്ത
    "\u0d19\u0d4d\u0d15": "nk",  # ങ്ക
    "\u0d1e\u0d4d\u0d1a": "nch",  # ഞ്ച
    "\u0d1f\u0d4d\u0d1f": "tt",  # ട്ട
    "\u0d15\u0d4d\u0d37": "ksh",  # ക്ഷ
    "\u0995\u09cd\u09b7": "ksh",  # ক্ষ
    "\u099c\u09cd\u099e": "gy",  # জ্ঞ
    "\u09cd\u09af": "y",  # ya-phala: ধন্যবাদ is "dhonyobad"
    "\u09af\u09bc": "y",  # য়
    "\u09a1\u09bc": "r",  # ড়
    "\u09a2\u09bc": "rh",  # ঢ়
}


def _table(char: str) -> Dict:
    for table in _SCRIPTS:
        if char in table["consonants"] or char in table["vowels"] or char in table["signs"]:
            return table
        if char in table["other"] or char == table["virama"] or char in table["digits"]:
            return table
    return {}


def romanize(text: str) -> str:
    """Latin-letter spelling of Bengali or Malayalam text; other characters unchanged."""
    text = unicodedata.normalize("NFC", text)
    for cluster, latin in _CLUSTERS.items():
        marker = "\u0001" if "\u0980" <= cluster[0] <= "\u09ff" else "\u0000"
        text = text.replace(cluster, latin + marker)  # the cluster takes the next vowel sign
    out = []
    chars = list(text)
    for i, char in enumerate(chars):
        if char in "\u0000\u0001":  # after a cluster: its vowel, as after a consonant
            script = _BENGALI if char == "\u0001" else _MALAYALAM
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if not (nxt in script["signs"] or nxt == script["virama"]):
                at_end = not nxt or _table(nxt) != script
                out.append(script["final_inherent"] if at_end else script["inherent"])
            continue
        table = _table(char)
        if not table:
            out.append(char)
            continue
        if char in table["consonants"]:
            out.append(table["consonants"][char])
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if nxt in table["signs"] or nxt == table["virama"] or nxt in table["other"] and nxt in "়":
                continue
            at_end = not nxt or _table(nxt) != table
            out.append(table["final_inherent"] if at_end else table["inherent"])
        elif char in table["vowels"]:
            out.append(table["vowels"][char])
        elif char in table["signs"]:
            out.append(table["signs"][char])
        elif char == table["virama"]:
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if table is _MALAYALAM and (not nxt or _table(nxt) != table):
                out.append(
                    "u"
                )  # a word-final virama is a half-u in Malayalam ("ഓർഡർ" ends in r, "വേണ്ട്" in -du)
        elif char in table["digits"]:
            out.append(str(table["digits"].index(char)))
        else:
            out.append(table["other"][char])
    return "".join(out).replace("\u200c", "").replace("\u200d", "")
