"""Handling: what an object version's markings demand, as one plain value.

Handling is computed once per object version at ingest (see ``markings.handling_of``) and stored
with it, so the gate never re-reads markings on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

# TLP 2.0 labels from least to most restrictive (FIRST TLP 2.0, August 2022).
TLP_ORDER: tuple[str, ...] = ("clear", "green", "amber", "amber+strict", "red")
TLP_RANK: dict[str, int] = {label: rank for rank, label in enumerate(TLP_ORDER)}

# Release rules of kizuna's handling extension (DESIGN.md, rule 6).
RELEASE_RULES: tuple[str, ...] = ("originator-consent", "agreement-members", "no-onward")
RELEASE_RULE_RANK: dict[str, int] = {
    "agreement-members": 0,
    "originator-consent": 1,
    "no-onward": 2,
}


def stricter_tlp(a: str | None, b: str | None) -> str | None:
    """The more restrictive of two TLP labels (None means "not marked")."""
    if a is None:
        return b
    if b is None:
        return a
    return a if TLP_RANK[a] >= TLP_RANK[b] else b


@dataclass(frozen=True, order=True)
class Classification:
    """A national (or EU/NATO) classification level, named in its own scheme."""

    scheme: str
    level: str


@dataclass(frozen=True)
class Embargo:
    """An embargo: only ``participants`` receive the object until ``until_us``."""

    until_us: int
    participants: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Handling:
    """Everything the gate needs to know about an object version's markings."""

    tlp: str | None = None
    classification: Classification | None = None
    release_rule: str | None = None
    # None: the originator listed nobody (no restriction); a set, even empty: only they receive it.
    recipients: frozenset[str] | None = None
    release_agreements: frozenset[str] = frozenset()
    embargo: Embargo | None = None
    pap: str | None = None
    iep: tuple[tuple[str, str], ...] = ()
    statements: tuple[str, ...] = ()
    # Marking references this node could not resolve: the gate fails closed on them.
    unresolved: frozenset[str] = frozenset()
    # A federation message (receipt, consent, consent request): only for its recipients.
    protocol: bool = False
    # Why the object is quarantined (its seal is missing or wrong): never released onward.
    quarantine: str | None = None
    # Granular markings that are stricter than the object level: (selectors, handling).
    granular: tuple[tuple[tuple[str, ...], Handling], ...] = field(default=())

    @property
    def restricted(self) -> bool:
        """True when anything beyond TLP and embargo limits who may receive the object.

        ``release_agreements`` alone limits nothing: it only says where rule
        ``agreement-members`` pre-consents to onward release (DESIGN.md, turn 2).
        """
        return bool(
            self.classification
            or self.release_rule
            or self.recipients is not None
            or self.unresolved
        )

    def to_json(self) -> bytes:
        """Compact, stable JSON for storage (keys sorted, empty parts left out)."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict, leaving out empty parts."""
        out: dict[str, Any] = {}
        if self.tlp is not None:
            out["tlp"] = self.tlp
        if self.classification is not None:
            out["classification"] = {
                "scheme": self.classification.scheme,
                "level": self.classification.level,
            }
        if self.release_rule is not None:
            out["release_rule"] = self.release_rule
        if self.recipients is not None:
            out["recipients"] = sorted(self.recipients)
        if self.release_agreements:
            out["release_agreements"] = sorted(self.release_agreements)
        if self.embargo is not None:
            out["embargo"] = {
                "until_us": self.embargo.until_us,
                "participants": sorted(self.embargo.participants),
            }
        if self.pap is not None:
            out["pap"] = self.pap
        if self.iep:
            out["iep"] = [list(pair) for pair in self.iep]
        if self.statements:
            out["statements"] = list(self.statements)
        if self.unresolved:
            out["unresolved"] = sorted(self.unresolved)
        if self.protocol:
            out["protocol"] = True
        if self.quarantine is not None:
            out["quarantine"] = self.quarantine
        if self.granular:
            out["granular"] = [
                {"selectors": list(sel), "handling": h.to_dict()} for sel, h in self.granular
            ]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Handling:
        """Inverse of ``to_dict``."""
        cls_ = data.get("classification")
        emb = data.get("embargo")
        return cls(
            tlp=data.get("tlp"),
            classification=Classification(cls_["scheme"], cls_["level"]) if cls_ else None,
            release_rule=data.get("release_rule"),
            recipients=frozenset(data["recipients"]) if "recipients" in data else None,
            release_agreements=frozenset(data.get("release_agreements", ())),
            embargo=Embargo(emb["until_us"], frozenset(emb["participants"])) if emb else None,
            pap=data.get("pap"),
            iep=tuple((k, v) for k, v in data.get("iep", ())),
            statements=tuple(data.get("statements", ())),
            unresolved=frozenset(data.get("unresolved", ())),
            protocol=bool(data.get("protocol", False)),
            quarantine=data.get("quarantine"),
            granular=tuple(
                (tuple(g["selectors"]), Handling.from_dict(g["handling"]))
                for g in data.get("granular", ())
            ),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Handling:
        """Inverse of ``to_json``."""
        return cls.from_dict(orjson.loads(raw))


UNMARKED = Handling()
