"""Choose the intent classifier by cross-validation on the training examples.

    python -m bench.nlu_compare [--folds 5]
    python -m bench.nlu_compare --romanized [--folds 5]

Held-out examples are never read here. Every candidate sees the same
stratified folds of the training examples (all authored languages and their
romanized forms together, as the production model is trained; each fold also
trains on the romanized copies of its own native examples); the score is
accuracy per language of the out-of-fold predictions. Candidates are plain
scikit-learn models over the features the production pipeline computes: the
sentence encoder's embedding (bot/encoder.py) and tf-idf word and character
n-grams (bot/components/intent_classifier.py builds the same ones).
Writes results/bench/nlu_compare.json.

`--romanized` chooses instead how romanized Bengali and Malayalam are embedded
(bot/components/sentence_features.py `romanized`): the Latin text, its
transliteration to the native script (bot/transliterate.py), or the mean of
both, each with and without the generated romanized copies, and with the
transliteration lexicon (learned from each fold's native training examples), with the
production classifier (bot/text_model.py). The human-typed bn-Latn and ml-Latn
training blocks are the evaluation folds of interest; native accuracy is
reported too (it must not drop). Besides plain folds, folds whose training
part leaves out the examples that reword a test example (same intent,
embedding cosine >= 0.9) look more like new messages. Writes
results/bench/nlu_romanized.json.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from bench.common import save
from bot.content import load_content, romanized_copies
from bot.encoder import EmbeddingCache, get_encoder


def training_examples(content) -> Tuple[List[str], List[str], List[str]]:
    """The authored training examples: texts, intents and language blocks ("bn", "bn-Latn", ...)."""
    texts, labels, langs = [], [], []
    for name in sorted(content.intents):
        for lang, block in sorted(content.intents[name].languages.items()):
            for text in block.examples:
                texts.append(text)
                labels.append(name)
                langs.append(lang)
    return texts, labels, langs


class RomanizedCopies:
    """The Latin-letter copies (bot/romanize.py) that training adds, for cross-validation.

    A fold's training set gets the copies of its own native examples, never
    those of the test fold's, as the compiler adds them to training when
    data/languages.yml lists languages under `romanized_copies`; the
    comparisons make them for every romanized language.
    """

    def __init__(self, content, texts: List[str], labels: List[str], cache) -> None:
        pairs = romanized_copies(content, content.settings.romanized)
        by_source = {
            (name, src): copy for name, langs in pairs.items() for ps in langs.values() for copy, src in ps
        }
        self.of = {i: by_source[(labels[i], t)] for i, t in enumerate(texts) if (labels[i], t) in by_source}
        order = sorted(self.of)
        vectors = cache.encode([self.of[i] for i in order]) if order else np.zeros((0, 0))
        self.embedding = {i: vectors[k] for k, i in enumerate(order)}

    def extend(self, train, texts: List[str], embeddings: np.ndarray, labels: np.ndarray):
        """The fold's training texts, embeddings and labels, with the copies of its examples."""
        extra = [i for i in train if i in self.of]
        fold_texts = [texts[i] for i in train] + [self.of[i] for i in extra]
        fold_embeddings = np.vstack([embeddings[train]] + [self.embedding[i][None, :] for i in extra])
        fold_labels = np.concatenate([labels[train], labels[extra]]) if extra else labels[train]
        return fold_texts, fold_embeddings, fold_labels


class NativeForms:
    """The native-script forms (bot/transliterate.py) of the romanized examples and copies, embedded.

    `apply(mode, ...)` gives the embeddings the production featurizer
    (bot/components/sentence_features.py, `romanized: mode`) computes for them.
    """

    def __init__(self, texts: List[str], langs: List[str], copies: RomanizedCopies, cache) -> None:
        from bot.transliterate import to_native

        native = {
            i: to_native(t, lang.split("-")[0]) for i, (t, lang) in enumerate(zip(texts, langs, strict=True))
        }
        native = {i: t for i, t in native.items() if t and "-" in langs[i]}
        of_copies = {i: to_native(c, langs[i]) for i, c in copies.of.items()}
        of_copies = {i: t for i, t in of_copies.items() if t}
        vectors = cache.encode(list(native.values()) + list(of_copies.values()))
        self.native = dict(zip(native, vectors[: len(native)], strict=True))
        self.native_copy = dict(zip(of_copies, vectors[len(native) :], strict=True))

    def apply(
        self, mode: str, latin: np.ndarray, copy_latin: Dict[int, np.ndarray], copy_source: bool = True
    ):
        """(embeddings of the examples, {source index: embedding of its copy}) for `mode`.

        `copy_source`: a copy's native form is the native example it was made
        from (as the featurizer does: nothing more to embed), not the
        transliteration of the copy back to the native script.
        """
        from bot.components.sentence_features import combine

        embeddings = latin.copy()
        for i, vector in self.native.items():
            embeddings[i] = combine(latin[i], vector, mode)
        native_copy = {i: latin[i] for i in copy_latin} if copy_source else self.native_copy
        copies = {
            i: combine(vector, native_copy[i], mode) if i in native_copy else vector
            for i, vector in copy_latin.items()
        }
        return embeddings, copies


