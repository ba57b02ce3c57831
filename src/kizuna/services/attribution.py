"""Attribution cases: the home party's contributions, and the joint picture a party may see.

A case and everything in it are STIX objects (``core.attribution.case``) stored like any other
and released only through the gate: each contribution carries a marking of its author whose
release recipients are the case's participants, so a non-participant is refused by rule 5 and
never receives (or learns of) any of them. The joint picture for a party is computed from what
the gate releases to that party; evidence withheld from it is counted by the partners holding
it, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from kizuna.core.attribution import case as wire
from kizuna.core.attribution import statement as stmt
from kizuna.core.attribution.ach import Evidence, Hypothesis, rating
from kizuna.core.attribution.joint import Assessment, JointPicture, picture
from kizuna.core.attribution.scales import Grade, term, weight_level
from kizuna.core.handling import Handling
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.errors import Forbidden, InvalidInput, NotFound
from kizuna.services import gate, ingest, parties
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion


def _no_such_case(case_id: str) -> NotFound:
    # One answer for an unknown case and one the caller may not see (DESIGN.md: nothing a
    # partner asks reveals the existence of an object withheld from it).
    return NotFound(f"no attribution case {case_id!r} here", code="no-such-case")


def _store(node: Node, objects: list[dict[str, Any]]) -> None:
    outcomes = ingest.ingest(node, objects, submitter=node.home_party, path="import")
    bad = [o for o in outcomes if not o.ok]
    if bad:
        raise bad[0].error or InvalidInput("the attribution object was refused")


def _stamp(node: Node) -> str:
    return format_timestamp(node.now())


def open_case(
    node: Node, name: str, about: Sequence[str], participants: Sequence[str], tlp: str = "amber"
) -> str:
    """Open a case of the home party with these participants (names or ids); its id."""
    if tlp not in TLP_MARKING_ID or tlp == "clear":
        raise InvalidInput(
            f"TLP {tlp!r}: a case is shared under green, amber, amber+strict or red",
            code="invalid-tlp",
        )
    members = {node.home_party.id} | {parties.find(node, p).id for p in participants}
    case_id = node.new_id("grouping")
    stamp = _stamp(node)
    mid, marking = _recipients(node, members)
    obj = wire.case(case_id, stamp, node.home_party.id, [TLP_MARKING_ID[tlp], mid], name,
                    list(about))  # fmt: skip
    _store(node, [*marking, obj])  # checked first, stored together
    return case_id


@dataclass(frozen=True)
class _Case:
    version: StoredVersion
    obj: dict[str, Any]
    handling: Handling


def _case(node: Node, case_id: str, viewer: Party | None = None) -> _Case:
    with node.db.read() as conn:
        v = store.latest(conn, [case_id]).get(case_id)
    if v is None or v.type != "grouping":
        raise _no_such_case(case_id)
    obj = orjson.loads(v.content)
    if wire.role_of(obj) != "case":
        raise _no_such_case(case_id)
    if viewer is not None and viewer.id != node.home_party.id:
        [(_, decision)] = gate.judge(node, viewer, [v])
        if not decision.released:
            raise _no_such_case(case_id)
    return _Case(v, obj, Handling.from_json(v.handling))


def _my_markings(node: Node, c: _Case) -> list[str]:
    """The home party's marking for its contributions: the case's participants, its TLP."""
    members = set(c.handling.recipients or ()) | {node.home_party.id, c.version.source}
    return [TLP_MARKING_ID[c.handling.tlp or "amber"], _recipients_marking(node, members)]


def _members(node: Node, case_id: str) -> dict[str, dict[str, Any]]:
    """The latest version of every object of the case this node holds, by id."""
    with node.db.read() as conn:
        return {v.id: orjson.loads(v.content) for v in store.referencing(conn, case_id)}


def add_hypothesis(
    node: Node, case_id: str, actor: str | None, *, false_flag: bool = False, name: str = ""
) -> str:
    c = _case(node, case_id)
    h = Hypothesis(node.new_id("note"), actor, false_flag, name)
    _store(node, [wire.hypothesis(case_id, h, _stamp(node), node.home_party.id,
                                  _my_markings(node, c))])  # fmt: skip
    return h.id


def add_evidence(
    node: Node, case_id: str, grade: str, kind: str, refs: Sequence[str] = (), summary: str = ""
) -> str:
    c = _case(node, case_id)
    e = Evidence(node.new_id("note"), Grade.parse(grade), kind, node.home_party.id, tuple(refs),
                 summary)  # fmt: skip
    _store(node, [wire.evidence(case_id, e, _stamp(node), _my_markings(node, c))])
    return e.id


def _role(objects: Mapping[str, dict[str, Any]], oid: str, role: str) -> None:
    if oid not in objects or wire.role_of(objects[oid]) != role:
        raise InvalidInput(f"{oid!r} is no {role} of this case", code=f"no-such-{role}")


def rate(
    node: Node, case_id: str, evidence_id: str, cells: Mapping[str, str], relevance: str = "medium"
) -> str:
    """The home party's ratings of one evidence item (a new version replaces the last)."""
    c = _case(node, case_id)
    held = _members(node, case_id)
    _role(held, evidence_id, "evidence")
    for hid, r in cells.items():
        _role(held, hid, "hypothesis")
        rating(r)
    weight_level(relevance, "relevance")
    stamp = _stamp(node)
    rid = wire.derived_id("relationship", case_id, node.home_party.id, evidence_id)
    created = held[rid]["created"] if rid in held else stamp
    obj = wire.ratings(case_id, node.home_party.id, evidence_id, cells, relevance, stamp, created,
                       _my_markings(node, c))  # fmt: skip
    _store(node, [obj])
    return str(obj["id"])


