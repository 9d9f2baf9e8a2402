"""bot/canonical.py: one Unicode form for the spellings keyboards produce."""

import numpy as np

from bot.canonical import canonical
from bot.encoder import get_encoder
from bot.text_model import NgramFeatures

OLD = "എന്‍റെ ഓര്‍ഡര്‍ എവിടെ"  # consonant + virama + zero-width joiner: pre-2008 keyboards
ATOMIC = "എന്റെ ഓർഡർ എവിടെ"


def test_old_malayalam_chillus_become_atomic_letters():
    assert canonical(OLD) == ATOMIC
    assert canonical("അവള്‍ ക്‍ ണ്‍ ല്‍") == "അവൾ ൿ ൺ ൽ"


def test_bengali_khanda_ta_and_decomposed_letters():
    assert canonical("হঠাত্\u200d") == "হঠাৎ"
    assert canonical("\u09af\u09bc") == canonical("\u09df")  # য় typed as য + nukta or as one letter


def test_zero_width_characters_are_dropped_and_other_text_is_unchanged():
    assert canonical("প্র\u200cতি") == "প্রতি"
    assert canonical("where's my order #123?") == "where's my order #123?"


def test_the_encoder_and_the_ngrams_see_one_form():
    old, atomic = get_encoder().encode([OLD, ATOMIC])
    assert np.allclose(old, atomic)
    ngrams = NgramFeatures().fit([ATOMIC, "where is my order"])
    assert (ngrams.transform([OLD]) != ngrams.transform([ATOMIC])).nnz == 0
