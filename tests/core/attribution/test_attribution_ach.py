"""ACH numbers against worked examples computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.attribution.ach import Evidence, Hypothesis, Matrix, analyse, rating, scores
from kizuna.core.attribution.scales import Grade
from kizuna.errors import InvalidInput

R2 = math.sqrt(2)
APT = "intrusion-set--11111111-1111-4111-8111-111111111111"


def item(eid: str, grade: str, kind: str = "technical") -> Evidence:
    return Evidence(eid, Grade.parse(grade), kind, contributor="identity--p")


# Worked example 1. Hypotheses: H1 = APT-X, H2 = an unknown actor, H3 = a false flag posing as
# APT-X. Credibility from the Admiralty grade (B2 and A1 high, C3 medium, D2 low); relevance as
# the partner rated it. Weights: HIGH sqrt(2), MEDIUM 1, LOW 1/sqrt(2).
#
#        grade rel   weight (cred x rel)        H1  H2  H3
#   E1   B2    high  sqrt2 * sqrt2 = 2          C   I   C
#   E2   C3    med   1 * 1 = 1                  II  N   I
#   E3   D2    med   (1/sqrt2) * 1 = 0.7071     C   C   C     (rated alike: not diagnostic)
#   E4   A1    low   sqrt2 * (1/sqrt2) = 1      I   II  NA
EX1_EVIDENCE = {
    e.id: e for e in (item("E1", "B2"), item("E2", "C3"), item("E3", "D2"), item("E4", "A1"))
}
EX1_HYPS = ["H1", "H2", "H3"]
EX1 = Matrix(
    "identity--bsi",
    {
        ("E1", "H1"): "C", ("E1", "H2"): "I", ("E1", "H3"): "C",
        ("E2", "H1"): "II", ("E2", "H2"): "N", ("E2", "H3"): "I",
        ("E3", "H1"): "C", ("E3", "H2"): "C", ("E3", "H3"): "C",
        ("E4", "H1"): "I", ("E4", "H2"): "II", ("E4", "H3"): "NA",
    },
    {"E1": "high", "E4": "low"},
)  # fmt: skip


def test_hypotheses_name_the_actor_an_unknown_one_or_a_false_flag() -> None:
    assert Hypothesis("H1", APT, name="APT-X").label == "APT-X"
    assert Hypothesis("H2").label == "unknown actor"
    assert Hypothesis("H3", APT, True, "APT-X").label == "false flag posing as APT-X"
    with pytest.raises(InvalidInput, match="intrusion-set or threat-actor"):
        Hypothesis("H4", "malware--11111111-1111-4111-8111-111111111111")


def test_plain_and_weighted_inconsistency_of_worked_example_1() -> None:
    s = scores(EX1, EX1_EVIDENCE, EX1_HYPS)
    # plain: H1 = E2 (-2) + E4 (-1) = -3;  H2 = E1 (-1) + E4 (-2) = -3;  H3 = E2 (-1) = -1
    assert [s[h].plain for h in EX1_HYPS] == [-3, -3, -1]
    # weighted: H1 = -2*1 + -1*1 = -3;  H2 = -1*2 + -2*1 = -4;  H3 = -1*1 = -1
    assert [s[h].weighted for h in EX1_HYPS] == pytest.approx([-3.0, -4.0, -1.0])


def test_ranking_uses_the_weighted_score_and_keeps_ties() -> None:
    a = analyse(EX1, EX1_EVIDENCE, EX1_HYPS)
    # -1 > -3 > -4: H3 fits best, then H1, then H2 (plain alone would tie H1 and H2 at -3)
    assert a.ranking == (frozenset({"H3"}), frozenset({"H1"}), frozenset({"H2"}))
    assert (a.rank_of("H3"), a.rank_of("H1"), a.rank_of("H2")) == (1, 2, 3)


def test_diagnosticity_of_worked_example_1() -> None:
    d = {x.evidence: x for x in analyse(EX1, EX1_EVIDENCE, EX1_HYPS).diagnosticity}
    # E1: plain (0, -1, 0) spread 1; weighted (0, -2, 0) spread 2
    assert (d["E1"].plain, d["E1"].diagnostic) == (1, True)
    assert d["E1"].weighted == pytest.approx(2.0)
    # E2: plain (-2, 0, -1) spread 2; weight 1 so weighted spread 2
    assert (d["E2"].plain, d["E2"].diagnostic) == (2, True)
    assert d["E2"].weighted == pytest.approx(2.0)
    # E3: C, C, C: rated alike, says nothing
    assert (d["E3"].plain, d["E3"].weighted, d["E3"].diagnostic) == (0, 0.0, False)
    # E4: NA for H3 left out; (-1, -2) spread 1; weight 1
    assert (d["E4"].plain, d["E4"].diagnostic) == (1, True)
    assert d["E4"].weighted == pytest.approx(1.0)


def test_sensitivity_of_worked_example_1() -> None:
    s = {x.evidence: x for x in analyse(EX1, EX1_EVIDENCE, EX1_HYPS).sensitivity}
    # without E1: H1 -3, H2 -4+2 = -2, H3 -1 -> H3, H2, H1: ranking changes, leader stays
    assert (s["E1"].changes_leader, s["E1"].changes_ranking) == (False, True)
    # without E2: H1 -3+2 = -1, H2 -4, H3 0 -> H3, H1, H2: unchanged
    assert (s["E2"].changes_leader, s["E2"].changes_ranking) == (False, False)
    # without E3 (no inconsistency in it): unchanged
    assert (s["E3"].changes_leader, s["E3"].changes_ranking) == (False, False)
    # without E4: H1 -3+1 = -2, H2 -4+2 = -2, H3 -1 -> H3, {H1, H2}: ranking changes
    assert (s["E4"].changes_leader, s["E4"].changes_ranking) == (False, True)


def test_sensitivity_finds_the_item_that_decides_the_leader() -> None:
    # Worked example 2. X and Y medium/medium (weight 1); Z graded A1 with high relevance
    # (weight sqrt2 * sqrt2 = 2).  X: A=I B=C;  Y: A=C B=I;  Z: A=C B=I.
    # A = -1 (X);  B = -1 (Y) - 2 (Z) = -3: A leads.
    ev = {e.id: e for e in (item("X", "C3"), item("Y", "C3"), item("Z", "A1"))}
    m = Matrix(
        "identity--nisc",
        {("X", "A"): "I", ("X", "B"): "C", ("Y", "A"): "C", ("Y", "B"): "I",
         ("Z", "A"): "C", ("Z", "B"): "I"},
        {"Z": "high"},
    )  # fmt: skip
    a = analyse(m, ev, ["A", "B"])
    assert a.scores["B"].weighted == pytest.approx(-3.0)
    assert a.leader == {"A"}
    s = {x.evidence: x for x in a.sensitivity}
    # without Z: A -1, B -1: a tie, so A no longer leads alone
    assert s["Z"].changes_leader and s["Z"].leader_without == {"A", "B"}
    # without X: A 0, B -3; without Y: A -1, B -2: A still leads, order unchanged
    assert not s["X"].changes_ranking and not s["Y"].changes_ranking


def test_evidence_outside_the_analysis_does_not_count() -> None:
    # Only E2 visible: H1 = -2, H2 = 0, H3 = -1 (what a viewer who may not see E1, E3, E4 gets)
    s = scores(EX1, {"E2": EX1_EVIDENCE["E2"]}, EX1_HYPS)
    assert [s[h].plain for h in EX1_HYPS] == [-2, 0, -1]


@pytest.mark.parametrize("bad", ["X", "CI", "", "inconsistent"])
def test_a_bad_rating_is_named(bad: str) -> None:
    with pytest.raises(InvalidInput, match="expected one of CC, C, N, I, II, NA"):
        rating(bad)
    with pytest.raises(InvalidInput):
        Matrix("identity--p", {("E1", "H1"): bad})


def test_a_bad_relevance_is_named() -> None:
    with pytest.raises(InvalidInput, match="relevance 'huge'"):
        Matrix("identity--p", {}, {"E1": "huge"})


_RATING = st.sampled_from(["CC", "C", "N", "I", "II", "NA"])
_GRADE = st.builds(Grade, st.sampled_from("ABCDEF"), st.integers(1, 6))
_LEVEL = st.sampled_from(["low", "medium", "high"])


@st.composite
def matrices(draw: st.DrawFn) -> tuple[Matrix, dict[str, Evidence], list[str]]:
    hyps = [f"H{i}" for i in range(draw(st.integers(1, 5)))]
    n = draw(st.integers(0, 8))
    ev = {f"E{i}": Evidence(f"E{i}", draw(_GRADE), "technical", "identity--p") for i in range(n)}
    cells = {(e, h): draw(_RATING) for e in ev for h in hyps if draw(st.booleans())}
    rel = {e: draw(_LEVEL) for e in ev if draw(st.booleans())}
    return Matrix("identity--p", cells, rel), ev, hyps


@settings(max_examples=300)
@given(matrices())
def test_scores_never_rise_above_zero_and_weights_keep_sign(
    m: tuple[Matrix, dict[str, Evidence], list[str]],
) -> None:
    matrix, ev, hyps = m
    for s in scores(matrix, ev, hyps).values():
        assert s.plain <= 0 and s.weighted <= 0
        assert (s.plain == 0) == (s.weighted == 0)


@settings(max_examples=300)
@given(matrices(), st.sampled_from(["CC", "C", "N", "I", "II"]), _GRADE, _LEVEL)
def test_an_item_rated_alike_everywhere_never_changes_the_ranking(
    m: tuple[Matrix, dict[str, Evidence], list[str]], r: str, grade: Grade, rel: str
) -> None:
    # Heuer: evidence rated alike for every hypothesis is not diagnostic.
    matrix, ev, hyps = m
    before = analyse(matrix, ev, hyps)
    ev2 = {**ev, "Eq": Evidence("Eq", grade, "technical", "identity--p")}
    cells = {**matrix.ratings, **{("Eq", h): r for h in hyps}}
    after = analyse(Matrix(matrix.partner, cells, {**matrix.relevance, "Eq": rel}), ev2, hyps)
    assert after.ranking == before.ranking
    assert not next(d for d in after.diagnosticity if d.evidence == "Eq").diagnostic
    assert not next(s for s in after.sensitivity if s.evidence == "Eq").changes_ranking


@settings(max_examples=300)
@given(matrices())
def test_sensitivity_agrees_with_recomputing_without_the_item(
    m: tuple[Matrix, dict[str, Evidence], list[str]],
) -> None:
    matrix, ev, hyps = m
    a = analyse(matrix, ev, hyps)
    for s in a.sensitivity:
        again = analyse(matrix, {k: v for k, v in ev.items() if k != s.evidence}, hyps)
        assert s.changes_ranking == (again.ranking != a.ranking)
        assert s.leader_without == again.leader
        assert not s.changes_leader or s.changes_ranking
