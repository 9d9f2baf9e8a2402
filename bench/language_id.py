"""Language-ID accuracy per language on short messages and full sentences.

The held-out examples the editors wrote are labelled with the language of
their block: native script, romanized (`bn-Latn`, `ml-Latn`: right when
detected as bn/ml), and the other languages' held-out set
(data/heldout/other_languages.yml). (The detector's rules were tuned on the training examples only.)
Compares the project's detector (bot/langid.py, configured as in config.yml,
with no conversation hint: the worst case) with plain seeded langdetect over
all 55 of its languages. "Reliable" is the share the detector itself marked
reliable; unreliable short Latin-script messages fall back to the default
language (English) in this worst case, or to the conversation's language in a
real chat.

    python -m bench.language_id
"""

from __future__ import annotations

import time
from collections import defaultdict

import yaml

from bench.common import REPO_ROOT, percentile, save
from bot.content import load_content
from bot.langid import LanguageIdentifier


def detector_from_config(content) -> LanguageIdentifier:
    """The identifier exactly as the NLU component builds and trains it from config.yml."""
    from bot.components.language_detector import LanguageDetector, romanized_classifier

    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("LanguageDetector"):
            identifier = LanguageDetector({**LanguageDetector.get_default_config(), **component}).identifier
            examples = [
                (text, key.split("-")[0])
                for intent in content.intents.values()
                for key, block in intent.languages.items()
                for text in block.examples
            ]
            identifier.romanized = romanized_classifier(examples, identifier.candidates)
            return identifier
    raise SystemExit("config.yml has no LanguageDetector")


def heldout_messages(content):
    """(label, gold language, text): native and romanized held-out examples, and other languages'."""
    for intent in content.intents.values():
        for key, block in intent.languages.items():
            for text in block.heldout:
                yield key, key.split("-")[0], text
    for lang, intents in content.other_heldout.items():
        for texts in intents.values():
            for text in texts:
                yield lang, lang, text


def main() -> int:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    content = load_content()
    detector = detector_from_config(content)
    stats = defaultdict(lambda: defaultdict(int))
    timings = []
    for label, lang, text in heldout_messages(content):
        bucket = "1-3 words" if len(text.split()) <= 3 else "4+ words"
        key = (label, bucket)
        start = time.perf_counter()
        detection = detector.detect(text)
        timings.append(time.perf_counter() - start)
        try:
            baseline = detect(text)
        except LangDetectException:
            baseline = "unknown"
        s = stats[key]
        s["n"] += 1
        s["correct"] += detection.code == lang
        s["reliable"] += detection.reliable
        s["correct_and_reliable"] += detection.code == lang and detection.reliable
        s["baseline_correct"] += baseline == lang
    table = {}
    print(f"{'lang':<8}{'length':<11}{'n':>5}{'detector':>10}{'reliable':>10}{'langdetect':>12}")
    for (lang, bucket), s in sorted(stats.items()):
        n = s["n"]
        row = {
            "n": n,
            "accuracy": round(s["correct"] / n, 4),
            "reliable_share": round(s["reliable"] / n, 4),
            "accuracy_when_reliable": round(s["correct_and_reliable"] / max(1, s["reliable"]), 4),
            "plain_langdetect_accuracy": round(s["baseline_correct"] / n, 4),
        }
        table.setdefault(lang, {})[bucket] = row
        print(
            f"{lang:<8}{bucket:<11}{n:>5}{row['accuracy']:>10.1%}{row['reliable_share']:>10.1%}"
            f"{row['plain_langdetect_accuracy']:>12.1%}"
        )
    latency = {
        "p50_ms": round(percentile(timings, 50) * 1000, 3),
        "p95_ms": round(percentile(timings, 95) * 1000, 3),
        "p99_ms": round(percentile(timings, 99) * 1000, 3),
    }
    print(
        f"detector latency: p50 {latency['p50_ms']} ms, p95 {latency['p95_ms']} ms, p99 {latency['p99_ms']} ms"
    )
    save("language_id", {"candidates": detector.candidates, "per_language": table, "latency": latency})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
