"""Attribution case objects on the wire: plain STIX 2.1 that travels through the gate.

Every object of a case references the case, so rule 7 withholds what hangs off an object the
recipient may not see, and each carries its author's handling (a marking whose release
recipients are the case's participants):

- case: a ``grouping`` (context ``suspicious-activity``) about the campaign, intrusion-set,
  incident or reports named;
- hypothesis: a ``note`` referencing the case and the candidate actor (none: unknown actor);
- evidence: a ``note`` referencing the case and the STIX objects it rests on;
- ratings: a ``relationship`` ``x-kizuna-ach-rates`` from an evidence item to the case, one
  partner's row for that item (a relationship goes only where both its ends go);
- assessment: an ``opinion`` on the hypothesis and the case.

kizuna's fields sit in one property extension (``ATTRIBUTION_EXTENSION``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kizuna.core.attribution.ach import ACTOR_TYPES, Evidence, Hypothesis, Matrix, rating
from kizuna.core.attribution.joint import Assessment
from kizuna.core.attribution.scales import Grade, kind, stix_opinion, term, weight_level
from kizuna.errors import InvalidInput

ATTRIBUTION_EXTENSION = "extension-definition--8f1e5b8c-4c0e-4a57-9a3e-6b1f0c2d7a10"
RATES = "x-kizuna-ach-rates"
_NS = uuid.UUID("b7d3a0f2-63c4-4e2a-8f0e-5a9c1d2e3f40")
CASE_SUBJECT_TYPES: tuple[str, ...] = ("campaign", "intrusion-set", "incident", "report")


def derived_id(stix_type: str, *parts: str) -> str:
    """A deterministic id, so a partner's new rating or assessment is a new version."""
    return f"{stix_type}--{uuid.uuid5(_NS, '|'.join(parts))}"


def _ext(role: str, **fields: Any) -> dict[str, Any]:
    return {ATTRIBUTION_EXTENSION: {"extension_type": "property-extension", "role": role, **fields}}


def role_of(obj: Mapping[str, Any]) -> str | None:
    ext = (obj.get("extensions") or {}).get(ATTRIBUTION_EXTENSION)
    return str(ext.get("role")) if isinstance(ext, dict) else None


def _fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    return dict(obj["extensions"][ATTRIBUTION_EXTENSION])


def _base(
    stix_type: str, oid: str, stamp: str, author: str, markings: Sequence[str]
) -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": oid,
        "created": stamp,
        "modified": stamp,
        "created_by_ref": author,
        "object_marking_refs": list(markings),
    }


def case(
    oid: str, stamp: str, author: str, markings: Sequence[str], name: str, about: Sequence[str]
) -> dict[str, Any]:
    if not name.strip():
        raise InvalidInput("a case needs a name", code="invalid-case")
    if not about:
        raise InvalidInput(
            "a case is about at least one campaign, intrusion-set, incident or report",
            code="invalid-case",
        )
    for ref in about:
        if ref.split("--", 1)[0] not in CASE_SUBJECT_TYPES:
            raise InvalidInput(
                f"{ref!r}: a case is about a {', '.join(CASE_SUBJECT_TYPES)}", code="invalid-case"
            )
    return {
        **_base("grouping", oid, stamp, author, markings),
        "name": name,
        "context": "suspicious-activity",
        "object_refs": list(about),
        "extensions": _ext("case"),
    }


def hypothesis(
    case_id: str, h: Hypothesis, stamp: str, author: str, markings: Sequence[str]
) -> dict[str, Any]:
    refs = [case_id] + ([h.actor] if h.actor else [])
    return {
        **_base("note", h.id, stamp, author, markings),
        "abstract": "hypothesis",
        "content": h.label,
        "object_refs": refs,
        "extensions": _ext(
            "hypothesis",
            false_flag=h.false_flag,
            unknown_actor=h.actor is None,
            **({"name": h.name} if h.name else {}),
        ),
    }


def evidence(case_id: str, e: Evidence, stamp: str, markings: Sequence[str]) -> dict[str, Any]:
    return {
        **_base("note", e.id, stamp, e.contributor, markings),
        "abstract": "evidence",
        "content": e.summary or f"{e.kind} evidence",
        "object_refs": [case_id, *e.refs],
        "extensions": _ext(
            "evidence",
            kind=kind(e.kind),
            reliability=e.grade.reliability,
            credibility=e.grade.credibility,
        ),
    }


