"""The text classifier: a linear model over sentence-encoder and n-gram features.

Pure numpy/scikit-learn (no Rasa), so the Rasa component
(bot/components/intent_classifier.py), the language detector, the benchmarks
and the tests share it.

Features of one message: its sentence embedding (multilingual e5, bot/encoder.py)
times `encoder_weight`, next to tf-idf word 1-2-grams and character 2-5-grams
within word boundaries (they catch spellings, order numbers and code-mixed
words that the encoder blurs). A linear SVM separates the intents (chosen by
cross-validation, bench/nlu_compare.py); a softmax over its scores, with a
temperature fitted on out-of-fold scores, gives the confidences that the
fallback threshold (calibrated by bench/nlu_calibrate.py) acts on. The same
class with n-grams only tells romanized Bengali and Malayalam from English
(bot/langid.py).

Saved as plain arrays and JSON (no pickle): vocabularies, idf weights,
coefficients and intercepts.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

from bot.canonical import canonical

NGRAM_SPECS = {
    "word": {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"},
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5)},
}


def _preprocess(text: str) -> str:
    return canonical(text).lower()


def _vectorizer(kind: str, vocabulary: Optional[dict] = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        preprocessor=_preprocess,  # lower case, one Unicode form (bot/canonical.py)
        sublinear_tf=True,
        min_df=1,
        vocabulary=vocabulary,
        dtype=np.float32,
        **NGRAM_SPECS[kind],
    )


class NgramFeatures:
    """tf-idf word and character n-grams, each block L2-normalised."""

    def __init__(self) -> None:
        self.vectorizers: Dict[str, object] = {}

    def fit(self, texts: Sequence[str]) -> NgramFeatures:
        self.vectorizers = {kind: _vectorizer(kind).fit(texts) for kind in NGRAM_SPECS}
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.hstack([v.transform(texts) for v in self.vectorizers.values()]).tocsr()

    def to_state(self) -> Tuple[dict, Dict[str, np.ndarray]]:
        meta = {kind: {k: int(i) for k, i in v.vocabulary_.items()} for kind, v in self.vectorizers.items()}
        arrays = {f"idf_{kind}": v.idf_ for kind, v in self.vectorizers.items()}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: Dict[str, np.ndarray]) -> NgramFeatures:
        features = cls()
        for kind in NGRAM_SPECS:
            vectorizer = _vectorizer(kind, vocabulary=meta[kind])
            vectorizer._validate_vocabulary()
            vectorizer.idf_ = arrays[f"idf_{kind}"]
            features.vectorizers[kind] = vectorizer
        return features


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, gold: np.ndarray) -> float:
    """The softmax temperature that minimises the log-loss of `scores` (rows) for `gold` (indices)."""
    best, best_loss = 1.0, float("inf")
    for temperature in np.geomspace(0.3, 100.0, 80):
        probs = _softmax(scores * temperature)
        loss = -float(np.mean(np.log(probs[np.arange(len(gold)), gold] + 1e-12)))
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


class TextClassifier:
    """A linear SVM over [encoder_weight * embedding, n-grams], with calibrated softmax scores.

    `encoder_weight` 0 uses n-grams only (no embeddings needed). With
    `neighbour_weight` > 0, each intent's score also gets that weight times its
    nearest-neighbour similarity: the mean cosine between the message's
    embedding and its `neighbours` most similar training examples of that
    intent (a local view the linear model lacks; chosen by cross-validation).
    The scores become probabilities by a softmax whose temperature is fitted
    on out-of-fold scores of the training examples (`calibration_folds`).
    `jobs` > 1 fits the model and those folds in that many threads.
    """

    def __init__(
        self,
        encoder_weight: float = 3.0,
        C: float = 1.0,
        use_ngrams: bool = True,
        calibration_folds: int = 3,
        neighbour_weight: float = 0.0,
        neighbours: int = 5,
        jobs: int = 1,
    ) -> None:
        self.encoder_weight = float(encoder_weight)
        self.C = float(C)
        self.use_ngrams = bool(use_ngrams)
        self.calibration_folds = int(calibration_folds)
        self.neighbour_weight = float(neighbour_weight)
        self.neighbours = int(neighbours)
        self.jobs = int(jobs)  # fits at once (the model and its calibration folds) in threads
        self.ngrams: Optional[NgramFeatures] = None
        self.classes: List[str] = []
        self._coef: Optional[np.ndarray] = None
        self._weights: Optional[np.ndarray] = None
        self.intercept: Optional[np.ndarray] = None
        self.temperature = 1.0
        # With neighbour_weight: the training embeddings and their class indices.
        self.memory: Optional[np.ndarray] = None
        self.memory_class: Optional[np.ndarray] = None

    @property
    def coef(self) -> Optional[np.ndarray]:
        """(classes, features): the SVM's weights."""
        return self._coef

    @coef.setter
    def coef(self, value: Optional[np.ndarray]) -> None:
        # Scores are computed with the transpose; a contiguous copy of it makes a
        # sparse row times the weights about 500 times faster than the strided
        # view (scipy copies a strided operand on every call: 8 ms a message).
        self._coef = value
        self._weights = None if value is None else np.ascontiguousarray(value.T)

    def features(self, texts: Sequence[str], embeddings: Optional[np.ndarray]) -> sp.csr_matrix:
        parts = []
        if self.encoder_weight:
            parts.append(sp.csr_matrix(np.asarray(embeddings, dtype=np.float32) * self.encoder_weight))
        if self.use_ngrams:
            parts.append(self.ngrams.transform(texts))
        return sp.hstack(parts).tocsr()

    def _fit_svm(self, texts, embeddings, labels) -> Tuple[List[str], np.ndarray, np.ndarray]:
        from sklearn.svm import LinearSVC

        model = LinearSVC(C=self.C, random_state=0).fit(self.features(texts, embeddings), list(labels))
        coef, intercept = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # sklearn keeps one row for two classes
            coef, intercept = np.vstack([-coef, coef]), np.hstack([-intercept, intercept])
        return [str(c) for c in model.classes_], coef.astype(np.float32), intercept.astype(np.float32)

    def fit(
        self, texts: Sequence[str], embeddings: Optional[np.ndarray], labels: Sequence[str]
    ) -> TextClassifier:
        """Fit the model and, alongside it, the calibration folds (`jobs` at once).

        Fitted in threads, the weights equal those of one thread within the
        solver's tolerance (about 1e-6), not bit for bit: liblinear draws its
        coordinate order from one process-wide random generator.
        """
        texts, labels = list(texts), np.asarray(labels)
        splits = self._calibration_splits(labels)
        fits = [lambda: self._fit_model(texts, embeddings, labels)]
        fits += [lambda train=train: self._fit_fold(texts, embeddings, labels, train) for train, _ in splits]
        # The SVM solver releases the GIL: threads use every core without copying the features.
        if self.jobs > 1 and len(fits) > 1:
            with ThreadPoolExecutor(min(self.jobs, len(fits))) as pool:
                folds = list(pool.map(lambda fit: fit(), fits))[1:]
        else:
            folds = [fit() for fit in fits][1:]
        if splits:
            self.temperature = self._temperature(folds, splits, texts, embeddings, labels)
        return self

    def _fit_model(self, texts: List[str], embeddings: Optional[np.ndarray], labels: np.ndarray) -> None:
        if self.use_ngrams:
            self.ngrams = NgramFeatures().fit(texts)
        self.classes, self.coef, self.intercept = self._fit_svm(texts, embeddings, labels)
        if self.neighbour_weight:
            index = {c: i for i, c in enumerate(self.classes)}
            classes = np.array([index[c] for c in labels], dtype=np.int32)
            order = np.argsort(classes, kind="stable")  # each class one contiguous block
            self.memory = np.asarray(embeddings, dtype=np.float32)[order]
            self.memory_class = classes[order]

    def _calibration_splits(self, labels: np.ndarray) -> List[Tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import StratifiedKFold

        _, counts = np.unique(labels, return_counts=True)
        folds = min(self.calibration_folds, int(counts.min()) if len(counts) else 0)
        if folds < 2:
            return []
        return list(StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(labels)), labels))

    def _fit_fold(self, texts, embeddings, labels, train: np.ndarray) -> TextClassifier:
        fold = TextClassifier(
            self.encoder_weight, self.C, self.use_ngrams, 0, self.neighbour_weight, self.neighbours
        )
        fold._fit_model(
            [texts[i] for i in train], embeddings[train] if embeddings is not None else None, labels[train]
        )
        return fold

    def _temperature(self, folds, splits, texts, embeddings, labels) -> float:
        """The softmax temperature fitted on the folds' scores of the examples they left out."""
        index = {c: i for i, c in enumerate(self.classes)}
        scores, gold = [], []
        for fold, (_, test) in zip(folds, splits, strict=True):
            test_emb = embeddings[test] if embeddings is not None else None
            raw = fold.decision([texts[i] for i in test], test_emb)
            # Align the fold's classes with the full model's.
            aligned = np.full((len(test), len(self.classes)), -1e3, dtype=np.float32)
            for j, c in enumerate(fold.classes):
                aligned[:, index[c]] = raw[:, j]
            scores.append(aligned)
            gold.extend(index[c] for c in labels[test])
        return fit_temperature(np.vstack(scores), np.asarray(gold))

    def decision(self, texts: Sequence[str], embeddings: Optional[np.ndarray]) -> np.ndarray:
        scores = np.asarray(self.features(texts, embeddings) @ self._weights + self.intercept)
        if self.neighbour_weight and self.memory is not None:
            scores = scores + self.neighbour_weight * self.neighbour_similarity(embeddings)
        return scores

    def neighbour_similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """(messages, classes): mean cosine to each class's `neighbours` nearest training examples."""
        sims = np.asarray(embeddings, dtype=np.float32) @ self.memory.T
        out = np.zeros((len(sims), len(self.classes)), dtype=np.float32)
        # memory is sorted by class: class j is the block bounds[j]:bounds[j + 1].
        bounds = np.searchsorted(self.memory_class, np.arange(len(self.classes) + 1))
        for j in range(len(self.classes)):
            of_class = sims[:, bounds[j] : bounds[j + 1]]
            k = min(self.neighbours, of_class.shape[1])
            if k:
                out[:, j] = np.partition(of_class, -k, axis=1)[:, -k:].mean(axis=1)
        return out

    def predict_proba(self, texts: Sequence[str], embeddings: Optional[np.ndarray]) -> np.ndarray:
        """Rows of probabilities over `self.classes`."""
        return _softmax(self.decision(texts, embeddings) * self.temperature)

    def save(self, directory: Path, name: str = "text_classifier") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "encoder_weight": self.encoder_weight,
            "C": self.C,
            "use_ngrams": self.use_ngrams,
            "classes": self.classes,
            "temperature": self.temperature,
            "neighbour_weight": self.neighbour_weight,
            "neighbours": self.neighbours,
        }
        arrays = {"coef": self.coef, "intercept": self.intercept}
        if self.memory is not None:
            arrays.update(memory=self.memory, memory_class=self.memory_class)
        if self.ngrams is not None:
            vocab, idf = self.ngrams.to_state()
            meta["vocabulary"] = vocab
            arrays.update(idf)
        (directory / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        np.savez(directory / f"{name}.npz", **arrays)

    @classmethod
    def load(cls, directory: Path, name: str = "text_classifier") -> TextClassifier:
        meta = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        with np.load(directory / f"{name}.npz") as data:
            arrays = {key: data[key] for key in data.files}
        model = cls(
            meta["encoder_weight"],
            meta["C"],
            meta["use_ngrams"],
            neighbour_weight=meta.get("neighbour_weight", 0.0),
            neighbours=meta.get("neighbours", 5),
        )
        model.memory, model.memory_class = arrays.get("memory"), arrays.get("memory_class")
        model.classes = list(meta["classes"])
        model.temperature = float(meta["temperature"])
        model.coef, model.intercept = arrays["coef"], arrays["intercept"]
        if model.use_ngrams:
            model.ngrams = NgramFeatures.from_state(meta["vocabulary"], arrays)
        return model


def prioritise(ranking: List[Dict[str, Any]], priority: Dict[str, float]) -> List[Dict[str, Any]]:
    """Move a priority intent first when it has at least its share of the probability.

    Its confidence becomes the sum of its own and the former first intent's:
    the probability that the visitor wants a person, or a person about that topic.
    """
    if not ranking or ranking[0]["name"] in priority:
        return ranking
    for position, entry in enumerate(ranking[1:], start=1):
        share = priority.get(entry["name"])
        if share is not None and entry["confidence"] >= share:
            promoted = {"name": entry["name"], "confidence": entry["confidence"] + ranking[0]["confidence"]}
            return [promoted, *ranking[:position], *ranking[position + 1 :]]
    return ranking
