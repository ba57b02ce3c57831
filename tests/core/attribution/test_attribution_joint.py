"""The joint picture: partners side by side, divergence named, nothing averaged or shown that
the viewer may not see."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.attribution.ach import Evidence, Hypothesis, Matrix
from kizuna.core.attribution.joint import Assessment, picture
from kizuna.core.attribution.scales import ICD_203, PHIA, Grade, term

BSI, NISC, CERT = "identity--bsi", "identity--nisc", "identity--cert-eu"
APT = "intrusion-set--11111111-1111-4111-8111-111111111111"
HYPS = (Hypothesis("H1", APT, name="APT-X"), Hypothesis("H2"), Hypothesis("H3", APT, True, "APT-X"))
EV = {
    "E1": Evidence("E1", Grade.parse("B2"), "infrastructure", BSI),
    "E2": Evidence("E2", Grade.parse("C3"), "linguistic", NISC),
}
MATRICES = (
    # E1 weight 1.414 * 1 (high cred, medium relevance); E2 weight 1
    Matrix(BSI, {("E1", "H1"): "C", ("E1", "H2"): "I", ("E2", "H1"): "C", ("E2", "H2"): "C"}),
    Matrix(NISC, {("E1", "H1"): "C", ("E1", "H2"): "I", ("E2", "H1"): "C", ("E2", "H2"): "N"}),
    Matrix(CERT, {("E1", "H1"): "I", ("E1", "H2"): "C", ("E2", "H1"): "II", ("E2", "H2"): "C"}),
)
ASSESSMENTS = (
    Assessment(BSI, "H1", term("icd-203", "likely"), "moderate", "infrastructure reuse"),
    Assessment(NISC, "H1", term("phia", "highly likely"), "high", "language artefacts"),
    Assessment(CERT, "H1", term("icd-203", "unlikely"), "low", "the infrastructure is rented"),
    Assessment(BSI, "H2", term("phia", "unlikely"), "moderate", "few candidates fit"),
    Assessment(NISC, "H2", term("icd-203", "very unlikely"), "moderate", "see H1"),
)


def test_each_partner_side_by_side_and_the_dissent_kept() -> None:
    p = picture(HYPS, EV, MATRICES, ASSESSMENTS)
    h1 = p.hypotheses[0]
    assert h1.agreement == "diverge"
    assert h1.sides == {"against": (CERT,), "for": (BSI, NISC)}
    by = {v.partner: v for v in h1.partners}
    # every partner's own words, unchanged: no mean, no merged number
    nisc, cert = by[NISC].assessment, by[CERT].assessment
    assert nisc is not None and nisc.term.words == "highly likely"
    assert cert is not None and cert.term.words == "unlikely"
    # CERT-EU's ACH: H1 = E1 (-1 * 1.414) + E2 (-2 * 1) = -3.414; H2 = 0 -> H1 ranks 2nd
    assert by[CERT].score == pytest.approx(-2 - 2**0.5) and by[CERT].plain == -3
    assert by[CERT].rank == 2
    # BSI and NISC: H1 = 0, H2 = -1.414: H1 first
    assert by[BSI].rank == 1 and by[NISC].rank == 1
    # where they differ: E1 (C, C, I) and E2 (C, C, II) for H1
    assert [(d.evidence, d.ratings) for d in h1.divergences] == [
        ("E1", ((BSI, "C"), (CERT, "I"), (NISC, "C"))),
        ("E2", ((BSI, "C"), (CERT, "II"), (NISC, "C"))),
    ]


def test_agreement_one_view_and_no_view() -> None:
    p = picture(HYPS, EV, MATRICES, ASSESSMENTS)
    h2, h3 = p.hypotheses[1], p.hypotheses[2]
    assert h2.agreement == "agree" and h2.sides == {"against": (BSI, NISC)}
    # H2: E1 rated I, I by BSI, NISC and C by CERT-EU; E2 C, C by BSI, CERT-EU and N by NISC
    assert [d.evidence for d in h2.divergences] == ["E1", "E2"]
    assert h3.agreement == "no view" and h3.divergences == ()
    one = picture(HYPS, EV, MATRICES, ASSESSMENTS[:1])
    assert one.hypotheses[0].agreement == "one view"


def test_evidence_the_viewer_may_not_see_is_counted_never_shown() -> None:
    # The viewer may not see E2: it is not passed in; two partners hold it.
    p = picture(HYPS, {"E1": EV["E1"]}, MATRICES, ASSESSMENTS, frozenset({NISC, CERT}))
    assert p.withheld_held_by == 2
    assert all(d.evidence != "E2" for h in p.hypotheses for d in h.divergences)
    # CERT-EU's score over what this viewer sees: only E1 (-1.414)
    cert = next(v for v in p.hypotheses[0].partners if v.partner == CERT)
    assert cert.score == pytest.approx(-(2**0.5))
    assert "E2" not in repr(p)


_TERMS = st.sampled_from(ICD_203 + PHIA)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from([BSI, NISC, CERT]), _TERMS), unique_by=lambda x: x[0]))
def test_no_partners_judgement_is_averaged_away(views: list[tuple[str, object]]) -> None:
    assessments = [Assessment(p, "H1", t, "moderate", "r") for p, t in views]  # type: ignore[arg-type]
    h1 = picture(HYPS, EV, (), assessments).hypotheses[0]
    shown = {v.partner: v.assessment for v in h1.partners if v.assessment is not None}
    assert shown == {a.partner: a for a in assessments}
    sides = {a.side for a in assessments}
    if len(assessments) >= 2:
        assert (h1.agreement == "agree") == (len(sides) == 1)