def assess(
    node: Node,
    case_id: str,
    hypothesis_id: str,
    scale: str,
    likelihood: str,
    confidence: str,
    rationale: str,
) -> str:
    c = _case(node, case_id)
    held = _members(node, case_id)
    _role(held, hypothesis_id, "hypothesis")
    a = Assessment(node.home_party.id, hypothesis_id, term(scale, likelihood), confidence,
                   rationale)  # fmt: skip
    stamp = _stamp(node)
    oid = wire.derived_id("opinion", case_id, node.home_party.id, hypothesis_id)
    created = held[oid]["created"] if oid in held else stamp
    obj = wire.assessment(case_id, a, stamp, created, _my_markings(node, c))
    _store(node, [obj])
    return str(obj["id"])


@dataclass(frozen=True)
class CaseView:
    """A case as one party may see it."""

    case: dict[str, Any]
    content: wire.CaseContent
    joint: JointPicture


def view(node: Node, case_id: str, viewer: Party) -> CaseView:
    """The case and its joint picture as ``viewer`` may see them, through the gate (for a
    partner this is a release: sealed and written to the ledger like any read)."""
    c = _case(node, case_id, viewer)
    with node.db.read() as conn:
        versions = [c.version, *store.referencing(conn, case_id)]
    released = gate.release(node, viewer, versions)
    seen = [orjson.loads(r.content) for r in released.released]
    case_obj = seen[0]
    hidden: set[str] = set()
    for v, _ in released.withheld:
        obj = orjson.loads(v.content)
        if wire.role_of(obj) in ("evidence", "ratings"):
            hidden.add(v.source)  # a partner that holds evidence this viewer may not see
    content = wire.read(case_id, case_obj, seen[1:])
    joint = picture(content.hypotheses, content.evidence, content.matrices, content.assessments,
                    frozenset(hidden))  # fmt: skip
    return CaseView(case_obj, content, joint)


def cases(node: Node, viewer: Party) -> list[dict[str, Any]]:
    """The attribution cases ``viewer`` may see."""
    with node.db.read() as conn:
        groupings = store.of_type(conn, "grouping")
    mine = [v for v in groupings if wire.role_of(orjson.loads(v.content)) == "case"]
    if viewer.id == node.home_party.id:
        return [orjson.loads(v.content) for v in mine]
    return [orjson.loads(r.content) for r in gate.release(node, viewer, mine).released]


# --- the coordinated statement (core.attribution.statement) ---------------------------------


def _participants(node: Node, c: _Case) -> set[str]:
    return set(c.handling.recipients or ()) | {c.version.source}


def _recipients_marking(node: Node, members: set[str]) -> str:
    """The home party's marking releasing only to ``members``; its id. One per set of
    recipients, named for nothing: marking-definitions go to every party (rule 3, handling
    vocabulary), so it must not tell a non-participant that a case or a statement exists."""
    mid, marking = _recipients(node, members)
    if marking:
        _store(node, marking)
    return mid


def _recipients(node: Node, members: set[str]) -> tuple[str, list[dict[str, Any]]]:
    """The id of that marking, and the marking itself when this node does not hold it yet."""
    mid = wire.derived_id("marking-definition", node.home_party.id, "recipients", *sorted(members))
    with node.db.read() as conn:
        if mid in store.latest(conn, [mid]):
            return mid, []
    return mid, [handling_marking(mid, _stamp(node), node.home_party.id,
                                  recipients=sorted(members))]  # fmt: skip


