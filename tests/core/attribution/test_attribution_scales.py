"""Admiralty grades, ICD 203 and PHIA terms, confidence and their STIX numbers."""

from __future__ import annotations

import math

import pytest

from kizuna.core.attribution.joint import Assessment
from kizuna.core.attribution.scales import (
    ICD_203,
    PHIA,
    WEIGHT_LEVELS,
    Grade,
    counterparts,
    kind,
    stix_opinion,
    term,
)
from kizuna.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "level", "stix"),
    [("A1", "high", 90), ("b2", "high", 70), ("C3", "medium", 50), ("F6", "medium", None),
     ("B4", "low", 30), ("E1", "low", 90), ("A3", "medium", 50)],
)  # fmt: skip
def test_admiralty_grades_map_to_ach_credibility_and_stix(
    text: str, level: str, stix: int | None
) -> None:
    g = Grade.parse(text)
    assert g.ach_credibility == level
    assert g.stix_confidence == stix  # STIX 2.1 Appendix A: 1-5 -> 90/70/50/30/10, 6 omitted


@pytest.mark.parametrize("bad", ["G1", "A7", "A0", "AA", "B22", ""])
def test_a_bad_grade_is_named(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Grade.parse(bad)
    assert err.value.code == "invalid-grade" and "Admiralty" in err.value.message


def test_open_source_ach_weights() -> None:
    assert {"low": 1 / math.sqrt(2), "medium": 1.0, "high": math.sqrt(2)} == WEIGHT_LEVELS


def test_a_human_source_is_only_ever_that_it_exists() -> None:
    assert kind("human-source") == "human-source-exists"
    assert kind("HUMINT") == "human-source-exists"
    with pytest.raises(InvalidInput, match="evidence kind 'gossip'"):
        kind("gossip")


def test_the_scales_carry_their_ranges() -> None:
    assert [(t.words, t.low, t.high) for t in ICD_203][4] == ("likely", 55, 80)
    assert term("icd-203", "Roughly even").range == "45-55 %"
    assert term("phia", "realistic possibility").range == "40-50 %"
    assert {(t.low, t.high) for t in PHIA} >= {(0, 5), (95, 100)}
    with pytest.raises(InvalidInput, match="expected one of: remote chance"):
        term("phia", "very likely")  # an ICD 203 word, not a PHIA one
    with pytest.raises(InvalidInput, match="icd-203 or phia"):
        term("wep", "likely")


def test_counterparts_are_the_overlapping_terms_of_the_other_scale() -> None:
    # ICD likely 55-80 overlaps PHIA likely 55-75; PHIA highly likely 80-90 only touches at 80.
    assert [t.words for t in counterparts(term("icd-203", "likely"))] == ["likely"]
    # ICD unlikely 20-45: PHIA unlikely 25-35 and realistic possibility 40-50 overlap it.
    assert [t.words for t in counterparts(term("icd-203", "unlikely"))] == [
        "unlikely",
        "realistic possibility",
    ]
    # PHIA realistic possibility 40-50: ICD unlikely 20-45 and roughly even chance 45-55.
    assert [t.words for t in counterparts(term("phia", "realistic possibility"))] == [
        "unlikely",
        "roughly even chance",
    ]


@pytest.mark.parametrize(
    ("scale", "words", "opinion"),
    [("icd-203", "almost certain", "strongly-agree"), ("icd-203", "very likely", "strongly-agree"),
     ("phia", "likely", "agree"), ("icd-203", "roughly even chance", "neutral"),
     ("phia", "realistic possibility", "neutral"), ("icd-203", "unlikely", "disagree"),
     ("phia", "highly unlikely", "strongly-disagree")],
)  # fmt: skip
def test_likelihood_to_stix_opinion(scale: str, words: str, opinion: str) -> None:
    # by the middle of the range: 97, 87.5, 65, 50, 45, 32.5, 15
    assert stix_opinion(term(scale, words)) == opinion


def test_an_assessment_shows_both_scales_and_its_confidence() -> None:
    a = Assessment("identity--bsi", "H1", term("icd-203", "likely"), "Moderate", "infra overlap")
    assert a.describe() == "likely (ICD-203 55-80 %; PHIA: likely 55-75 %), moderate confidence"
    assert a.stix_confidence == 50
    with pytest.raises(InvalidInput, match="confidence 'sure'"):
        Assessment("identity--bsi", "H1", term("phia", "likely"), "sure", "x")
    with pytest.raises(InvalidInput, match="needs a rationale"):
        Assessment("identity--bsi", "H1", term("phia", "likely"), "high", " ")
