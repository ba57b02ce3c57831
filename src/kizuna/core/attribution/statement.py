"""The coordinated statement: a draft, each partner's decision, and what is published at release.

- draft: a ``note`` (abstract ``statement``) by the lead, for the invited partners only: text,
  attributed actor, confidence words, the joint release time.
- decision: an ``opinion`` by each invited partner on the draft: ``sign``, ``variant`` (sign a
  national variant of the text) or ``abstain``. A signature carries the partner's Ed25519
  signature over the statement it signs (RFC 8785 canonical JSON of ``signed_terms``).
- at release, for the signatories: the ``attributed-to`` relationship (subject → actor) with
  the STIX confidence, each signatory's public ``opinion`` on it (each made by that signatory),
  and a ``note`` with the text and every signatory's signature. Every published object carries
  an embargo until the release time whose participants are the signatories, so the gate keeps
  it from everyone else until then (DESIGN.md rule 2), on every node that holds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kizuna.core.attribution.ach import ACTOR_TYPES
from kizuna.core.attribution.case import ATTRIBUTION_EXTENSION, CASE_SUBJECT_TYPES, derived_id
from kizuna.core.attribution.scales import STIX_CONFIDENCE, confidence, stix_opinion, term
from kizuna.core.signing import canonical, sign, verify
from kizuna.errors import InvalidInput

DECISIONS: tuple[str, ...] = ("sign", "variant", "abstain")


@dataclass(frozen=True)
class Draft:
    id: str
    case: str
    lead: str
    text: str
    actor: str
    subject: str
    scale: str
    likelihood: str
    confidence: str
    invited: tuple[str, ...]
    release_at: str  # STIX timestamp

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise InvalidInput("a statement needs its text", code="invalid-statement")
        if self.actor.split("--", 1)[0] not in ACTOR_TYPES:
            raise InvalidInput(
                f"statement actor {self.actor!r}: expected an intrusion-set or threat-actor id",
                code="invalid-statement",
            )
        if self.subject.split("--", 1)[0] not in CASE_SUBJECT_TYPES:
            raise InvalidInput(
                f"statement subject {self.subject!r}: expected a campaign, intrusion-set, "
                "incident or report id",
                code="invalid-statement",
            )
        term(self.scale, self.likelihood)
        object.__setattr__(self, "confidence", confidence(self.confidence))
        if not self.invited:
            raise InvalidInput("a statement invites at least one partner", code="invalid-statement")

    @property
    def words(self) -> str:
        """The confidence words, e.g. "highly likely (PHIA), high confidence"."""
        return f"{self.likelihood} ({self.scale.upper()}), {self.confidence} confidence"

    def to_stix(self, stamp: str, markings: Sequence[str]) -> dict[str, Any]:
        return {
            "type": "note",
            "spec_version": "2.1",
            "id": self.id,
            "created": stamp,
            "modified": stamp,
            "created_by_ref": self.lead,
            "object_marking_refs": list(markings),
            "abstract": "statement",
            "content": self.text,
            "object_refs": [self.case, self.subject, self.actor],
            "extensions": {
                ATTRIBUTION_EXTENSION: {
                    "extension_type": "property-extension",
                    "role": "statement",
                    "actor": self.actor,
                    "subject": self.subject,
                    "scale": self.scale,
                    "likelihood": self.likelihood,
                    "confidence": self.confidence,
                    "invited": list(self.invited),
                    "release_at": self.release_at,
                }
            },
        }

    @classmethod
    def from_stix(cls, obj: Mapping[str, Any]) -> Draft:
        f = obj["extensions"][ATTRIBUTION_EXTENSION]
        case_id = next(r for r in obj["object_refs"] if r.startswith("grouping--"))
        return cls(obj["id"], case_id, obj["created_by_ref"], obj["content"], f["actor"],
                   f["subject"], f["scale"], f["likelihood"], f["confidence"],
                   tuple(f["invited"]), f["release_at"])  # fmt: skip

    def relationship_id(self) -> str:
        return derived_id("relationship", self.id, "attributed-to")


def signed_terms(d: Draft, text: str) -> dict[str, str]:
    """What a signatory signs: the statement, the text it signs (a variant's own), the actor,
    the confidence words and the release time."""
    return {"statement": d.id, "text": text, "actor": d.actor, "words": d.words,
            "release_at": d.release_at}  # fmt: skip


@dataclass(frozen=True)
class Decision:
    partner: str
    decision: str
    variant: str = ""
    signature: str = ""

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise InvalidInput(
                f"decision {self.decision!r}: expected sign, variant or abstain",
                code="invalid-decision",
            )
        if self.decision == "variant" and not self.variant.strip():
            raise InvalidInput("a national variant needs its text", code="invalid-decision")

    @property
    def signs(self) -> bool:
        return self.decision != "abstain"

    def text(self, d: Draft) -> str:
        return self.variant if self.decision == "variant" else d.text


def decide(
    d: Draft, partner: str, decision: str, private_key: bytes, variant: str = ""
) -> Decision:
    """A partner's decision, with its signature when it signs."""
    if partner not in d.invited:
        raise InvalidInput("only an invited partner decides on a statement", code="not-invited")
    out = Decision(partner, decision, variant)
    if not out.signs:
        return out
    sig = sign(private_key, canonical(signed_terms(d, out.text(d))))
    return Decision(partner, decision, variant, sig)


def decision_stix(
    d: Draft, x: Decision, stamp: str, created: str, markings: Sequence[str]
) -> dict[str, Any]:
    return {
        "type": "opinion",
        "spec_version": "2.1",
        "id": derived_id("opinion", d.id, x.partner, "decision"),
        "created": created,
        "modified": stamp,
        "created_by_ref": x.partner,
        "object_marking_refs": list(markings),
        "opinion": "agree" if x.signs else "neutral",
        "explanation": x.text(d) if x.signs else "abstains",
        "object_refs": [d.id, d.case],
        "extensions": {
            ATTRIBUTION_EXTENSION: {
                "extension_type": "property-extension",
                "role": "decision",
                "decision": x.decision,
                **({"variant": x.variant} if x.variant else {}),
                **({"signature": x.signature} if x.signature else {}),
            }
        },
    }


def decision_from_stix(obj: Mapping[str, Any]) -> Decision:
    f = obj["extensions"][ATTRIBUTION_EXTENSION]
    return Decision(obj["created_by_ref"], f["decision"], f.get("variant", ""),
                    f.get("signature", ""))  # fmt: skip


def verified(d: Draft, x: Decision, public_keys: Sequence[str]) -> bool:
    """True when the signature is the partner's over what it says it signs."""
    message = canonical(signed_terms(d, x.text(d)))
    return bool(x.signature) and any(verify(k, message, x.signature) for k in public_keys)


def published_opinion(d: Draft, x: Decision, stamp: str, markings: Sequence[str]) -> dict[str, Any]:
    """A signatory's public opinion on the attribution (made by the signatory itself)."""
    return {
        "type": "opinion",
        "spec_version": "2.1",
        "id": derived_id("opinion", d.id, x.partner, "published"),
        "created": stamp,
        "modified": stamp,
        "created_by_ref": x.partner,
        "object_marking_refs": list(markings),
        "opinion": stix_opinion(term(d.scale, d.likelihood)),
        "explanation": x.text(d),
        "confidence": STIX_CONFIDENCE[d.confidence],
        "object_refs": [d.relationship_id()],
    }


def publication(
    d: Draft, signatories: Sequence[Decision], stamp: str, markings: Sequence[str]
) -> list[dict[str, Any]]:
    """The lead's published objects: the attributed-to relationship and the note with the text
    and every signature (each signatory publishes its own opinion)."""
    if not signatories:
        raise InvalidInput("nobody signed this statement: nothing to release", code="no-signatory")
    rel = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": d.relationship_id(),
        "created": stamp,
        "modified": stamp,
        "created_by_ref": d.lead,
        "object_marking_refs": list(markings),
        "relationship_type": "attributed-to",
        "source_ref": d.subject,
        "target_ref": d.actor,
        "confidence": STIX_CONFIDENCE[d.confidence],
        "description": d.words,
    }
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": derived_id("note", d.id, "published"),
        "created": stamp,
        "modified": stamp,
        "created_by_ref": d.lead,
        "object_marking_refs": list(markings),
        "abstract": "joint attribution statement",
        "content": d.text,
        "authors": sorted(x.partner for x in signatories),
        "object_refs": [rel["id"]],
        "extensions": {
            ATTRIBUTION_EXTENSION: {
                "extension_type": "property-extension",
                "role": "published-statement",
                "words": d.words,
                "release_at": d.release_at,
                "signatures": [
                    {"party": x.partner, "decision": x.decision, "text": x.text(d),
                     "signature": x.signature}
                    for x in sorted(signatories, key=lambda s: s.partner)
                ],
            }
        },
    }  # fmt: skip
    return [rel, note]
