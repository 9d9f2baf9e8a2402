"""Do new training examples help? Cross-validation on the examples that were there before.

    python -m bench.content_gain --since REV [--folds 5] [--threshold 0.6]

The examples of data/ at git revision REV are split into folds (stratified
by intent and language block). Each fold's model is trained twice, on the
other folds' examples without and with every example added since REV, and
scored on the fold's examples: accuracy (right and at least `--threshold`
confident) and wrong answers acted on, per block. Twice: on reworded folds
(any training example, old or new, with an embedding cosine of at least 0.9
to a test example of the same intent is left out, as bench.nlu_calibrate
does, so a new example that merely rewords an old one earns nothing) and on
plain folds. Embeddings as the production featurizer makes them (romanized
examples with their transliteration, the lexicon learned per fold). Then the
same for the romanized-language classifier (bot/langid.py), on the old
Latin-letter examples: how many romanized ones it recognises at config.yml's
`romanized_threshold` (all, and those of 1-3 words), and how many English
ones it takes for romanized. The held-out examples are not used. Writes
results/bench/content_gain.json.
"""

from __future__ import annotations

import argparse
from typing import Dict

import numpy as np

from bench.common import save
from bench.heldout_overlap import _normal, examples_at
from bench.nlu_calibrate import component_config, folds_of, language_id_label, purge_near_copies
from bench.nlu_compare import fold_lexicon_embeddings, training_examples
from bot.content import load_content
from bot.encoder import EmbeddingCache, get_encoder
from bot.text_model import TextClassifier


def scores(
    texts, labels, langs, latin, per_fold, old: np.ndarray, folds: int, threshold: float, similarity: float
) -> Dict:
    """{"without"|"with": {block: {"n", "accuracy", "wrong"}}} over the old examples, out of fold.

    `latin`: the texts' own embeddings (the purge compares them); `per_fold`: the embeddings
    for a fold's training indices (bench.nlu_compare.fold_lexicon_embeddings).
    """
    config = component_config("EncoderIntentClassifier")
    y = np.asarray(labels)
    old_idx, new_idx = np.flatnonzero(old), np.flatnonzero(~old)
    counts = {v: {} for v in ("without", "with")}
    strata = [f"{labels[i]}/{langs[i]}" for i in old_idx]
    for train_part, test_part in folds_of([labels[i] for i in old_idx], strata, folds):
        test = old_idx[test_part]
        for variant in counts:
            train = old_idx[train_part]
            if variant == "with":
                train = np.concatenate([train, new_idx])
            embeddings = per_fold(train)
            if similarity < 1:
                train = purge_near_copies(train, test, latin, y, similarity)
            model = TextClassifier(float(config["encoder_weight"]), float(config["C"]), jobs=2)
            model.fit([texts[i] for i in train], embeddings[train], y[train])
            probabilities = model.predict_proba([texts[i] for i in test], embeddings[test])
            for i, row in zip(test, probabilities, strict=True):
                cell = counts[variant].setdefault(langs[i], [0, 0, 0])
                best = int(row.argmax())
                cell[0] += 1
                if row[best] >= threshold:
                    cell[1 if model.classes[best] == labels[i] else 2] += 1
    return {
        variant: {
            lang: {"n": n, "accuracy": round(100 * r / n, 1), "wrong": round(100 * w / n, 1)}
            for lang, (n, r, w) in sorted(by.items())
        }
        for variant, by in counts.items()
    }


def language_id(texts, langs, old: np.ndarray, folds: int) -> Dict:
    """{"without"|"with": {"recognised", "recognised_short", "english_taken"}} (%), out of fold.

    The romanized-language classifier's examples as the LanguageDetector
    takes them: Latin-letter examples of the candidate languages, labelled by
    their block's language (bn-Latn -> bn).
    """
    from bot.components.language_detector import romanized_classifier
    from bot.langid import _WORD, LANGUAGE_SCRIPT

    config = component_config("LanguageDetector")
    candidates, threshold = config["languages"], float(config["romanized_threshold"])
    labelled = ((i, language_id_label(t, langs[i], candidates)) for i, t in enumerate(texts))
    lang_of = {i: lang for i, lang in labelled if lang}
    old_latin = np.array([i for i in lang_of if old[i]])
    new_latin = [i for i in lang_of if not old[i]]
    gold = [lang_of[i] for i in old_latin]
    counts = {v: {"roman": [0, 0], "short": [0, 0], "english": [0, 0]} for v in ("without", "with")}
    for train_part, test_part in folds_of(gold, gold, folds):
        test = old_latin[test_part]
        for variant, cell in counts.items():
            train = list(old_latin[train_part]) + (new_latin if variant == "with" else [])
            model = romanized_classifier([(texts[i], lang_of[i]) for i in train], candidates)
            probabilities = model.predict_proba([texts[i] for i in test], None)
            for i, row in zip(test, probabilities, strict=True):
                best, lang = int(row.argmax()), lang_of[i]
                romanized = LANGUAGE_SCRIPT.get(model.classes[best]) and row[best] >= threshold
                if LANGUAGE_SCRIPT.get(lang):
                    hit = bool(romanized and model.classes[best] == lang)
                    keys = ["roman"] + (["short"] if len(_WORD.findall(texts[i])) <= 3 else [])
                    for key in keys:
                        cell[key][0] += 1
                        cell[key][1] += hit
                else:
                    cell["english"][0] += 1
                    cell["english"][1] += bool(romanized)
    names = {"roman": "recognised", "short": "recognised_short", "english": "english_taken"}
    return {
        variant: {names[k]: round(100 * hit / max(n, 1), 1) for k, (n, hit) in cell.items()}
        for variant, cell in counts.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", required=True, help="git revision whose examples are the old ones")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args()
    texts, labels, langs = training_examples(load_content())
    before = examples_at(args.since)
    old = np.array([(n, lang, _normal(t)) in before for t, n, lang in zip(texts, labels, langs, strict=True)])
    print(f"{int(old.sum())} examples at {args.since}, {int((~old).sum())} added since")
    result = {
        "since": args.since,
        "threshold": args.threshold,
        "old": int(old.sum()),
        "new": int((~old).sum()),
    }
    cache = EmbeddingCache(get_encoder(), threads=2)
    latin = cache.encode(texts)
    per_fold = fold_lexicon_embeddings(texts, langs, latin, cache, "mean")
    for name, similarity in (("reworded", 0.9), ("plain", 1.0)):
        result[name] = scores(
            texts, labels, langs, latin, per_fold, old, args.folds, args.threshold, similarity
        )
        print(f"{name} folds (accuracy / wrong, %):")
        for variant, by in result[name].items():
            cells = "  ".join(f"{lang} {c['accuracy']}/{c['wrong']}" for lang, c in by.items())
            print(f"  {variant:8} {cells}")
    result["language_id"] = language_id(texts, langs, old, args.folds)
    print("romanized-language classifier (% of the old Latin-letter examples):")
    for variant, cell in result["language_id"].items():
        print(
            f"  {variant:8} romanized recognised {cell['recognised']} (1-3 words {cell['recognised_short']}), "
            f"English taken for romanized {cell['english_taken']}"
        )
    save("content_gain", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