def _embargo_marking(node: Node, d: stmt.Draft) -> str:
    """The home party's embargo on everything published for ``d``: the invited partners only,
    until the release time (rule 2). Keyed by time and participants and named for nothing
    (see ``_recipients_marking``)."""
    participants = sorted({*d.invited, d.lead})
    mid = wire.derived_id(
        "marking-definition", node.home_party.id, "embargo", d.release_at, *participants
    )
    with node.db.read() as conn:
        held = store.latest(conn, [mid])
    if mid not in held:
        marking = handling_marking(
            mid,
            _stamp(node),
            node.home_party.id,
            embargo_until=d.release_at,
            embargo_participants=participants,
        )
        _store(node, [marking])
    return mid


def draft_statement(
    node: Node,
    case_id: str,
    text: str,
    actor: str,
    subject: str,
    scale: str,
    likelihood: str,
    confidence: str,
    invited: Sequence[str],
    release_at: str,
) -> str:
    """The home party drafts a statement for partners of the case to sign; its id."""
    c = _case(node, case_id)
    members = _participants(node, c)
    ids = tuple(sorted({parties.find(node, p).id for p in invited} | {node.home_party.id}))
    outside = [p for p in ids if p not in members]
    if outside:
        raise InvalidInput(
            f"only participants of the case can be invited to sign; not: {', '.join(outside)}",
            code="not-a-participant",
        )
    try:
        release_us = parse_timestamp(release_at)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"release time {release_at!r}: {exc}", code="invalid-time") from exc
    d = stmt.Draft(node.new_id("note"), case_id, node.home_party.id, text, actor, subject,
                   scale, likelihood, confidence, ids, format_timestamp(release_us))  # fmt: skip
    mid = _recipients_marking(node, set(ids))
    _store(node, [d.to_stix(_stamp(node), [TLP_MARKING_ID[c.handling.tlp or "amber"], mid])])
    return d.id


def _draft(node: Node, statement_id: str) -> tuple[stmt.Draft, StoredVersion]:
    with node.db.read() as conn:
        v = store.latest(conn, [statement_id]).get(statement_id)
    obj = orjson.loads(v.content) if v is not None else {}
    if v is None or wire.role_of(obj) != "statement":
        raise NotFound(f"no statement {statement_id!r} here", code="no-such-statement")
    return stmt.Draft.from_stix(obj), v


def sign(node: Node, statement_id: str, decision: str, variant: str = "") -> str:
    """The home party's decision on a statement (sign, variant, abstain). Signing also makes
    its public opinion, embargoed until the release time."""
    d, v = _draft(node, statement_id)
    x = stmt.decide(d, node.home_party.id, decision, node.private_key, variant)
    stamp = _stamp(node)
    tlp = Handling.from_json(v.handling).tlp or "amber"
    mid = _recipients_marking(node, {*d.invited, d.lead})
    oid = wire.derived_id("opinion", d.id, x.partner, "decision")
    with node.db.read() as conn:
        before = store.latest(conn, [oid]).get(oid)
    created = orjson.loads(before.content)["created"] if before else stamp
    out = [stmt.decision_stix(d, x, stamp, created, [TLP_MARKING_ID[tlp], mid])]
    if x.signs:
        public = [TLP_MARKING_ID["clear"], _embargo_marking(node, d)]
        out.append(stmt.published_opinion(d, x, stamp, public))
    _store(node, out)
    return oid


@dataclass(frozen=True)
class Released:
    ids: tuple[str, ...]
    signatories: tuple[str, ...]
    abstained: tuple[str, ...]
    undecided: tuple[str, ...]
    release_at: str


def release(node: Node, statement_id: str) -> Released:
    """The lead publishes the attribution for the signatories: the ``attributed-to``
    relationship and the note with every signature, embargoed until the release time (made
    now, they leave no node before it). Signatures that do not verify are refused."""
    d, _ = _draft(node, statement_id)
    if d.lead != node.home_party.id:
        raise Forbidden("only the statement's lead releases it", code="not-the-lead")
    with node.db.read() as conn:
        found = [orjson.loads(v.content) for v in store.referencing(conn, statement_id)]
    decisions = {
        x.partner: x
        for x in (stmt.decision_from_stix(o) for o in found if wire.role_of(o) == "decision")
        if x.partner in d.invited
    }
    signed = [x for x in decisions.values() if x.signs]
    for x in signed:
        keys = parties.find(node, x.partner).public_keys
        if x.partner == node.home_party.id:
            keys = (node.public_key,)
        if not stmt.verified(d, x, keys):
            raise InvalidInput(
                f"the signature of {x.partner} does not verify: not released",
                code="bad-signature",
            )
    published = stmt.publication(d, signed, _stamp(node),
                                 [TLP_MARKING_ID["clear"], _embargo_marking(node, d)])  # fmt: skip
    _store(node, published)
    return Released(
        tuple(o["id"] for o in published),
        tuple(sorted(x.partner for x in signed)),
        tuple(sorted(p for p, x in decisions.items() if not x.signs)),
        tuple(sorted(p for p in d.invited if p not in decisions)),
        d.release_at,
    )
