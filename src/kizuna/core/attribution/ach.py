"""Analysis of competing hypotheses (Heuer), one partner's matrix at a time.

Each cell rates one evidence item against one hypothesis: CC, C, N, I, II or NA. The
inconsistency score of a hypothesis counts I as -1 and II as -2 (Heuer; PARC ACH 2.0); the
weighted score multiplies each by the item's credibility and relevance weights, LOW 1/sqrt(2),
MEDIUM 1, HIGH sqrt(2) (PARC ACH 2.0 technical description, as Open Source ACH does). The
hypothesis with the score nearest zero fits the evidence best. Nothing here averages partners:
a matrix is one partner's judgement (``joint`` puts them side by side).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kizuna.core.attribution.scales import WEIGHT_LEVELS, Grade, kind, weight_level
from kizuna.errors import InvalidInput

RATINGS: tuple[str, ...] = ("CC", "C", "N", "I", "II", "NA")
# Heuer: only inconsistency counts; consistent evidence is weak because it fits many hypotheses.
INCONSISTENCY: dict[str, int] = {"CC": 0, "C": 0, "N": 0, "I": -1, "II": -2, "NA": 0}
ACTOR_TYPES: tuple[str, ...] = ("intrusion-set", "threat-actor")
# Weights are products of 1/sqrt(2), 1 and sqrt(2), so every weighted score is (a + b*sqrt(2))/2
# with whole a and b: kizuna sums and compares them exactly (no float ties, no rounding).
_HALVES: dict[str, tuple[int, int]] = {"low": (0, 1), "medium": (2, 0), "high": (0, 2)}
Exact = tuple[int, int]


def _times(x: Exact, y: Exact) -> Exact:
    # (p1 + q1 r)(p2 + q2 r) / 4 with r*r = 2, written again in halves
    (p1, q1), (p2, q2) = x, y
    return ((p1 * p2 + 2 * q1 * q2) // 2, (p1 * q2 + p2 * q1) // 2)


def value(x: Exact) -> float:
    return (x[0] + x[1] * math.sqrt(2)) / 2


def rating(value: str) -> str:
    """Check a Heuer rating; the error lists the six."""
    v = value.strip().upper()
    if v not in RATINGS:
        raise InvalidInput(
            f"ACH rating {value!r}: expected one of {', '.join(RATINGS)}", code="invalid-rating"
        )
    return v


@dataclass(frozen=True)
class Hypothesis:
    """A candidate actor: a STIX intrusion-set or threat-actor, or None for an unknown actor;
    ``false_flag`` for "someone posing as" that actor (or an unknown actor posing as someone)."""

    id: str
    actor: str | None = None
    false_flag: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if self.actor is not None and self.actor.split("--", 1)[0] not in ACTOR_TYPES:
            raise InvalidInput(
                f"hypothesis actor {self.actor!r}: expected an intrusion-set or threat-actor id,"
                " or none for an unknown actor",
                code="invalid-hypothesis",
            )

    @property
    def label(self) -> str:
        who = self.name or self.actor or "unknown actor"
        return f"false flag posing as {who}" if self.false_flag else who


@dataclass(frozen=True)
class Evidence:
    """An evidence item a partner brings, graded by it (Admiralty) and of one kind."""

    id: str
    grade: Grade
    kind: str
    contributor: str
    refs: tuple[str, ...] = ()
    summary: str = ""

    def __post_init__(self) -> None:
        kind(self.kind)

    @property
    def credibility_weight(self) -> float:
        return WEIGHT_LEVELS[self.grade.ach_credibility]

    @property
    def credibility_halves(self) -> Exact:
        return _HALVES[self.grade.ach_credibility]


@dataclass(frozen=True)
class Matrix:
    """One partner's ACH matrix: ratings by (evidence id, hypothesis id), relevance by item."""

    partner: str
    ratings: Mapping[tuple[str, str], str] = field(default_factory=dict)
    relevance: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for cell in self.ratings.values():
            rating(cell)
        for level in self.relevance.values():
            weight_level(level, "relevance")

    def relevance_weight(self, evidence_id: str) -> float:
        return WEIGHT_LEVELS[self.relevance.get(evidence_id, "medium")]

    def relevance_halves(self, evidence_id: str) -> Exact:
        return _HALVES[self.relevance.get(evidence_id, "medium")]


@dataclass(frozen=True)
class Score:
    plain: int
    exact: Exact  # the weighted score as (a, b): (a + b*sqrt(2)) / 2

    @property
    def weighted(self) -> float:
        return value(self.exact)


@dataclass(frozen=True)
class Diagnosticity:
    """How much an item tells the hypotheses apart: the spread of its inconsistency (plain and
    weighted) over the hypotheses it was rated for, NA left out; ``diagnostic`` is False when
    it is rated alike for every one of them (Heuer: then it says nothing)."""

    evidence: str
    plain: int
    weighted: float
    diagnostic: bool


@dataclass(frozen=True)
class Sensitivity:
    """What happens to the ranking if this one item is wrong (taken out)."""

    evidence: str
    changes_leader: bool
    changes_ranking: bool
    leader_without: frozenset[str]


