"""bench/nlu_calibrate.py: the choices made from the out-of-fold curves."""

import pytest

from bench.nlu_calibrate import choose_per_block, language_id_label


def row(threshold, margin=0.0, **blocks):
    return {
        "threshold": threshold,
        "ambiguity": margin,
        "per_language": {b: {"wrong_acted": w, "fallback": f} for b, (w, f) in blocks.items()},
    }


def test_per_block_choice_takes_the_fewest_fallbacks_within_the_target():
    rows = [
        row(0.5, en=(0.02, 0.00), bn=(0.04, 0.01), ml=(0.05, 0.00)),
        row(0.6, en=(0.02, 0.00), bn=(0.03, 0.03), ml=(0.04, 0.02)),
        row(0.7, en=(0.01, 0.02), bn=(0.02, 0.05), ml=(0.035, 0.04)),
        row(0.5, margin=0.1, en=(0.0, 0.0), bn=(0.0, 0.0), ml=(0.0, 0.0)),  # another margin: not considered
    ]
    # en: fallbacks equal at 0.5 and 0.6, the higher threshold; bn: 0.6 is the lowest within 3%;
    # ml: no threshold keeps it within 3%, so it is left to the default.
    assert choose_per_block(rows, 0.0, 0.03) == {"en": 0.6, "bn": 0.6}


@pytest.mark.parametrize(
    "text, block, label",
    [
        ("amar order kothay", "bn-Latn", "bn"),
        ("where is my order", "en", "en"),
        ("ok", "bn", "bn"),  # a Latin-letter example of a native block teaches its language too
        ("আমার অর্ডার কোথায়", "bn", None),  # native script: not the romanized classifier's
        ("dónde está mi pedido", "es", None),  # not a candidate
    ],
)
def test_language_id_label_is_what_the_romanized_classifier_learns(text, block, label):
    assert language_id_label(text, block, ["en", "bn", "ml"]) == label
