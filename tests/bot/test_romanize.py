"""bot/romanize.py: Bengali and Malayalam script to chat-style Latin letters."""

import pytest

from bot.content import load_content, romanized_copies
from bot.romanize import romanize


@pytest.mark.parametrize(
    "native, latin",
    [
        ("আমার অর্ডার কোথায়", "amar ordar kothay"),
        ("ধন্যবাদ দাদা", "dhonyobad dada"),
        ("শাড়ি", "shari"),
        ("എന്റെ ഓർഡർ എവിടെ", "ente ordar evide"),
        ("നന്ദി", "nandi"),
        ("ശരി എന്നാൽ പിന്നെ കാണാം", "shari ennaal pinne kaanaam"),
    ],
)
def test_romanizes_as_people_type(native, latin):
    assert romanize(native) == latin


def test_latin_digits_and_punctuation_pass_through():
    assert romanize("আমার order NS1234567 কোথায়?") == "amar order NS1234567 kothay?"
    assert romanize("where is my order") == "where is my order"


def test_copies_never_repeat_an_authored_or_held_out_example():
    content = load_content()
    taken = {
        " ".join(t.casefold().split())
        for i in content.intents.values()
        for b in i.languages.values()
        for t in b.examples + b.heldout
    }
    copies = [
        c
        for langs in romanized_copies(content, content.settings.romanized).values()
        for pairs in langs.values()
        for c, _ in pairs
    ]
    assert copies
    assert not {" ".join(c.casefold().split()) for c in copies} & taken
