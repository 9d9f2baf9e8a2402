"""Keyboard mashes: choose the threshold of bot/gibberish.py by cross-validation.

    python -m bench.gibberish [--folds 5]

Held-out examples are never read here. For each fold of the Latin-letter
training examples (English, romanized Bengali and Malayalam), a MashDetector
learned from the other folds judges:
- the fold's own examples, which stand for new messages: each one flagged is a
  question the assistant would ask to rephrase (false alarms), and
- 300 generated keyboard mashes (runs along a keyboard row, forwards or
  backwards, and random letters from one row, one to three words; seeded),
at each candidate threshold. Also prints how the production model's detector
(learned from all the examples) judges ten hand-typed mashes. Writes
results/bench/gibberish.json.
"""

from __future__ import annotations

import argparse
import random
from typing import List

import numpy as np

from bench.common import save
from bench.nlu_compare import training_examples
from bot.content import load_content
from bot.gibberish import MashDetector
from bot.langid import latin_only

THRESHOLDS = (-2.5, -3.0, -3.5, -4.0, -4.5)
ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
HAND_TYPED = [
    "qwrtp zxcvb",
    "fjdksla ghty",
    "xyzzy plugh",
    "asdf qwerty",
    "hjkl hjkl",
    "asdfgh",
    "zzzz",
    "lkjhg poiuy",
    "mnbvc",
    "qwe rty uiop",
]


def generated_mashes(n: int, seed: int = 1) -> List[str]:
    rng = random.Random(seed)
    mashes = []
    for _ in range(n):
        words = []
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            row = rng.choice(ROWS + ("".join(ROWS),))
            length = rng.randint(3, 8)
            if rng.random() < 0.5:
                start = rng.randint(0, max(0, len(row) - length))
                word = row[start : start + length]
                word = word[::-1] if rng.random() < 0.5 else word
            else:
                word = "".join(rng.choice(row) for _ in range(length))
            words.append(word)
        mashes.append(" ".join(words))
    return mashes


def main() -> int:
    from sklearn.model_selection import StratifiedKFold

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    texts, labels, _ = training_examples(load_content())
    latin = [i for i, t in enumerate(texts) if latin_only(t)]
    texts = [texts[i] for i in latin]
    labels = [labels[i] for i in latin]
    mashes = generated_mashes(300)
    flagged = {t: [] for t in THRESHOLDS}
    caught = {t: 0 for t in THRESHOLDS}
    splitter = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    mash_share = np.array_split(np.arange(len(mashes)), args.folds)
    for (train, test), share in zip(splitter.split(texts, labels), mash_share, strict=True):
        for threshold in THRESHOLDS:
            detector = MashDetector.learn([texts[i] for i in train], threshold=threshold)
            flagged[threshold] += [texts[i] for i in test if detector.is_mash(texts[i])]
            caught[threshold] += sum(detector.is_mash(mashes[i]) for i in share)
    rows = []
    print(f"{len(texts)} Latin-letter training examples, {len(mashes)} generated mashes, {args.folds} folds")
    for threshold in THRESHOLDS:
        row = {
            "threshold": threshold,
            "examples_flagged": len(flagged[threshold]),
            "examples_flagged_share": round(len(flagged[threshold]) / len(texts), 5),
            "mashes_caught_share": round(caught[threshold] / len(mashes), 4),
            "flagged": flagged[threshold][:20],
        }
        rows.append(row)
        print(
            f"threshold {threshold:5}: {row['examples_flagged']} of {len(texts)} examples flagged "
            f"{flagged[threshold][:6]}, {row['mashes_caught_share']:.1%} of mashes caught"
        )
    production = MashDetector.learn(texts)
    hand = {text: production.is_mash(text) for text in HAND_TYPED}
    print(
        f"hand-typed mashes caught by the detector learned from all examples: {sum(hand.values())} of {len(hand)}"
    )
    print({text: round(production.letter_score(text), 2) for text in HAND_TYPED})
    save("gibberish", {"folds": args.folds, "curve": rows, "hand_typed": hand})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
