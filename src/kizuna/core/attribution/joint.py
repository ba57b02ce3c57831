"""The joint picture: every partner's judgement per hypothesis side by side, never averaged.

Agreement is read from the words each partner chose (the side of even chance their term falls
on), not from a mean; divergence names the evidence on which their ACH ratings differ. Evidence
the viewer may not see is never shown: only how many partners hold some.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kizuna.core.attribution.ach import Analysis, Evidence, Hypothesis, Matrix, analyse
from kizuna.core.attribution.scales import (
    STIX_CONFIDENCE,
    Term,
    confidence,
    counterparts,
    stix_opinion,
)
from kizuna.errors import InvalidInput


@dataclass(frozen=True)
class Assessment:
    """A partner's graded judgement on one hypothesis: a likelihood term (ICD 203 or PHIA),
    a confidence (low, moderate, high) stated apart, and the rationale."""

    partner: str
    hypothesis: str
    term: Term
    confidence: str
    rationale: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "confidence", confidence(self.confidence))
        if not self.rationale.strip():
            raise InvalidInput("an assessment needs a rationale", code="invalid-assessment")

    @property
    def side(self) -> str:
        """for, even or against: the side of even chance the term lies on."""
        opinion = stix_opinion(self.term)
        return {"strongly-agree": "for", "agree": "for", "neutral": "even"}.get(opinion, "against")

    @property
    def stix_confidence(self) -> int:
        return STIX_CONFIDENCE[self.confidence]

    def describe(self) -> str:
        """e.g. "likely (ICD 203 55-80 %; PHIA: likely 55-75 %), moderate confidence"."""
        other = "; ".join(
            f"{o.scale.upper()}: {o.words} {o.range}" for o in counterparts(self.term)
        )
        return f"{self.term.words} ({self.term.scale.upper()} {self.term.range}; {other}), " + (
            f"{self.confidence} confidence"
        )


@dataclass(frozen=True)
class PartnerView:
    partner: str
    assessment: Assessment | None
    score: float | None  # this partner's weighted inconsistency over what the viewer sees
    plain: int | None
    rank: int | None


@dataclass(frozen=True)
class Divergence:
    """An evidence item that partners rated differently for this hypothesis."""

    evidence: str
    ratings: tuple[tuple[str, str], ...]  # (partner, rating), by partner


@dataclass(frozen=True)
class HypothesisPicture:
    hypothesis: Hypothesis
    partners: tuple[PartnerView, ...]
    agreement: str  # "agree", "diverge", "one view" or "no view"
    sides: Mapping[str, tuple[str, ...]]  # side -> partners on it
    divergences: tuple[Divergence, ...]


@dataclass(frozen=True)
class JointPicture:
    hypotheses: tuple[HypothesisPicture, ...]
    analyses: Mapping[str, Analysis]
    # Partners that hold evidence in this case the viewer may not see ("held by N partners").
    withheld_held_by: int


def picture(
    hypotheses: Sequence[Hypothesis],
    evidence: Mapping[str, Evidence],
    matrices: Sequence[Matrix],
    assessments: Sequence[Assessment],
    hidden_holders: frozenset[str] = frozenset(),
) -> JointPicture:
    """The joint picture over what the viewer may see (the caller passes only that), plus
    the number of partners holding evidence it may not see."""
    hids = [h.id for h in hypotheses]
    analyses = {m.partner: analyse(m, evidence, hids) for m in matrices}
    by_cell = {(a.partner, a.hypothesis): a for a in assessments}
    partners = sorted({m.partner for m in matrices} | {a.partner for a in assessments})
    out = []
    for h in hypotheses:
        views = []
        for p in partners:
            an = analyses.get(p)
            s = an.scores.get(h.id) if an else None
            views.append(
                PartnerView(
                    p,
                    by_cell.get((p, h.id)),
                    s.weighted if s else None,
                    s.plain if s else None,
                    an.rank_of(h.id) if an else None,
                )
            )
        sides: dict[str, list[str]] = {}
        for v in views:
            if v.assessment is not None:
                sides.setdefault(v.assessment.side, []).append(v.partner)
        stated = sum(len(ps) for ps in sides.values())
        agreement = (
            "no view"
            if stated == 0
            else "one view"
            if stated == 1
            else "agree"
            if len(sides) == 1
            else "diverge"
        )
        out.append(
            HypothesisPicture(
                h,
                tuple(views),
                agreement,
                {k: tuple(v) for k, v in sorted(sides.items())},
                _divergences(h.id, evidence, matrices),
            )
        )
    return JointPicture(tuple(out), analyses, len(hidden_holders))


def _divergences(
    hid: str, evidence: Mapping[str, Evidence], matrices: Sequence[Matrix]
) -> tuple[Divergence, ...]:
    out = []
    for eid in sorted(evidence):
        rated = sorted(
            (m.partner, m.ratings[(eid, hid)]) for m in matrices if (eid, hid) in m.ratings
        )
        if len({r for _, r in rated}) > 1:
            out.append(Divergence(eid, tuple(rated)))
    return tuple(out)
