"""Language identification for chat messages.

langdetect alone is unreliable on chat: it is random unless seeded, and on one
or two Latin-script words it is close to a coin toss. This module makes it fit
for chat:

1. **Script first.** Letters are counted per Unicode script. A message that is
   mostly Bengali or Malayalam script is that language, however short (Bengali
   script also writes Assamese, so only configured candidates are considered).
2. **Restricted candidates.** langdetect only chooses among the configured
   languages that use the message's script (its prior map is set so).
3. **Function words.** langdetect's character n-grams call "cancel my order"
   Spanish and "payment failed" French with 99.99% probability. On Latin
   script the detector also counts each candidate's function words ("my",
   "the", "où", "dónde"); where they point to one language more than to
   langdetect's pick, they win. With no function word and fewer than
   `min_words` words the message is too short to judge.
4. **Minimum length.** Below `min_chars` letters a Latin-script message is not
   guessed: the result says `reliable: False` and carries the conversation's
   language (a hint) when one is known, so the conversation keeps its language.
5. **Seeded.** The detector's random seed is fixed: the same text always gets
   the same answer.
6. **Romanized Bengali and Malayalam** ("amar order kothay", "ente order
   evide"): a Latin-script message goes first through a small n-gram
   classifier trained on the romanized and English training examples
   (`romanized`, a bot.text_model.TextClassifier, trained by the
   LanguageDetector component). When it is sure (`romanized_threshold`) that
   the message is romanized Bengali or Malayalam, that is the language, with
   `script: latin`; French or Spanish function words keep it out of the way.

Nothing happens at import time; langdetect's profiles load on first use.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

# Unicode blocks of the scripts we tell apart, as (first, last) code points.
SCRIPT_RANGES: Dict[str, Sequence[tuple]] = {
    "bengali": [(0x0980, 0x09FF)],
    "malayalam": [(0x0D00, 0x0D7F)],
    "devanagari": [(0x0900, 0x097F)],
    "tamil": [(0x0B80, 0x0BFF)],
    "telugu": [(0x0C00, 0x0C7F)],
    "kannada": [(0x0C80, 0x0CFF)],
    "gujarati": [(0x0A80, 0x0AFF)],
    "gurmukhi": [(0x0A00, 0x0A7F)],
    "arabic": [(0x0600, 0x06FF), (0x0750, 0x077F)],
    "cyrillic": [(0x0400, 0x04FF)],
    "greek": [(0x0370, 0x03FF)],
    "hangul": [(0xAC00, 0xD7AF), (0x1100, 0x11FF)],
    "kana": [(0x3040, 0x30FF)],
    "han": [(0x4E00, 0x9FFF)],
    "thai": [(0x0E00, 0x0E7F)],
}

# Which script each language (ISO 639-1) is written in. Languages not listed
# are assumed to be written in Latin script.
LANGUAGE_SCRIPT: Dict[str, str] = {
    "bn": "bengali",
    "as": "bengali",
    "ml": "malayalam",
    "hi": "devanagari",
    "mr": "devanagari",
    "ne": "devanagari",
    "ta": "tamil",
    "te": "telugu",
    "kn": "kannada",
    "gu": "gujarati",
    "pa": "gurmukhi",
    "ar": "arabic",
    "fa": "arabic",
    "ur": "arabic",
    "ru": "cyrillic",
    "uk": "cyrillic",
    "bg": "cyrillic",
    "el": "greek",
    "ko": "hangul",
    "ja": "kana",
    "zh": "han",
    "th": "thai",
}

# Frequent short words that give a Latin-script language away even in a
# three-word message. Only candidates listed here get this second opinion.
FUNCTION_WORDS: Dict[str, frozenset] = {
    "en": frozenset(
        "i me my mine you your u we our us it its is are was were be been am do does did "
        "not dont don't cant can't can could will would should to of in on at for from "
        "with and or but the a an this that these what where when why how which who "
        "please pls plz hi hello hey thanks thank have has had any there get got".split()
    ),
    "fr": frozenset(
        "je j' tu il elle nous vous ils elles mon ma mes ton ta tes votre vos le la les "
        "un une des du et ou est sont pas ne n' que qui quoi où quand comment pourquoi "
        "avec pour sur dans merci bonjour svp c'est mais aussi de au aux".split()
    ),
    "es": frozenset(
        "yo él ella nosotros usted ustedes mi mis su sus el los las unos unas del y "
        "es son que qué donde dónde cuando cuándo como cómo por para con gracias hola "
        "quiero tengo está están pero también muy la de este esta estos a al lo se me te le hay "
        "hacen puedo puede".split()
    ),
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

# langdetect names Chinese "zh-cn"/"zh-tw"; we speak ISO 639-1.
_LANGDETECT_ALIASES = {"zh-cn": "zh", "zh-tw": "zh"}


def script_of(char: str) -> Optional[str]:
    """The script of one letter: a key of SCRIPT_RANGES, "latin", or None."""
    code = ord(char)
    for script, ranges in SCRIPT_RANGES.items():
        for first, last in ranges:
            if first <= code <= last:
                return script
    if char.isalpha() and "LATIN" in unicodedata.name(char, ""):
        return "latin"
    return None


def script_counts(text: str) -> Dict[str, int]:
    """How many letters (and combining marks) of each script the text has."""
    counts: Dict[str, int] = {}
    for char in text:
        if not (char.isalpha() or unicodedata.category(char).startswith("M")):
            continue
        script = script_of(char)
        if script:
            counts[script] = counts.get(script, 0) + 1
    return counts


def latin_only(text: str) -> bool:
    """Whether every letter of the text is a Latin one (and there is at least one)."""
    return set(script_counts(text)) == {"latin"}


@dataclass(frozen=True)
class Detection:
    """What the detector says about one message."""

    code: str  # ISO 639-1 code of the language used for this message
    confidence: float  # 0..1
    reliable: bool  # False: too short or ambiguous; `code` is the hint or a guess
    method: str  # "script", "langdetect", "hint", "default"
    script: Optional[str] = None

    def as_dict(self) -> dict:
        return asdict(self)


class LanguageIdentifier:
    """Detects the language of chat messages among configured candidates."""

    def __init__(
        self,
        candidates: Iterable[str],
        default: str = "en",
        min_chars: int = 12,
        script_share: float = 0.1,
        min_words: int = 4,
        seed: int = 0,
        romanized: Optional[Any] = None,
        romanized_threshold: float = 0.8,
    ) -> None:
        self.romanized = romanized
        self.romanized_threshold = romanized_threshold
        self.candidates: List[str] = list(dict.fromkeys(candidates))
        if not self.candidates:
            raise ValueError("at least one candidate language is required")
        if default not in self.candidates:
            raise ValueError(f"default language {default!r} is not a candidate")
        self.default = default
        self.min_chars = min_chars
        self.script_share = script_share
        self.min_words = min_words
        self.seed = seed
        self._lock = threading.Lock()
        self._factory = None  # langdetect's DetectorFactory, loaded on first use

    def _candidates_for(self, script: str) -> List[str]:
        return [c for c in self.candidates if LANGUAGE_SCRIPT.get(c, "latin") == script]

    def _langdetect(self, text: str, candidates: List[str]) -> Dict[str, float]:
        """langdetect's probabilities, restricted to `candidates` (seeded)."""
        with self._lock:
            if self._factory is None:
                from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                self._factory = factory
            factory = self._factory
        known = {_LANGDETECT_ALIASES.get(lang, lang): lang for lang in factory.get_lang_list()}
        usable = [c for c in candidates if c in known]
        if not usable:
            return {}
        detector = factory.create()  # one detector per call: they are not shared
        detector.set_prior_map({known[c]: 1.0 for c in usable})
        detector.seed = self.seed
        detector.append(text)
        try:
            ranked = detector.get_probabilities()
        except Exception:  # langdetect raises LangDetectException on featureless text
            return {}
        return {_LANGDETECT_ALIASES.get(p.lang, p.lang): float(p.prob) for p in ranked}

    def _romanized(self, text: str) -> Optional[Detection]:
        """Romanized Bengali or Malayalam, when the romanized classifier is sure."""
        if self.romanized is None:
            return None
        words = [w.casefold() for w in _WORD.findall(text)]
        # Two French or Spanish function words ("où est", "dónde está") are not
        # romanized Bengali; one can be ("order ta kothay").
        if max(sum(w in FUNCTION_WORDS[lang] for w in words) for lang in ("fr", "es")) >= 2:
            return None
        probabilities = self.romanized.predict_proba([text], None)[0]
        best = int(probabilities.argmax())
        lang, prob = self.romanized.classes[best], float(probabilities[best])
        if lang in self.candidates and LANGUAGE_SCRIPT.get(lang) and prob >= self.romanized_threshold:
            return Detection(lang, round(prob, 4), True, "romanized", "latin")
        return None

    def detect(self, text: str, hint: Optional[str] = None) -> Detection:
        """Detect the language of `text`.

        `hint` is the conversation's language so far (or the visitor's explicit
        choice); it is returned for messages too short or ambiguous to judge.
        """
        hint = hint if hint in self.candidates else None
        fallback = hint or self.default
        counts = script_counts(text or "")
        letters = sum(counts.values())
        if letters == 0:
            return Detection(fallback, 0.0, False, "hint" if hint else "default")

        script, script_letters = max(counts.items(), key=lambda item: item[1])
        # Code-mixing: a native-script word inside mostly English text ("thanks
        # a lot ভাই", "NS2650391 এর refund status কি") marks the message as that
        # language: native script wins when it reaches `script_share` of the letters.
        for native, n in sorted(counts.items(), key=lambda item: -item[1]):
            if native != "latin" and n / letters >= self.script_share:
                script, script_letters = native, n
                break
        share = script_letters / letters
        candidates = self._candidates_for(script)

        if script != "latin":
            if len(candidates) == 1:
                # The script names the language among the candidates.
                return Detection(candidates[0], 1.0, True, "script", script)
            if not candidates:
                # A script none of the candidates use: unsupported language.
                return Detection(fallback, 0.0, False, "hint" if hint else "default", script)

        if script == "latin":
            romanized = self._romanized(text)
            if romanized is not None:
                return romanized

        if script == "latin" and letters < self.min_chars:
            return Detection(fallback, 0.0, False, "hint" if hint else "default", script)

        probabilities = self._langdetect(text, candidates)
        if not probabilities:
            return Detection(fallback, 0.0, False, "hint" if hint else "default", script)
        lang, prob = max(probabilities.items(), key=lambda item: item[1])
        if script == "latin":
            words = [w.casefold() for w in _WORD.findall(text)]
            hits = {c: sum(w in FUNCTION_WORDS[c] for w in words) for c in candidates if c in FUNCTION_WORDS}
            best = max(hits.items(), key=lambda item: item[1], default=(None, 0))
            if best[1] > hits.get(lang, 0) and list(hits.values()).count(best[1]) == 1:
                share = best[1] / sum(hits.values())  # of the function-word evidence
                return Detection(best[0], round(share, 4), True, "function_words", script)
            if not any(hits.values()) and len(words) < self.min_words:
                return Detection(fallback, 0.0, False, "hint" if hint else "default", script)
        confidence = round(prob * share, 4)
        reliable = prob >= 0.5
        if not reliable and hint:
            return Detection(hint, confidence, False, "hint", script)
        return Detection(lang, confidence, reliable, "langdetect", script)