def ratings(
    case_id: str,
    partner: str,
    evidence_id: str,
    cells: Mapping[str, str],
    relevance: str,
    stamp: str,
    created: str,
    markings: Sequence[str],
) -> dict[str, Any]:
    """One partner's ratings of one evidence item against the hypotheses (a new version each
    time it changes them)."""
    obj = _base("relationship", derived_id("relationship", case_id, partner, evidence_id), stamp,
                partner, markings)  # fmt: skip
    obj["created"] = created
    obj.update(
        relationship_type=RATES,
        source_ref=evidence_id,
        target_ref=case_id,
        extensions=_ext(
            "ratings",
            relevance=weight_level(relevance, "relevance"),
            ratings=[{"hypothesis": h, "rating": rating(r)} for h, r in sorted(cells.items())],
        ),
    )
    return obj


def assessment(
    case_id: str, a: Assessment, stamp: str, created: str, markings: Sequence[str]
) -> dict[str, Any]:
    obj = _base("opinion", derived_id("opinion", case_id, a.partner, a.hypothesis), stamp,
                a.partner, markings)  # fmt: skip
    obj["created"] = created
    obj.update(
        explanation=a.rationale,
        opinion=stix_opinion(a.term),
        confidence=a.stix_confidence,
        object_refs=[a.hypothesis, case_id],
        extensions=_ext(
            "assessment", scale=a.term.scale, likelihood=a.term.words, confidence=a.confidence
        ),
    )
    return obj


@dataclass(frozen=True)
class CaseContent:
    """What one viewer holds of a case, read back from the STIX objects it may see."""

    case: Mapping[str, Any]
    hypotheses: tuple[Hypothesis, ...]
    evidence: Mapping[str, Evidence]
    matrices: tuple[Matrix, ...]
    assessments: tuple[Assessment, ...]


def read(
    case_id: str, case_obj: Mapping[str, Any], objects: Iterable[Mapping[str, Any]]
) -> CaseContent:
    """Parse a case's objects (latest versions) into the ACH model."""
    hyps: list[Hypothesis] = []
    ev: dict[str, Evidence] = {}
    rows: list[Mapping[str, Any]] = []
    opinions: list[Mapping[str, Any]] = []
    for obj in objects:
        role = role_of(obj)
        f = _fields(obj) if role else {}
        if role == "hypothesis":
            actors = [r for r in obj.get("object_refs", ()) if r.split("--")[0] in ACTOR_TYPES]
            hyps.append(
                Hypothesis(obj["id"], actors[0] if actors else None, bool(f.get("false_flag")),
                           str(f.get("name", "")) if actors or f.get("unknown_actor")
                           else "an actor not shown")
            )  # fmt: skip
        elif role == "evidence":
            refs = tuple(r for r in obj.get("object_refs", ()) if r != case_id)
            ev[obj["id"]] = Evidence(
                obj["id"],
                Grade(str(f["reliability"]), int(f["credibility"])),
                str(f["kind"]),
                str(obj.get("created_by_ref")),
                refs,
                str(obj.get("content", "")),
            )
        elif role == "ratings":
            rows.append(obj)
        elif role == "assessment":
            opinions.append(obj)
    cells: dict[str, dict[tuple[str, str], str]] = {}
    relevance: dict[str, dict[str, str]] = {}
    for row in rows:
        partner, eid = str(row["created_by_ref"]), str(row["source_ref"])
        f = _fields(row)
        relevance.setdefault(partner, {})[eid] = str(f["relevance"])
        for cell in f["ratings"]:
            cells.setdefault(partner, {})[(eid, str(cell["hypothesis"]))] = str(cell["rating"])
    matrices = tuple(
        Matrix(p, cells.get(p, {}), relevance.get(p, {}))
        for p in sorted(set(cells) | set(relevance))
    )
    assessments = []
    for op in opinions:
        f = _fields(op)
        hyp = next(r for r in op["object_refs"] if r != case_id)
        assessments.append(
            Assessment(str(op["created_by_ref"]), hyp, term(str(f["scale"]), str(f["likelihood"])),
                       str(f["confidence"]), str(op.get("explanation", "")))
        )  # fmt: skip
    return CaseContent(
        case_obj,
        tuple(sorted(hyps, key=lambda h: h.id)),
        ev,
        matrices,
        tuple(sorted(assessments, key=lambda a: (a.hypothesis, a.partner))),
    )
