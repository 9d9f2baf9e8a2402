"""Per-language intent accuracy and macro-F1 on the held-out examples.

Held-out examples (`heldout:` in data/faq/*.yml and data/intents/*.yml) are
never written into the training data (bot/compile.py), so the production
model has not seen them. Reports, per language: accuracy of the final intent
(nlu_fallback counts as wrong), accuracy of the classifier's best real intent,
the fallback rate, macro-F1, and the most frequent confusion pairs.

    python -m bench.nlu_heldout
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Dict, List

from bench.common import load_agent, save
from bot.content import load_content


def _best_real_intent(parse: dict) -> str:
    for ranked in parse.get("intent_ranking") or []:
        if ranked["name"] != "nlu_fallback":
            return ranked["name"]
    return parse["intent"]["name"]


async def evaluate() -> Dict[str, dict]:
    from sklearn.metrics import f1_score

    content = load_content()
    agent = load_agent()
    report: Dict[str, dict] = {}
    for lang in content.settings.authored:
        gold: List[str] = []
        final: List[str] = []
        best: List[str] = []
        for name, intent in sorted(content.intents.items()):
            block = intent.languages.get(lang)
            for text in block.heldout if block else []:
                parse = await agent.parse_message(text)
                gold.append(name)
                final.append(parse["intent"]["name"])
                best.append(_best_real_intent(parse))
        n = len(gold)
        confusions = Counter((g, p) for g, p in zip(gold, final, strict=True) if g != p)
        # Which topics the classifier mixes up (its best real intent, ignoring the fallback).
        mixups = Counter((g, p) for g, p in zip(gold, best, strict=True) if g != p)
        report[lang] = {
            "examples": n,
            "accuracy": round(sum(g == p for g, p in zip(gold, final, strict=True)) / n, 4),
            "accuracy_best_real_intent": round(sum(g == p for g, p in zip(gold, best, strict=True)) / n, 4),
            "fallback_rate": round(final.count("nlu_fallback") / n, 4),
            "macro_f1": round(
                f1_score(gold, final, average="macro", labels=sorted(set(gold)), zero_division=0), 4
            ),
            "confusions": [
                {"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(8)
            ],
            "confusion_pairs_best_real_intent": [
                {"gold": g, "predicted": p, "count": c} for (g, p), c in mixups.most_common(8)
            ],
        }
    return report


def main() -> int:
    report = asyncio.run(evaluate())
    print(f"{'lang':<5}{'n':>5}{'accuracy':>10}{'best-real':>11}{'fallback':>10}{'macro-F1':>10}")
    for lang, r in report.items():
        print(
            f"{lang:<5}{r['examples']:>5}{r['accuracy']:>10.1%}{r['accuracy_best_real_intent']:>11.1%}"
            f"{r['fallback_rate']:>10.1%}{r['macro_f1']:>10.3f}"
        )
        pairs = r["confusion_pairs_best_real_intent"][:5]
        print("      mixed up: " + ", ".join(f"{c['gold']}->{c['predicted']} ({c['count']})" for c in pairs))
    save("nlu_heldout", {"per_language": report})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
