"""How an agreement version enters the node, by every path: the JSON API, the CLI and sync.

The rules (DESIGN "Who may change the gate's inputs", issue 12):

- A version counts only when every party of the version it replaces and every party of its own
  signed it with a key the node trusts for that party (core/agreement_versions.py). The stored
  ``state`` says ``active`` only for such a version, and the gate judges again when it loads.
- Parties and keys never enter as a side effect: a party a document names must be known already
  (the operator's ``kizuna party add``), except the parties an accession adds, which are
  registered when, and only when, the version that adds them is accepted.
- A party that is neither the home party nor named in a version this node holds gets the same
  answer for every agreement id, held or not (nothing tells it an agreement exists); partners
  never start an agreement here through the API (the operator imports it, or it arrives by sync).
- Party names are normalised, and a name that looks like another party's is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from kizuna.core import agreement_versions as versions_core
from kizuna.core import agreements as core
from kizuna.core.agreement_versions import Standing
from kizuna.core.agreements import Agreement, InvalidAgreement
from kizuna.core.parties import Party
from kizuna.core.party_names import alike
from kizuna.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from kizuna.services import parties as party_service
from kizuna.services.node import Node
from kizuna.storage import parties as party_store
from kizuna.storage.schema import agreements as table

log = logging.getLogger("kizuna.agreements")

PATHS = ("operator", "api", "sync")


@dataclass(frozen=True)
class Stored:
    """One stored agreement version, judged against the keys the node trusts."""

    agreement: Agreement
    updated_us: int
    standing: Standing


def not_found(agreement_id: str) -> NotFound:
    """The one answer a party gets about an agreement it is not in, held or not."""
    return NotFound(
        f"no agreement {agreement_id!r} with you as a party on this node; "
        "new agreements are imported by the node's operator",
        code="no-such-agreement",
    )


def load(conn: Connection, agreement_id: str | None = None) -> dict[str, list[Stored]]:
    """Every stored version (of one agreement, or all), oldest first, each judged."""
    q = select(
        table.c.id, table.c.version, table.c.document, table.c.state, table.c.updated_us
    ).order_by(table.c.id, table.c.version)
    if agreement_id is not None:
        q = q.where(table.c.id == agreement_id)
    grouped: dict[str, list[tuple[Agreement, int]]] = {}
    for aid, _version, document, state, updated in conn.execute(q):
        try:
            parsed = core.parse(orjson.loads(document), state)
        except InvalidAgreement as exc:  # checked on the way in; fail closed if not any more
            log.error("stored agreement %s no longer parses: %s", aid, exc)
            continue
        grouped.setdefault(aid, []).append((parsed, updated))
    registry = {p.id: p.public_keys for p in party_store.all_parties(conn)}
    out: dict[str, list[Stored]] = {}
    for aid, items in grouped.items():
        standings = versions_core.chain([a for a, _ in items], registry)
        out[aid] = [
            Stored(s.agreement, updated, s)
            for s, (_, updated) in zip(standings, items, strict=True)
        ]
    return out


def visible(versions: list[Stored], party: Party, home: Party) -> list[Stored]:
    """The versions ``party`` may read: all for the home party, else those that name it."""
    if party.id == home.id:
        return versions
    return [s for s in versions if s.agreement.includes(party.id)]


def submit(
    node: Node,
    document: Mapping[str, Any],
    *,
    submitter: Party | None = None,
    path: str = "operator",
) -> Agreement:
    """Store a draft or signed version, merging signatures into a stored copy of it.

    ``submitter`` None (or the home party) is the node's operator; a partner through ``api``
    or a peer through ``sync`` is held to the membership rules of the module docstring.
    """
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}")
    try:
        parsed = core.parse(document)
    except InvalidAgreement as exc:
        raise InvalidInput(str(exc)) from exc
    now = node.now()
    newcomers: list[Party] = []
    with node.db.write() as conn:
        everyone = party_store.all_parties(conn)
        home = next(p for p in everyone if p.is_home)
        held = load(conn, parsed.id).get(parsed.id, [])
        if submitter is not None and submitter.id != home.id:
            _may_submit(parsed, held, submitter, home, path)
        registry = {p.id: p for p in everyone}
        _check_parties(parsed, registry)
        same = [s for s in held if s.agreement.version == parsed.version]
        newest = max((s.agreement.version for s in held), default=0)
        stored_doc = dict(same[0].agreement.document) if same else None
        if stored_doc is None or core.signing_payload(stored_doc) != core.signing_payload(document):
            if newest > parsed.version:
                raise AlreadyExists(
                    f"agreement {parsed.id} has version {newest} already; "
                    f"version {parsed.version} is history"
                )
            if stored_doc is not None:
                raise AlreadyExists(
                    f"{parsed.ref} exists with different content; a change needs a new version"
                )
        if stored_doc is not None:
            signatures = {s["party"]: s for s in stored_doc.get("signatures", ())}
            signatures.update({s["party"]: s for s in document.get("signatures", ())})
            merged: dict[str, Any] = {**stored_doc, "signatures": list(signatures.values())}
            if merged == stored_doc:
                return same[0].agreement  # the same copy again (a peer's, say): nothing changes
        else:
            merged = dict(document)
        try:
            candidate = core.parse(merged)
        except InvalidAgreement as exc:
            raise InvalidInput(str(exc)) from exc
        base = versions_core.base_for(
            [s.agreement for s in held], parsed.version, {p.id: p.public_keys for p in everyone}
        )
        _check_unknown(candidate, base, registry)
        standing = versions_core.judge(candidate, base, {p.id: p.public_keys for p in everyone})
        _check_signatures(candidate, base, standing)
        if same:
            state = same[0].agreement.state
            if state == "draft" and standing.accepted:
                state = "active"
            conn.execute(
                update(table)
                .where(table.c.id == parsed.id, table.c.version == parsed.version)
                .values(document=orjson.dumps(merged).decode(), state=state, updated_us=now)
            )
        else:
            conn.execute(
                insert(table).values(
                    id=parsed.id,
                    version=parsed.version,
                    document=orjson.dumps(merged).decode(),
                    state="active" if standing.accepted else "draft",
                    updated_us=now,
                )
            )
        if standing.accepted:
            # An accession the existing parties signed: its new parties enter with their keys.
            for ap in standing.newcomers:
                party = Party(
                    id=ap.id,
                    name=ap.name,
                    jurisdiction=ap.jurisdiction,
                    kind=ap.kind,
                    scheme=ap.scheme,
                    public_keys=(ap.public_key,),
                )
                party_service.store_new(conn, party, now)
                newcomers.append(party)
        party_store.bump_generation(conn)
    for party in newcomers:
        party_service.publish_identity(node, party, now)
        log.info("party %s (%s) admitted by %s", party.name, party.id, parsed.ref)
    with node.db.read() as conn:
        final = load(conn, parsed.id)[parsed.id]
    return next(s.agreement for s in final if s.agreement.version == parsed.version)


def _may_submit(
    parsed: Agreement, held: list[Stored], submitter: Party, home: Party, path: str
) -> None:
    """A partner or peer adds only to agreements it is in (the same answer otherwise)."""
    member = any(s.agreement.includes(submitter.id) for s in held)
    if path == "api" and not member:
        raise not_found(parsed.id)
    if path == "sync":
        if held and not member:
            raise Forbidden(f"{submitter.name} is not a party to agreement {parsed.id}")
        if not parsed.includes(home.id):
            raise Forbidden(f"{parsed.ref} does not name {home.name}; it is not for this node")


def _check_parties(parsed: Agreement, registry: Mapping[str, Party]) -> None:
    """Names that look like another party's are refused; a known party keeps its known keys."""
    for ap in parsed.parties:
        party_service.checked_name(ap.name, registry.values(), ap.id)
        party = registry.get(ap.id)
        if party is not None and ap.public_key not in party.public_keys:
            raise Forbidden(
                f"the agreement lists a key for {party.name} that this node does not know for it"
            )
    for i, ap in enumerate(parsed.parties):
        twin = next((p for p in parsed.parties[i + 1 :] if alike(ap.name, p.name)), None)
        if twin is not None:
            raise InvalidInput(
                f"the agreement names two parties whose names look alike: {ap.name!r} "
                f"({ap.id}) and {twin.name!r} ({twin.id})",
                code="party-name-look-alike",
            )


