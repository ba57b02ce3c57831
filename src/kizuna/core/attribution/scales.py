"""The scales of attribution: Admiralty grading, estimative language, confidence, STIX numbers.

Sources (../shared/REFERENCE.md "Attribution scales"): NATO AJP-2.1 (Admiralty codes), ICD 203
(US ODNI, 2015) likelihood terms, the UK PHIA probability yardstick (2019), STIX 2.1 Appendix A
confidence scales.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kizuna.errors import InvalidInput

# Admiralty (NATO AJP-2.1): source reliability and information credibility.
RELIABILITY: dict[str, str] = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY: dict[int, str] = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "truth cannot be judged",
}
# STIX 2.1 Appendix A, "Admiralty Credibility": 1-5 map to 90/70/50/30/10; 6 has no number.
STIX_CONFIDENCE_OF_CREDIBILITY: dict[int, int | None] = {1: 90, 2: 70, 3: 50, 4: 30, 5: 10, 6: None}

# Evidence kinds (issue 10). A human source appears only as "exists": never the source itself.
KINDS: tuple[str, ...] = (
    "technical",
    "infrastructure",
    "behavioural",
    "linguistic",
    "geopolitical",
    "human-source-exists",
)

# ACH weights (PARC ACH 2.0 technical description, followed by Open Source ACH): credibility
# and relevance are LOW, MEDIUM or HIGH and weigh 1/sqrt(2), 1 and sqrt(2).
WEIGHT_LEVELS: dict[str, float] = {"low": 1 / math.sqrt(2), "medium": 1.0, "high": math.sqrt(2)}


@dataclass(frozen=True, order=True)
class Grade:
    """An Admiralty grade such as ``B2``: the source's reliability and the item's credibility."""

    reliability: str
    credibility: int

    def __post_init__(self) -> None:
        if self.reliability not in RELIABILITY:
            raise InvalidInput(
                f"source reliability {self.reliability!r} is not an Admiralty letter A-F",
                code="invalid-grade",
            )
        if self.credibility not in CREDIBILITY:
            raise InvalidInput(
                f"information credibility {self.credibility!r} is not an Admiralty digit 1-6",
                code="invalid-grade",
            )

    @classmethod
    def parse(cls, text: str) -> Grade:
        """``"B2"`` → Grade("B", 2); a clear error for anything else."""
        t = text.strip().upper()
        if len(t) != 2 or not t[1].isdigit():
            raise InvalidInput(
                f"Admiralty grade {text!r}: expected a letter A-F and a digit 1-6, e.g. B2",
                code="invalid-grade",
            )
        return cls(t[0], int(t[1]))

    def __str__(self) -> str:
        return f"{self.reliability}{self.credibility}"

    @property
    def ach_credibility(self) -> str:
        """The ACH credibility level this grade stands for (kizuna's reading, docs/attribution.md):
        high for a reliable source (A, B) with confirmed or probable information (1, 2); low when
        the source is not usually reliable or unreliable (D, E) or the information doubtful or
        improbable (4, 5); medium otherwise, including "cannot be judged" (F, 6)."""
        if self.reliability in "DE" or self.credibility in (4, 5):
            return "low"
        if self.reliability in "AB" and self.credibility in (1, 2):
            return "high"
        return "medium"

    @property
    def stix_confidence(self) -> int | None:
        return STIX_CONFIDENCE_OF_CREDIBILITY[self.credibility]


def weight_level(value: str, what: str) -> str:
    """Check a credibility or relevance level (low, medium, high)."""
    v = value.strip().lower()
    if v not in WEIGHT_LEVELS:
        raise InvalidInput(
            f"{what} {value!r}: expected low, medium or high", code=f"invalid-{what}"
        )
    return v


def kind(value: str) -> str:
    """Check an evidence kind; "human-source" is taken as "human-source-exists"."""
    v = value.strip().lower()
    if v in ("human-source", "humint"):
        v = "human-source-exists"
    if v not in KINDS:
        raise InvalidInput(
            f"evidence kind {value!r}: expected one of {', '.join(KINDS)}", code="invalid-kind"
        )
    return v


@dataclass(frozen=True)
class Term:
    """An estimative term and its numeric range in percent (inclusive)."""

    scale: str
    words: str
    low: int
    high: int

    @property
    def range(self) -> str:
        return f"{self.low}-{self.high} %"


ICD_203: tuple[Term, ...] = (
    Term("icd-203", "almost no chance", 1, 5),
    Term("icd-203", "very unlikely", 5, 20),
    Term("icd-203", "unlikely", 20, 45),
    Term("icd-203", "roughly even chance", 45, 55),
    Term("icd-203", "likely", 55, 80),
    Term("icd-203", "very likely", 80, 95),
    Term("icd-203", "almost certain", 95, 99),
)
# The PHIA yardstick leaves gaps on purpose (5-10, 20-25, 35-40, 50-55, 75-80, 90-95).
PHIA: tuple[Term, ...] = (
    Term("phia", "remote chance", 0, 5),
    Term("phia", "highly unlikely", 10, 20),
    Term("phia", "unlikely", 25, 35),
    Term("phia", "realistic possibility", 40, 50),
    Term("phia", "likely", 55, 75),
    Term("phia", "highly likely", 80, 90),
    Term("phia", "almost certain", 95, 100),
)
SCALES: dict[str, tuple[Term, ...]] = {"icd-203": ICD_203, "phia": PHIA}
CONFIDENCE_LEVELS: tuple[str, ...] = ("low", "moderate", "high")
# STIX 2.1 Appendix A "None/Low/Med/High": Low 15, Med 50, High 85.
STIX_CONFIDENCE: dict[str, int] = {"low": 15, "moderate": 50, "high": 85}


def term(scale: str, words: str) -> Term:
    """Look up an estimative term; the error lists the words the scale has."""
    terms = SCALES.get(scale.strip().lower())
    if terms is None:
        raise InvalidInput(
            f"likelihood scale {scale!r}: expected icd-203 or phia", code="invalid-scale"
        )
    w = " ".join(words.strip().lower().split())
    for t in terms:
        if t.words == w or (t.words == "roughly even chance" and w == "roughly even"):
            return t
    names = ", ".join(t.words for t in terms)
    raise InvalidInput(
        f"{words!r} is not a {scale} likelihood term; expected one of: {names}",
        code="invalid-likelihood",
    )


def counterparts(t: Term) -> tuple[Term, ...]:
    """The terms of the other scale whose range overlaps this one's (by more than a point)."""
    other = PHIA if t.scale == "icd-203" else ICD_203
    return tuple(o for o in other if min(o.high, t.high) > max(o.low, t.low))


def confidence(value: str) -> str:
    v = value.strip().lower()
    if v == "medium":
        v = "moderate"
    if v not in CONFIDENCE_LEVELS:
        raise InvalidInput(
            f"confidence {value!r}: expected low, moderate or high", code="invalid-confidence"
        )
    return v


def stix_opinion(t: Term) -> str:
    """The STIX ``opinion`` value for "this hypothesis is true" at this likelihood, from the
    middle of its range: >= 80 strongly-agree, >= 55 agree, >= 45 neutral, >= 20 disagree,
    below strongly-disagree."""
    mid = (t.low + t.high) / 2
    if mid >= 80:
        return "strongly-agree"
    if mid >= 55:
        return "agree"
    if mid >= 45:
        return "neutral"
    if mid >= 20:
        return "disagree"
    return "strongly-disagree"