def fold_lexicon_embeddings(
    texts: List[str], langs: List[str], latin: np.ndarray, cache, mode: str, languages=None
):
    """A function of a fold's training indices: the examples' embeddings, the romanized ones
    transliterated with a lexicon (bot/transliterate.py `Lexicon`) learned from that fold's
    native training examples only, as the trained featurizer does with all of them.
    """
    from bot.components.sentence_features import combine
    from bot.transliterate import LANGUAGES, Lexicon, to_native

    romanized = [i for i, lang in enumerate(langs) if lang.endswith("-Latn")]

    def of(train) -> np.ndarray:
        lexicon = Lexicon.learn(
            {lang: [texts[i] for i in train if langs[i] == lang] for lang in languages or LANGUAGES}
        )
        native = {i: to_native(texts[i], langs[i].split("-")[0], lexicon) for i in romanized}
        native = {i: t for i, t in native.items() if t}
        vectors = cache.encode(list(native.values())) if native else []
        embeddings = latin.copy()
        for i, vector in zip(native, vectors, strict=True):
            embeddings[i] = combine(latin[i], vector, mode)
        return embeddings

    return of


def production_embeddings(
    content, texts, labels, langs, cache, mode: Optional[str] = None, copy_source: bool = True
) -> Tuple[np.ndarray, RomanizedCopies]:
    """The examples' embeddings and their romanized copies, as config.yml's pipeline embeds them.

    `mode` overrides config.yml's `romanized` (to compare); `copy_source` as in NativeForms.apply.
    """
    from bench.nlu_calibrate import component_config

    mode = mode or component_config("SentenceEncoderFeaturizer").get("romanized", "mean")
    copies = RomanizedCopies(content, texts, labels, cache)
    embeddings, copies.embedding = NativeForms(texts, langs, copies, cache).apply(
        mode, cache.encode(texts), copies.embedding, copy_source
    )
    return embeddings, copies


def candidates() -> Dict[str, Callable]:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.svm import LinearSVC

    from bot.text_model import NgramFeatures

    def logreg(weight: float, C: float, use_ngrams: bool = True):
        from sklearn.linear_model import LogisticRegression

        def fit_predict(train_texts, train_emb, y, test_texts, test_emb):
            parts_train, parts_test = [csr_matrix(train_emb * weight)], [csr_matrix(test_emb * weight)]
            if use_ngrams:
                ngrams = NgramFeatures().fit(train_texts)
                parts_train.append(ngrams.transform(train_texts))
                parts_test.append(ngrams.transform(test_texts))
            model = LogisticRegression(C=C, max_iter=5000).fit(hstack(parts_train).tocsr(), y)
            return model.predict(hstack(parts_test).tocsr())

        return fit_predict

    def svc(weight: float, C: float = 1.0, use_ngrams: bool = True):
        def fit_predict(train_texts, train_emb, y, test_texts, test_emb):
            parts_train, parts_test = [csr_matrix(train_emb * weight)], [csr_matrix(test_emb * weight)]
            if use_ngrams:
                ngrams = NgramFeatures().fit(train_texts)
                parts_train.append(ngrams.transform(train_texts))
                parts_test.append(ngrams.transform(test_texts))
            model = LinearSVC(C=C).fit(hstack(parts_train).tocsr(), y)
            return model.predict(hstack(parts_test).tocsr())

        return fit_predict

    return {
        "e5, logreg C=20": logreg(1.0, 20.0, use_ngrams=False),
        "n-grams, svc": svc(0.0),
        "e5 + n-grams, svc": svc(1.0),
        "e5x2 + n-grams, svc": svc(2.0),
        "e5x3 + n-grams, svc": svc(3.0),
        "e5x3 + n-grams, svc C=0.5": svc(3.0, 0.5),
        "e5x3 + n-grams, svc C=2": svc(3.0, 2.0),
        "e5x4 + n-grams, svc": svc(4.0),
        "e5x3 + n-grams, logreg C=20": logreg(3.0, 20.0),
    }