def _check_unknown(
    candidate: Agreement, base: Agreement | None, registry: Mapping[str, Party]
) -> None:
    """A party nobody vouches for is refused: without a version to replace, it must be known."""
    if base is not None:
        return  # an accession: its new parties wait for the existing parties' signatures
    unknown = [p for p in candidate.parties if p.id not in registry]
    if unknown:
        names = ", ".join(f"{p.name} ({p.id})" for p in unknown)
        raise InvalidInput(
            f"{candidate.ref} names parties this node does not know: {names}. The node's "
            "operator adds a party first (`kizuna party add NAME --id ID --public-key KEY`); "
            "an agreement never registers one",
            code="unknown-party",
        )


def _check_signatures(candidate: Agreement, base: Agreement | None, standing: Standing) -> None:
    """Every signature is a party's of this version or of the one it replaces, and verifies."""
    allowed = candidate.party_ids | (base.party_ids if base is not None else frozenset())
    for s in candidate.signatures:
        if s.party not in allowed:
            raise InvalidInput(
                f"{candidate.ref} carries a signature of {s.party}, which is a party neither "
                "to it nor to the version it replaces"
            )
        if s.party not in candidate.party_ids and s.party not in standing.agreement.signed_by:
            raise InvalidInput(
                f"signature of {s.party} does not verify with a key this node trusts for it"
            )
