"""Choose the fallback threshold, the ambiguity margin and the romanized threshold by cross-validation.

    python -m bench.nlu_calibrate [--folds 5] [--repeats 3] [--target 0.03]

Only training examples are used (held-out examples never are). A fold's
training set leaves out the examples that merely reword one of its test
examples (same intent, sentence-embedding cosine >= `--paraphrase`), so that
out-of-fold errors look like those on new phrasings rather than on reworded
copies. Out-of-fold
predictions of the production classifier (bot/text_model.py, configured as in
config.yml, with the request-for-a-person rule) are computed on `--repeats`
different fold splits and pooled (a split's luck moves a block's rate by
half a point or more); then for
each (threshold, ambiguity margin) pair, as Rasa's FallbackClassifier applies
them: a message is a *fallback* when its top confidence is below the threshold
or the top two are closer than the margin; otherwise the intent is *acted on*,
rightly or wrongly. The pair chosen has the fewest fallbacks among those whose
wrong-answers-acted-on rate is at most `--target` in every authored language:
it is the threshold of languages with no training examples. Then, with that
margin, each language block (en, bn, ml, bn-Latn, ml-Latn) gets its own
threshold, the one with the fewest fallbacks in that block whose wrong
answers stay at or below `--target` there (bot/components/fallback.py).

First the share of probability at which a request for a person wins over the
top intent (bot/text_model.prioritise) is chosen by out-of-fold accuracy.
The same is done for the romanized-language classifier (bot/langid.py): the
lowest threshold at which at most 1% of English training messages are taken
for romanized Bengali or Malayalam. Writes results/bench/nlu_calibrate.json;
the curve is in the README.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Dict, List, Optional

import numpy as np
import yaml

from bench.common import REPO_ROOT, save
from bench.nlu_compare import fold_lexicon_embeddings, production_embeddings, training_examples
from bot.content import load_content
from bot.encoder import EmbeddingCache, get_encoder
from bot.text_model import TextClassifier, prioritise
from bot.transliterate import LANGUAGES

# Steps of 0.01: with steps of 0.05, a block whose wrong answers sat a hair above
# 3% at one step paid the next step's extra fallbacks (bn: 4.7 -> 5.7%).
THRESHOLDS = [round(x, 2) for x in np.arange(0.2, 0.951, 0.01)]
PRINTED = {round(x, 2) for x in np.arange(0.2, 0.951, 0.05)}  # the curve as printed
MARGINS = [0.0, 0.02, 0.05, 0.1, 0.2]
ROMANIZED_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]


def component_config(suffix: str) -> dict:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith(suffix):
            return component
    raise SystemExit(f"config.yml has no {suffix}")


def folds_of(labels: List[str], strata: List[str], folds: int, seed: int = 0):
    from sklearn.model_selection import StratifiedKFold

    counts: Dict[str, int] = {}
    for s in strata:
        counts[s] = counts.get(s, 0) + 1
    strata = [s if counts[s] >= folds else label for s, label in zip(strata, labels, strict=True)]
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(labels, strata)


def purge_near_copies(train, test, embeddings: np.ndarray, labels: np.ndarray, similarity: float):
    """The training fold without examples that reword a test example of the same intent.

    An example whose embedding is at least `similarity` alike to a test
    example with the same intent ("where is my order" / "wheres my order") is
    left out of that fold's training, so out-of-fold errors look like those on
    a customer's new phrasing rather than on a reworded copy.
    """
    sims = embeddings[train] @ embeddings[test].T
    same = labels[train][:, None] == labels[test][None, :]
    near = ((sims >= similarity) & same).any(axis=1)
    return np.asarray(train)[~near]


PRIORITY_SHARES = [None, 0.2, 0.3, 0.4, 0.5]


def out_of_fold_rankings(
    texts,
    embeddings,
    labels,
    langs,
    folds: int,
    copies=None,
    similarity: float = 1.0,
    purge_by=None,
    per_fold=None,
    seed: int = 0,
) -> List[List[dict]]:
    """The classifier's ranking of every training example by a model that did not see it.

    `per_fold` (bench.nlu_compare.fold_lexicon_embeddings): the embeddings
    for a fold's training indices, when they depend on what the fold learns.

    `copies` (bench.nlu_compare.RomanizedCopies): each fold also trains on the
    Latin-letter copies of its own native examples, as production training does.
    """
    config = component_config("EncoderIntentClassifier")
    y = np.array(labels)
    rankings: List[List[dict]] = [[] for _ in texts]
    strata = [f"{a}/{b}" for a, b in zip(labels, langs, strict=True)]
    for train, test in folds_of(labels, strata, folds, seed):
        if per_fold is not None:
            embeddings = per_fold(train)
        if similarity < 1:
            # By the Latin text's embedding (`purge_by`), whatever the embedding
            # of romanized text: every way of embedding it is judged on the same folds.
            train = purge_near_copies(
                train, test, embeddings if purge_by is None else purge_by, y, similarity
            )
        if copies is not None:
            fold_texts, fold_embeddings, fold_labels = copies.extend(train, texts, embeddings, y)
        else:
            fold_texts, fold_embeddings, fold_labels = [texts[i] for i in train], embeddings[train], y[train]
        model = TextClassifier(
            encoder_weight=float(config["encoder_weight"]),
            C=float(config["C"]),
            neighbour_weight=float(config.get("neighbour_weight", 0.0)),
            neighbours=int(config.get("neighbours", 5)),
        ).fit(fold_texts, fold_embeddings, fold_labels)
        probabilities = model.predict_proba([texts[i] for i in test], embeddings[test])
        for i, row in zip(test, probabilities, strict=True):
            rankings[i] = [{"name": model.classes[j], "confidence": float(row[j])} for j in np.argsort(-row)]
    return rankings


def choose_priority(raw, labels, langs, intent: str = "request_human") -> tuple:
    """The share at which a request for a person wins, by accuracy over all examples."""
    rows = []
    for share in PRIORITY_SHARES:
        priority = {intent: share} if share is not None else {}
        top = [prioritise(r, priority)[0]["name"] for r in raw]
        per_lang = {
            lang: round(
                float(np.mean([t == g for t, g, x in zip(top, labels, langs, strict=True) if x == lang])), 4
            )
            for lang in sorted(set(langs))
        }
        rows.append(
            {
                "share": share,
                "accuracy": round(float(np.mean([t == g for t, g in zip(top, labels, strict=True)])), 4),
                "per_language": per_lang,
            }
        )
    best = max(rows, key=lambda r: r["accuracy"])
    return best, rows


def curve(rankings, labels, langs) -> List[dict]:
    langs = np.asarray(langs)
    top = np.array([r[0]["confidence"] for r in rankings])
    gap = top - np.array([r[1]["confidence"] for r in rankings])
    right = np.array([r[0]["name"] == g for r, g in zip(rankings, labels, strict=True)])
    rows = []
    for threshold in THRESHOLDS:
        for margin in MARGINS:
            fallback = (top < threshold) | (gap < margin)
            wrong = ~fallback & ~right
            per_lang = {
                lang: {
                    "wrong_acted": round(float(wrong[langs == lang].mean()), 4),
                    "fallback": round(float(fallback[langs == lang].mean()), 4),
                }
                for lang in sorted(set(langs.tolist()))
            }
            rows.append({"threshold": threshold, "ambiguity": margin, "per_language": per_lang})
    return rows


def choose(rows: List[dict], authored: List[str], target: float) -> dict:
    def overall_fallback(row):
        return float(np.mean([row["per_language"][lang]["fallback"] for lang in authored]))

    feasible = [r for r in rows if all(r["per_language"][lang]["wrong_acted"] <= target for lang in authored)]
    if not feasible:
        raise SystemExit(f"no threshold keeps wrong answers at or below {target:.0%} in every language")
    return min(feasible, key=lambda r: (overall_fallback(r), -r["threshold"]))


def choose_per_block(rows: List[dict], margin: float, target: float) -> Dict[str, float]:
    """{block: threshold}: per language block, the fewest fallbacks with wrong answers at or below `target`.

    Only rows with the ambiguity `margin` (one for all languages) count; among
    equal fallbacks the higher threshold. A block no threshold keeps at
    `target` is left out (it gets the default threshold).
    """
    rows = [r for r in rows if r["ambiguity"] == margin]
    chosen: Dict[str, float] = {}
    for block in sorted(rows[0]["per_language"]) if rows else []:
        feasible = [r for r in rows if r["per_language"][block]["wrong_acted"] <= target]
        if feasible:
            best = min(feasible, key=lambda r: (r["per_language"][block]["fallback"], -r["threshold"]))
            chosen[block] = float(best["threshold"])
    return chosen


def language_id_label(text: str, block: str, candidates: List[str]) -> Optional[str]:
    """The language a training example teaches the romanized-language classifier, or None.

    As the LanguageDetector learns (bot/components/language_detector.py
    romanized_classifier): Latin-letter examples of candidate languages,
    labelled by their block's language (bn-Latn -> bn).
    """
    from bot.langid import latin_only

    lang = block.split("-")[0]
    return lang if lang in candidates and latin_only(text) else None


def romanized_curve(content, folds: int) -> List[dict]:
    from bot.components.language_detector import romanized_classifier
    from bot.langid import LANGUAGE_SCRIPT

    candidates = component_config("LanguageDetector")["languages"]
    examples = [
        (text, key.split("-")[0])
        for intent in content.intents.values()
        for key, block in intent.languages.items()
        for text in block.examples
        if language_id_label(text, key, candidates)
    ]
    labels = [lang for _, lang in examples]
    predictions: List[tuple] = [None] * len(examples)
    for train, test in folds_of(labels, labels, folds):
        model = romanized_classifier([examples[i] for i in train], candidates)
        probabilities = model.predict_proba([examples[i][0] for i in test], None)
        for i, row in zip(test, probabilities, strict=True):
            predictions[i] = (model.classes[int(row.argmax())], float(row.max()))
    rows = []
    for threshold in ROMANIZED_THRESHOLDS:
        english = [
            p for p, (_, lang) in zip(predictions, examples, strict=True) if LANGUAGE_SCRIPT.get(lang) is None
        ]
        roman = [
            (p, lang) for p, (_, lang) in zip(predictions, examples, strict=True) if LANGUAGE_SCRIPT.get(lang)
        ]
        rows.append(
            {
                "threshold": threshold,
                "english_taken_for_romanized": round(
                    sum(1 for lang, prob in english if LANGUAGE_SCRIPT.get(lang) and prob >= threshold)
                    / len(english),
                    4,
                ),
                "romanized_recognised": round(
                    sum(1 for (pred, prob), gold in roman if pred == gold and prob >= threshold) / len(roman),
                    4,
                ),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--repeats", type=int, default=3, help="cross-validation repeated on this many fold splits"
    )
    parser.add_argument(
        "--paraphrase",
        type=float,
        default=0.95,
        help="similarity above which a training example counts as a reworded test example (1: plain folds)",
    )
    parser.add_argument(
        "--copies",
        action="store_true",
        help="with the generated romanized copies of every language (to compare)",
    )
    parser.add_argument(
        "--romanized", choices=["latin", "native", "mean"], help="override config.yml (to compare)"
    )
    parser.add_argument(
        "--copy-native",
        choices=["source", "transliteration"],
        default="source",
        help="native form of a generated romanized copy (the featurizer uses its source)",
    )
    parser.add_argument(
        "--no-lexicon", action="store_true", help="transliterate without the learned lexicon (to compare)"
    )
    parser.add_argument("--target", type=float, default=0.03, help="wrong answers acted on, per language")
    args = parser.parse_args()
    content = load_content()
    texts, labels, langs = training_examples(content)
    cache = EmbeddingCache(get_encoder())
    latin = cache.encode(texts)  # the texts' own embeddings: the lexicon's base and the purge's measure
    # As the pipeline embeds them (romanized bn/ml: bot/components/sentence_features.py).
    embeddings, copies = production_embeddings(
        content, texts, labels, langs, cache, args.romanized, args.copy_native == "source"
    )
    # As training: copies only for data/languages.yml's `romanized_copies` (none today).
    copies = copies if args.copies or content.settings.romanized_copies else None
    featurizer = component_config("SentenceEncoderFeaturizer")
    mode = args.romanized or featurizer.get("romanized", "mean")
    per_fold = None
    lexicon = featurizer.get("lexicon", list(LANGUAGES))
    if mode != "latin" and lexicon and not args.no_lexicon:
        # The transliteration lexicon, learned from each fold's native training examples.
        per_fold = fold_lexicon_embeddings(texts, langs, latin, cache, mode, lexicon)
    # Every repeat splits the examples into other folds; the curves pool them, so a
    # threshold does not follow one split's luck (one split moved a block's choice by 0.15).
    raw = []
    for seed in range(args.repeats):
        raw += out_of_fold_rankings(
            texts,
            embeddings,
            labels,
            langs,
            args.folds,
            copies,
            args.paraphrase,
            purge_by=latin,
            per_fold=per_fold,
            seed=seed,
        )
    labels, langs = labels * args.repeats, langs * args.repeats
    priority, priority_rows = choose_priority(raw, labels, langs)
    for row in priority_rows:
        mark = "  <- chosen" if row is priority else ""
        print(f"request_human priority share {row['share']}: accuracy {row['accuracy']:.2%}{mark}")
    share = priority["share"]
    rankings = [prioritise(r, {"request_human": share} if share is not None else {}) for r in raw]
    confusions = Counter(
        (g, r[0]["name"]) for g, r in zip(labels, rankings, strict=True) if g != r[0]["name"]
    )
    print(
        "most frequent out-of-fold confusions: "
        + ", ".join(f"{g}->{p} ({n})" for (g, p), n in confusions.most_common(15))
    )
    rows = curve(rankings, labels, langs)
    chosen = choose(rows, content.settings.authored, args.target)
    per_block = choose_per_block(rows, chosen["ambiguity"], args.target)
    print(f"{'threshold':>9} {'margin':>6}  " + "  ".join(f"{lang:>15}" for lang in sorted(set(langs))))
    print(f"{'':>17}" + "  ".join(f"{'wrong / fallbk':>15}" for _ in sorted(set(langs))))
    for row in rows:
        printed = row["threshold"] in PRINTED or row["threshold"] in per_block.values() or row is chosen
        if row["ambiguity"] in (0.0, chosen["ambiguity"]) and printed:
            cells = "  ".join(
                f"{v['wrong_acted']:>6.1%} / {v['fallback']:>5.1%}"
                for _, v in sorted(row["per_language"].items())
            )
            mark = "  <- chosen" if row is chosen else ""
            print(f"{row['threshold']:>9} {row['ambiguity']:>6}  {cells}{mark}")
    print(
        f"threshold per language block (wrong <= {args.target:.0%}, fewest fallbacks): "
        + ", ".join(f"{block} {value}" for block, value in per_block.items())
        + f"; other languages {chosen['threshold']}"
    )
    for block, value in per_block.items():
        cell = next(r for r in rows if r["threshold"] == value and r["ambiguity"] == chosen["ambiguity"])
        cell = cell["per_language"][block]
        print(f"  {block:<8} {value:>5}: wrong {cell['wrong_acted']:.1%}, fallback {cell['fallback']:.1%}")
    roman = romanized_curve(content, args.folds)
    acceptable = [r for r in roman if r["english_taken_for_romanized"] <= 0.01]
    roman_choice = min(acceptable, key=lambda r: r["threshold"]) if acceptable else roman[-1]
    print("romanized threshold: english taken for romanized / romanized recognised")
    for r in roman:
        mark = "  <- chosen" if r is roman_choice else ""
        print(
            f"  {r['threshold']:>5}  {r['english_taken_for_romanized']:>6.1%} / {r['romanized_recognised']:>6.1%}{mark}"
        )
    save(
        "nlu_calibrate",
        {
            "folds": args.folds,
            "repeats": args.repeats,
            "paraphrase_similarity": args.paraphrase,
            "target_wrong_acted": args.target,
            "priority": priority_rows,
            "chosen_priority_share": share,
            "confusions": [
                {"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(30)
            ],
            "chosen": chosen,
            "chosen_per_block": per_block,
            "curve": rows,
            "romanized_chosen": roman_choice,
            "romanized_curve": roman,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
