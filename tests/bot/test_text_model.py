"""bot/text_model.py: the classifier over encoder and n-gram features, saved without pickle."""

import numpy as np
import pytest

from bot.encoder import get_encoder
from bot.text_model import TextClassifier, fit_temperature, prioritise

EXAMPLES = {
    "order_status": [
        "where is my order",
        "track my parcel",
        "আমার অর্ডার কোথায়",
        "എന്റെ ഓർഡർ എവിടെ",
        "order status pls",
    ],
    "password_reset": [
        "i forgot my password",
        "reset password",
        "পাসওয়ার্ড ভুলে গেছি",
        "പാസ്‌വേഡ് മറന്നു",
        "cant log in",
    ],
    "greet": ["hello", "hi there", "নমস্কার", "നമസ്കാരം", "good morning"],
}


@pytest.fixture(scope="module")
def data():
    texts = [t for ts in EXAMPLES.values() for t in ts]
    labels = [label for label, ts in EXAMPLES.items() for _ in ts]
    return texts, get_encoder().encode(texts), labels


@pytest.fixture(scope="module")
def model(data):
    texts, embeddings, labels = data
    return TextClassifier(encoder_weight=3.0, calibration_folds=3).fit(texts, embeddings, labels)


def test_classifies_unseen_phrasings_in_three_languages(model):
    texts = ["where is my package", "অর্ডার কোথায় আছে", "പാസ്‌വേഡ് റീസെറ്റ് ചെയ്യണം"]
    probabilities = model.predict_proba(texts, get_encoder().encode(texts))
    assert [model.classes[i] for i in probabilities.argmax(axis=1)] == [
        "order_status",
        "order_status",
        "password_reset",
    ]
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_fitting_in_threads_gives_the_same_model(data, model):
    texts, embeddings, labels = data
    threaded = TextClassifier(encoder_weight=3.0, calibration_folds=3, jobs=3).fit(texts, embeddings, labels)
    assert threaded.classes == model.classes and model.temperature != 1.0  # the folds were used
    # Equal within the solver's tolerance, not bit for bit: liblinear draws its coordinate
    # order from one process-wide generator, which threads fitting at once share.
    assert threaded.temperature == pytest.approx(model.temperature, rel=1e-3)
    assert np.allclose(threaded.coef, model.coef, atol=1e-4)
    assert np.allclose(threaded.intercept, model.intercept, atol=1e-4)


def test_save_and_load_give_the_same_probabilities(model, tmp_path):
    model.save(tmp_path)
    assert not list(tmp_path.glob("*.pkl"))
    loaded = TextClassifier.load(tmp_path)
    texts = ["hello there", "reset my password please"]
    embeddings = get_encoder().encode(texts)
    assert loaded.classes == model.classes and loaded.temperature == model.temperature
    assert np.allclose(
        loaded.predict_proba(texts, embeddings), model.predict_proba(texts, embeddings), atol=1e-5
    )


def test_neighbour_similarity_is_the_mean_of_the_nearest_examples_per_intent():
    embeddings = np.array([[1, 0], [0.6, 0.8], [0, 1], [0.8, 0.6]], dtype=np.float32)
    model = TextClassifier(
        encoder_weight=1.0, use_ngrams=False, calibration_folds=0, neighbour_weight=2.0, neighbours=2
    )
    model.fit(["a", "b", "c", "d"], embeddings, ["x", "x", "y", "y"])
    message = np.array([[1.0, 0.0]], dtype=np.float32)
    # x: cosines 1.0 and 0.6 -> 0.8; y: 0.0 and 0.8 -> 0.4
    assert np.allclose(model.neighbour_similarity(message), [[0.8, 0.4]])
    linear = np.asarray(model.features(["a"], message) @ model.coef.T + model.intercept)
    assert np.allclose(model.decision(["a"], message), linear + 2.0 * np.array([[0.8, 0.4]]))


def test_a_model_with_neighbours_saves_and_loads_them(data, tmp_path):
    texts, embeddings, labels = data
    model = TextClassifier(neighbour_weight=10.0, neighbours=3).fit(texts, embeddings, labels)
    model.save(tmp_path)
    loaded = TextClassifier.load(tmp_path)
    assert loaded.neighbour_weight == 10.0 and loaded.neighbours == 3
    query = get_encoder().encode(["where is my parcel", "নমস্কার দাদা"])
    assert np.allclose(
        loaded.predict_proba(["where is my parcel", "নমস্কার দাদা"], query),
        model.predict_proba(["where is my parcel", "নমস্কার দাদা"], query),
        atol=1e-5,
    )
    assert [loaded.classes[i] for i in loaded.predict_proba(["x", "y"], query).argmax(axis=1)] == [
        "order_status",
        "greet",
    ]


def test_ngrams_only_model_needs_no_embeddings():
    model = TextClassifier(encoder_weight=0.0).fit(
        ["amar order kothay", "refund kobe pabo", "where is my order", "when do i get my refund"] * 3,
        None,
        ["bn", "bn", "en", "en"] * 3,
    )
    probabilities = model.predict_proba(["amar refund kobe"], None)[0]
    assert model.classes[int(probabilities.argmax())] == "bn"


def test_temperature_sharpens_scores_that_are_usually_right():
    scores = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    assert fit_temperature(scores, np.array([0, 1, 0])) > 1.0
    assert fit_temperature(scores, np.array([1, 0, 1])) < 1.0


def test_prioritise_moves_a_request_for_a_person_first_above_its_share():
    ranking = [{"name": "invoice", "confidence": 0.6}, {"name": "request_human", "confidence": 0.35}]
    promoted = prioritise(ranking, {"request_human": 0.3})
    assert [r["name"] for r in promoted] == ["request_human", "invoice"]
    assert promoted[0]["confidence"] == pytest.approx(0.95)
    assert prioritise(ranking, {"request_human": 0.4}) == ranking
    assert prioritise(ranking, {}) == ranking