@dataclass(frozen=True)
class Analysis:
    partner: str
    scores: Mapping[str, Score]
    ranking: tuple[frozenset[str], ...]
    diagnosticity: tuple[Diagnosticity, ...]
    sensitivity: tuple[Sensitivity, ...]

    @property
    def leader(self) -> frozenset[str]:
        return self.ranking[0] if self.ranking else frozenset()

    def rank_of(self, hypothesis: str) -> int | None:
        """1 for the best-fitting tier, 2 for the next (tied hypotheses share a rank)."""
        for i, tier in enumerate(self.ranking, 1):
            if hypothesis in tier:
                return i
        return None


Cells = Mapping[str, list[tuple[str, int, Exact]]]


def _cells(
    matrix: Matrix, evidence: Mapping[str, Evidence], hypotheses: Sequence[str]
) -> dict[str, list[tuple[str, int, Exact]]]:
    """Per evidence item: (hypothesis, plain, weighted) for the cells that count."""
    hyps = set(hypotheses)
    out: dict[str, list[tuple[str, int, Exact]]] = {}
    weights: dict[str, Exact] = {}
    for (eid, hid), r in matrix.ratings.items():
        if hid not in hyps:
            continue  # a hypothesis outside this analysis
        w = weights.get(eid)
        if w is None:
            item = evidence.get(eid)
            if item is None:
                continue  # an item outside this analysis (one the viewer may not see)
            w = weights[eid] = _times(item.credibility_halves, matrix.relevance_halves(eid))
        plain = INCONSISTENCY[r]
        out.setdefault(eid, []).append((hid, plain, (plain * w[0], plain * w[1])))
    return out


def scores(
    matrix: Matrix, evidence: Mapping[str, Evidence], hypotheses: Sequence[str]
) -> dict[str, Score]:
    """Plain and weighted inconsistency per hypothesis (0 when nothing is inconsistent)."""
    return _totals(_cells(matrix, evidence, hypotheses), hypotheses)


def _totals(cells: Cells, hypotheses: Iterable[str]) -> dict[str, Score]:
    plain = {h: 0 for h in hypotheses}
    a = dict.fromkeys(plain, 0)
    b = dict.fromkeys(plain, 0)
    for row in cells.values():
        for hid, p, (x, y) in row:
            plain[hid] += p
            a[hid] += x
            b[hid] += y
    return {h: Score(plain[h], (a[h], b[h])) for h in plain}


def rank(weighted: Mapping[str, Exact]) -> tuple[frozenset[str], ...]:
    """Hypotheses in tiers, least inconsistent first; equal scores share a tier."""
    tiers: dict[Exact, set[str]] = {}
    for h, w in weighted.items():
        tiers.setdefault(w, set()).add(h)
    # Tiers are told apart exactly; ordering them by their float value is exact too: two
    # different sums x + y*sqrt(2) of whole numbers under 10**6 differ by far more than a
    # float's error (|x + y*sqrt(2)| >= 1 / (|x| + 2|y|) when it is not zero).
    order = sorted(tiers, key=value, reverse=True)
    return tuple(frozenset(tiers[w]) for w in order)


def diagnosticity(cells: Cells, matrix: Matrix) -> tuple[Diagnosticity, ...]:
    out = []
    for eid in sorted(cells):
        rated = [(hid, p, w) for hid, p, w in cells[eid] if matrix.ratings[(eid, hid)] != "NA"]
        if not rated:
            out.append(Diagnosticity(eid, 0, 0.0, False))
            continue
        plains = [p for _, p, _ in rated]
        ws = [w for _, _, w in rated]
        hi, lo = max(ws, key=value), min(ws, key=value)
        spread = value((hi[0] - lo[0], hi[1] - lo[1]))
        alike = len({matrix.ratings[(eid, hid)] for hid, _, _ in rated}) == 1
        out.append(Diagnosticity(eid, max(plains) - min(plains), spread, not alike))
    return tuple(out)


def sensitivity(cells: Cells, totals: Mapping[str, Score]) -> tuple[Sensitivity, ...]:
    """For each item: the ranking without it (its cells subtracted from the totals)."""
    base = rank({h: s.exact for h, s in totals.items()})
    out = []
    for eid in sorted(cells):
        without = {h: s.exact for h, s in totals.items()}
        for hid, _, (x, y) in cells[eid]:
            a, b = without[hid]
            without[hid] = (a - x, b - y)
        ranking = rank(without)
        out.append(Sensitivity(eid, ranking[0] != base[0], ranking != base, ranking[0]))
    return tuple(out)


def analyse(
    matrix: Matrix, evidence: Mapping[str, Evidence], hypotheses: Sequence[str]
) -> Analysis:
    """Scores, ranking, diagnosticity and sensitivity of one partner's matrix over the evidence
    and hypotheses given (the caller passes only what this analysis may see)."""
    cells = _cells(matrix, evidence, hypotheses)
    totals = _totals(cells, hypotheses)
    return Analysis(
        matrix.partner,
        totals,
        rank({h: s.exact for h, s in totals.items()}),
        diagnosticity(cells, matrix),
        sensitivity(cells, totals),
    )
