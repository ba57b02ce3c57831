"""Party names: the normal form, invisible characters refused, look-alikes found (issue 12)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.party_names import InvalidPartyName, key, look_alike, normalise, skeletons

EXISTING = ["BSI", "NISC", "CERT-EU", "Maritime ISAC", "JPCERT/CC", "RIA"]


@pytest.mark.parametrize(
    ("given_name", "stored"),
    [
        ("  BSI  ", "BSI"),
        ("Maritime\u00a0 ISAC", "Maritime ISAC"),  # no-break space, two spaces: one space
        ("ＢＳＩ", "BSI"),  # fullwidth letters: NFKC
        ("ﬁrst CSIRT", "first CSIRT"),  # a ligature: NFKC
        ("内閣サイバーセキュリティセンター", "内閣サイバーセキュリティセンター"),
    ],
    ids=["trimmed", "spaces", "fullwidth", "ligature", "japanese"],
)
def test_names_take_one_normal_form(given_name: str, stored: str) -> None:
    assert normalise(given_name) == stored


@pytest.mark.parametrize(
    "name",
    [
        "BSI\u200b",  # zero-width space (the invented party)
        "B\u200dSI",  # zero-width joiner
        "\ufeffBSI",  # byte order mark
        "BSI\u2060",  # word joiner
        "BS\u00adI",  # soft hyphen
        "BSI\u034f",  # combining grapheme joiner (default-ignorable, not Cf)
        "BSI\u3164",  # Hangul filler (a blank letter)
        "BSI\u202e",  # right-to-left override
        "BSI\x00",  # control character
        "BSI\ufe0f",  # variation selector
    ],
    ids=["zwsp", "zwj", "bom", "word-joiner", "soft-hyphen", "cgj", "filler", "rlo", "nul", "vs"],
)
def test_invisible_characters_are_refused_not_removed(name: str) -> None:
    with pytest.raises(InvalidPartyName, match=r"invisible characters.*U\+"):
        normalise(name)


@pytest.mark.parametrize("name", ["", "   ", "\u00a0"], ids=["empty", "spaces", "nbsp"])
def test_a_name_is_not_empty(name: str) -> None:
    with pytest.raises(InvalidPartyName, match="needs a name"):
        normalise(name)


@pytest.mark.parametrize(
    ("name", "looks_like"),
    [
        ("bsi", "BSI"),  # case
        ("ВЅІ", "BSI"),  # Cyrillic capitals
        ("вѕі", "BSI"),  # Cyrillic small letters
        ("ΒSΙ", "BSI"),  # Greek capitals
        ("BSl", "BSI"),  # small L for capital i
        ("B S I", "BSI"),  # spaces
        ("ＢＳＩ", "BSI"),  # fullwidth
        ("N1SC", "NISC"),  # digit one
        ("NlSC", "NISC"),
        ("CERT-ΕU", "CERT-EU"),  # Greek Epsilon
        ("Maritime lSAC", "Maritime ISAC"),
        ("Mаritime ISAC", "Maritime ISAC"),  # Cyrillic a
        ("RÍA", "RIA"),  # a mark on a letter
        ("JPCERT/CC", "JPCERT/CC"),
    ],
)
def test_look_alikes_of_existing_names_are_found(name: str, looks_like: str) -> None:
    assert look_alike(name, [(n, n) for n in EXISTING]) == looks_like


@pytest.mark.parametrize("name", ["ACSC", "BSI-KRITIS", "NISC Japan", "CERT-DE", "Hanse Maritime"])
def test_distinct_names_are_not_look_alikes(name: str) -> None:
    assert look_alike(name, [(n, n) for n in EXISTING]) is None


def test_lookup_keys_fold_case_and_width() -> None:
    assert key("ＢＳＩ") == key("bsi") == key(" BSI ")


letters = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Nd", "Zs", "Pd")), min_size=1, max_size=20
)


@given(letters)
def test_case_and_compatibility_forms_never_escape_the_skeleton(name: str) -> None:
    for variant in (name.upper(), name.lower(), unicodedata.normalize("NFKD", name)):
        assert skeletons(variant) == skeletons(name)


@given(letters, st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]))
def test_an_invisible_character_anywhere_is_refused(name: str, invisible: str) -> None:
    for at in (0, len(name) // 2, len(name)):
        with pytest.raises(InvalidPartyName):
            normalise(name[:at] + invisible + name[at:])