def cross_validate(folds: int, only: List[str]) -> Dict[str, dict]:
    from sklearn.model_selection import StratifiedKFold

    content = load_content()
    texts, labels, langs = training_examples(content)
    cache = EmbeddingCache(get_encoder())
    start = time.monotonic()
    embeddings, copies = production_embeddings(content, texts, labels, langs, cache)
    print(f"{len(texts)} training examples embedded in {time.monotonic() - start:.1f} s ({cache.misses} new)")
    y = np.array(labels)
    strata = np.array([f"{label}/{lang}" for label, lang in zip(labels, langs, strict=True)])
    # Stratify by intent and language; strata too small for the folds join their intent.
    counts = defaultdict(int)
    for s in strata:
        counts[s] += 1
    strata = np.array([s if counts[s] >= folds else s.split("/")[0] for s in strata])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    report = {}
    for name, fit_predict in candidates().items():
        if only and name not in only:
            continue
        start = time.monotonic()
        predicted = np.empty(len(texts), dtype=object)
        for train, test in splitter.split(texts, strata):
            if content.settings.romanized_copies:  # as training adds them (data/languages.yml)
                fold_texts, fold_embeddings, fold_labels = copies.extend(train, texts, embeddings, y)
            else:
                fold_texts, fold_embeddings, fold_labels = (
                    [texts[i] for i in train],
                    embeddings[train],
                    y[train],
                )
            predicted[test] = fit_predict(
                fold_texts, fold_embeddings, fold_labels, [texts[i] for i in test], embeddings[test]
            )
        per_lang = {}
        for lang in sorted(set(langs)):
            idx = [i for i, lang_i in enumerate(langs) if lang_i == lang]
            per_lang[lang] = round(float(np.mean(predicted[idx] == y[idx])), 4)
        report[name] = {
            "accuracy": per_lang,
            "overall": round(float(np.mean(predicted == y)), 4),
            "seconds": round(time.monotonic() - start, 1),
        }
        print(
            f"{name:<32} "
            + " ".join(f"{k} {v:.1%}" for k, v in per_lang.items())
            + f"  ({report[name]['seconds']} s)"
        )
    return report


def romanized_modes(folds: int, only: List[str], similarity: float = 0.9) -> Dict[str, dict]:
    """Out-of-fold accuracy per language block of each way to embed romanized text."""
    from bench.nlu_calibrate import folds_of, purge_near_copies
    from bot.components.sentence_features import ROMANIZED_MODES
    from bot.text_model import TextClassifier

    content = load_content()
    texts, labels, langs = training_examples(content)
    cache = EmbeddingCache(get_encoder())
    start = time.monotonic()
    latin = cache.encode(texts)
    copies = RomanizedCopies(content, texts, labels, cache)
    forms = NativeForms(texts, langs, copies, cache)
    print(
        f"{len(texts)} examples, {len(forms.native)} romanized, {len(copies.of)} copies: {time.monotonic() - start:.0f} s"
    )
    y = np.array(labels)
    strata = [f"{a}/{b}" for a, b in zip(labels, langs, strict=True)]
    splits = list(folds_of(labels, strata, folds))
    report: Dict[str, dict] = {}
    variants = [(mode, False, False) for mode in ROMANIZED_MODES]
    variants += [("native", True, False), ("mean", True, False), ("native", True, True), ("mean", True, True)]
    for mode, copy_source, lexicon in variants:
        embeddings, copy_embeddings = forms.apply(mode, latin, copies.embedding, copy_source)
        per_fold = fold_lexicon_embeddings(texts, langs, latin, cache, mode) if lexicon else None
        for folding in ("plain", f"reworded<{similarity}"):
            for with_copies in (True, False) if not copy_source or lexicon else (True,):
                name = f"{mode}, {folding}, {'with' if with_copies else 'without'} copies"
                name += " (native form of a copy: its source)" if copy_source and with_copies else ""
                name += " + lexicon" if lexicon else ""
                if only and not all(o in name for o in only):
                    continue
                predicted = np.empty(len(texts), dtype=object)
                for train, test in splits:
                    if per_fold is not None:
                        embeddings = per_fold(train)
                    if folding != "plain":
                        train = purge_near_copies(train, test, latin, y, similarity)
                    extra = [i for i in train if i in copies.of] if with_copies else []
                    model = TextClassifier(calibration_folds=0).fit(
                        [texts[i] for i in train] + [copies.of[i] for i in extra],
                        np.vstack([embeddings[train]] + [copy_embeddings[i][None, :] for i in extra]),
                        np.concatenate([y[train], y[extra]]) if extra else y[train],
                    )
                    probabilities = model.predict_proba([texts[i] for i in test], embeddings[test])
                    predicted[test] = [model.classes[j] for j in probabilities.argmax(axis=1)]
                accuracy = {
                    lang: round(
                        float(
                            np.mean(
                                [p == g for p, g, x in zip(predicted, y, langs, strict=True) if x == lang]
                            )
                        ),
                        4,
                    )
                    for lang in sorted(set(langs))
                }
                report[name] = accuracy
                print(f"{name:<42} " + " ".join(f"{k} {v:.1%}" for k, v in accuracy.items()), flush=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[], help="candidates whose name holds all these")
    parser.add_argument("--romanized", action="store_true", help="compare ways to embed romanized bn/ml")
    args = parser.parse_args()
    if args.romanized:
        save("nlu_romanized", {"folds": args.folds, "accuracy": romanized_modes(args.folds, args.only)})
        return 0
    report = cross_validate(args.folds, args.only)
    save("nlu_compare", {"folds": args.folds, "candidates": report})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
