"""Per-language intent accuracy and macro-F1 on the held-out examples.

Held-out examples (`heldout:` in data/faq/*.yml and data/intents/*.yml, in
each language and its romanized form, and data/heldout/other_languages.yml
for languages with no authored content) are never written into the training
data (bot/compile.py), so the production model has not seen them. Reports,
per set: accuracy of the final intent (nlu_fallback counts as wrong), wrong
answers acted on (a wrong intent that is not the fallback), the fallback
rate, accuracy of the classifier's best real intent, the detected language's
accuracy, intent and language both right, macro-F1, and the most frequent
confusion pairs.

    python -m bench.nlu_heldout
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Dict, List

from bench.common import load_agent, save
from bot.content import ROMAN, load_content


def _best_real_intent(parse: dict) -> str:
    for ranked in parse.get("intent_ranking") or []:
        if ranked["name"] != "nlu_fallback":
            return ranked["name"]
    return parse["intent"]["name"]


def heldout_sets(content) -> Dict[str, List[tuple]]:
    """{set name: [(gold intent, gold language, text)]}: native, romanized and other languages."""
    sets: Dict[str, List[tuple]] = {}
    for lang in content.settings.authored:
        keys = [lang] + ([f"{lang}-{ROMAN}"] if lang in content.settings.romanized else [])
        for key in keys:
            sets[key] = [
                (name, lang, text)
                for name, intent in sorted(content.intents.items())
                for text in (intent.languages[key].heldout if key in intent.languages else [])
            ]
    for lang, intents in sorted(content.other_heldout.items()):
        sets[lang] = [(name, lang, text) for name, texts in sorted(intents.items()) for text in texts]
    return sets


CURVE = [0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]


def threshold_curve(gold: List[str], rankings: List[List[dict]]) -> List[dict]:
    """Accuracy, wrong answers acted on and fallbacks had the threshold been each of CURVE.

    A report of the trade-off on unseen messages; the threshold itself is
    chosen on training examples only (bench/nlu_calibrate.py).
    """
    rows = []
    for threshold in CURVE:
        right = wrong = fallback = 0
        for g, ranking in zip(gold, rankings, strict=True):
            if not ranking or ranking[0]["confidence"] < threshold:
                fallback += 1
            elif ranking[0]["name"] == g:
                right += 1
            else:
                wrong += 1
        n = len(gold)
        rows.append(
            {
                "threshold": threshold,
                "accuracy": round(right / n, 4),
                "wrong_acted": round(wrong / n, 4),
                "fallback": round(fallback / n, 4),
            }
        )
    return rows


async def evaluate() -> Dict[str, dict]:
    from sklearn.metrics import f1_score

    content = load_content()
    agent = load_agent()
    report: Dict[str, dict] = {}
    for name, messages in heldout_sets(content).items():
        gold, final, best, language_right, rankings = [], [], [], [], []
        for intent, lang, text in messages:
            parse = await agent.parse_message(text)
            gold.append(intent)
            final.append(parse["intent"]["name"])
            best.append(_best_real_intent(parse))
            language_right.append(parse.get("language") == lang)
            rankings.append([r for r in parse.get("intent_ranking") or [] if r["name"] != "nlu_fallback"])
        n = len(gold)
        right = [g == p for g, p in zip(gold, final, strict=True)]
        confusions = Counter((g, p) for g, p in zip(gold, final, strict=True) if g != p)
        # Which topics the classifier mixes up (its best real intent, ignoring the fallback).
        mixups = Counter((g, p) for g, p in zip(gold, best, strict=True) if g != p)
        report[name] = {
            "examples": n,
            "accuracy": round(sum(right) / n, 4),
            "accuracy_best_real_intent": round(sum(g == p for g, p in zip(gold, best, strict=True)) / n, 4),
            "fallback_rate": round(final.count("nlu_fallback") / n, 4),
            "wrong_acted_rate": round(
                sum(not r and p != "nlu_fallback" for r, p in zip(right, final, strict=True)) / n, 4
            ),
            "language_accuracy": round(sum(language_right) / n, 4),
            "intent_and_language": round(
                sum(r and lr for r, lr in zip(right, language_right, strict=True)) / n, 4
            ),
            "macro_f1": round(
                f1_score(gold, final, average="macro", labels=sorted(set(gold)), zero_division=0), 4
            ),
            "confusions": [
                {"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(8)
            ],
            "threshold_curve": threshold_curve(gold, rankings),
            "confusion_pairs_best_real_intent": [
                {"gold": g, "predicted": p, "count": c} for (g, p), c in mixups.most_common(8)
            ],
        }
    return report


def main() -> int:
    report = asyncio.run(evaluate())
    print(
        f"{'set':<8}{'n':>5}{'accuracy':>10}{'wrong':>8}{'fallback':>10}{'best-real':>11}"
        f"{'language':>10}{'both':>8}{'macro-F1':>10}"
    )
    for lang, r in report.items():
        print(
            f"{lang:<8}{r['examples']:>5}{r['accuracy']:>10.1%}{r['wrong_acted_rate']:>8.1%}{r['fallback_rate']:>10.1%}"
            f"{r['accuracy_best_real_intent']:>11.1%}{r['language_accuracy']:>10.1%}{r['intent_and_language']:>8.1%}"
            f"{r['macro_f1']:>10.3f}"
        )
        pairs = r["confusion_pairs_best_real_intent"][:5]
        print("      mixed up: " + ", ".join(f"{c['gold']}->{c['predicted']} ({c['count']})" for c in pairs))
    save("nlu_heldout", {"per_language": report})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
