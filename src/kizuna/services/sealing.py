"""Seals on the way out (attach the seal that travels with each release) and on the way in
(check that each object from a peer, or relayed by a party, carries its originator's seal)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, select

from kizuna.core import seals as core
from kizuna.core.handling import Handling
from kizuna.core.parties import Party
from kizuna.core.redaction import DERIVATIVE_EXTENSION
from kizuna.core.seals import SEAL_TYPE, InvalidSeal, Seal
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.errors import InvalidStix, KizunaError
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import parties as party_store
from kizuna.storage import seals as seal_store
from kizuna.storage import set_aside as set_aside_store
from kizuna.storage.schema import objects as objects_table

if TYPE_CHECKING:
    from kizuna.services.gate import Release as ReleaseT


_SEALS_KEPT = 200_000
_NO_SEAL = b""


def _key(s: Seal) -> tuple[str, int]:
    return s.object_id, parse_timestamp(s.version) if s.version else 0


def attach(node: Node, releases: Sequence[ReleaseT]) -> tuple[list[ReleaseT], list[Seal]]:
    """Give each release the seal that travels with it; returns the seals made just now.

    An original travels with its originator's seal; this node seals what its home party
    originates (and what it imported as source of record) and every derivative it makes, and
    seals what a party sent it under a creator that is no party as *received from* that party,
    never as its own. Objects of other parties that arrived unsealed travel unsealed: a
    receiving node quarantines them, which is the point.
    """
    from kizuna.services.gate import Release  # the gate calls us: import at call time

    home = node.home_party.id
    # A seal never changes once made: keep recent ones as bytes, so repeated reads skip the store.
    known: dict[tuple[str, int, str], bytes] = node.cache.setdefault("seal_bytes", {})
    if len(known) > _SEALS_KEPT:
        known.clear()
    signers = [_signer(r, home) for r in releases]
    wanted = [
        (r.id, r.version.modified, signer) for r, (signer, _) in zip(releases, signers, strict=True)
    ]
    missing = [(oid, m) for oid, m, signer in wanted if (oid, m, signer) not in known]
    stored: dict[tuple[str, int], list[Seal]] = {}
    if missing:
        with node.db.read() as conn:
            stored = seal_store.find(conn, missing)
    out: list[ReleaseT] = []
    made: list[Seal] = []
    for r, key, (_, received_from) in zip(releases, wanted, signers, strict=True):
        seal_bytes = known.get(key)
        if seal_bytes == _NO_SEAL:
            seal_bytes = None
        elif seal_bytes is None:
            oid, modified, signer = key
            found = next(
                (
                    s
                    for s in stored.get((oid, modified), ())
                    if s.signer == signer and s.received_from == received_from
                ),
                None,
            )
            if found is None and signer == home:
                obj = orjson.loads(r.content)
                created = core.version_of(obj) or format_timestamp(r.version.date_added)
                # A derivative's seal carries no digest of its original: that is computed
                # from what was withheld from the recipient (the ledger keeps it for audit).
                found = core.seal(obj, home, node.private_key, created, None, received_from)
                made.append(found)
            if found is not None:
                seal_bytes = known[key] = orjson.dumps(found.to_stix())
            else:
                known[key] = _NO_SEAL  # until a seal is stored (ingest forgets these then)
        out.append(Release(r.version, r.decision, r.id, r.content, r.digest, seal_bytes))
    return out, made


def _signer(r: ReleaseT, home: str) -> tuple[str, str | None]:
    """Who seals a release, and whom the sealer says it received it from.

    The originator named in ``created_by_ref``; this node for what it derived, originated or
    imported; and this node, as received from the party that sent it, for an object that names
    no party as its creator (a party's post under a vendor's identity, a relayed feed object):
    the receiving node cannot know the source of record of such an object and expects the
    seal of the node that sent it (``screen``), which must not pass it off as its own."""
    source = r.version.source
    if r.derived or source == home:
        return home, None
    if orjson.loads(r.content).get("created_by_ref") == source:
        return source, None
    return home, source


@dataclass
class Screened:
    """What trust on receipt found in a batch, by position in the batch."""

    seals: dict[int, Seal | KizunaError] = field(default_factory=dict)
    quarantine: dict[int, str] = field(default_factory=dict)
    relayed: set[int] = field(default_factory=set)
    valid: list[Seal] = field(default_factory=list)


def screen(
    node: Node,
    objects: Sequence[Any],
    submitter: Party,
    path: str,
    parties: Mapping[str, Party],
) -> Screened:
    """Check the seals in a batch against the objects they seal.

    From a peer (``sync``) every object needs its originator's seal, or, for a derivative, the
    seal of the peer that derived it; one without is quarantined with the reason. From a party
    (TAXII, API) an object naming another party as its creator is a relay, accepted only with
    that party's valid seal.
    """
    out = Screened()
    by_version: dict[tuple[str, str], list[tuple[int, Seal]]] = {}
    for i, obj in enumerate(objects):
        if isinstance(obj, dict) and obj.get("type") == SEAL_TYPE:
            try:
                s = core.parse(obj)
            except InvalidSeal as exc:
                out.seals[i] = InvalidStix(str(exc))
                continue
            out.seals[i] = s
            by_version.setdefault((s.object_id, s.version), []).append((i, s))
    for i, obj in enumerate(objects):
        if i in out.seals or not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            continue
        creator = obj.get("created_by_ref")
        if creator is not None and not isinstance(creator, str):
            continue  # not an id: the validator refuses the object with the reason
        # (No creator at all is checked too: such an object needs the seal of its sender.)
        relay = path in ("taxii", "api") and creator in parties and creator != submitter.id
        if path != "sync" and not relay:
            continue
        signer = _expected_signer(obj, submitter.id, parties)
        problem = _verify(obj, signer, by_version, parties, out)
        if problem is None:
            if relay:
                out.relayed.add(i)
        elif path == "sync":
            out.quarantine[i] = problem
    # A seal whose object is not in the batch is checked against the stored version later.
    return out


def _verify(
    obj: Mapping[str, Any],
    signer: str,
    by_version: Mapping[tuple[str, str], list[tuple[int, Seal]]],
    parties: Mapping[str, Party],
    out: Screened,
) -> str | None:
    candidates = [s for _, s in by_version.get((str(obj["id"]), core.version_of(obj)), ())]
    mine = [s for s in candidates if s.signer == signer]
    if not mine:
        who = parties[signer].name if signer in parties else signer
        return f"no seal of {who} came with it"
    party = parties.get(signer)
    try:
        core.verify(mine[0], obj, party.public_keys if party else ())
    except InvalidSeal as exc:
        return str(exc)
    out.valid.append(mine[0])
    return None


def check_late(conn: Connection, late: Sequence[Seal]) -> list[Seal]:
    """Seals that arrived without their object: those that verify against the stored version.

    A version quarantined for want of its seal leaves quarantine when the seal of the party
    that should have sealed it arrives after it.
    """
    if not late:
        return []
    keys = {p.id: p.public_keys for p in party_store.all_parties(conn)}
    ids = sorted({s.object_id for s in late})
    cols = (
        objects_table.c.date_added,
        objects_table.c.id,
        objects_table.c.modified,
        objects_table.c.content,
        objects_table.c.handling,
        objects_table.c.submitted_by,
    )
    rows = conn.execute(select(*cols).where(objects_table.c.id.in_(ids))).all()
    held = {(r.id, int(r.modified)): r for r in rows}
    good: list[Seal] = []
    for s in late:
        row = held.get(_key(s))
        if row is None:
            continue
        obj = orjson.loads(row.content)
        try:
            core.verify(s, obj, keys.get(s.signer, ()))
        except InvalidSeal:
            continue
        good.append(s)
        handling = Handling.from_json(row.handling)
        if handling.quarantine and s.signer == _expected_signer(obj, row.submitted_by, keys):
            lifted = dataclasses.replace(handling, quarantine=None).to_json().decode()
            store.set_handling(conn, [(row.date_added, lifted)])
    return good


def _expected_signer(obj: Mapping[str, Any], submitter: str, parties: Mapping[str, Any]) -> str:
    """Who must have sealed an object: its creator if that is a party, else whoever sent it;
    a derivative is sealed by the holder that derived it, which sent it."""
    creator = obj.get("created_by_ref")
    derived = DERIVATIVE_EXTENSION in (obj.get("extensions") or {})
    if derived or not isinstance(creator, str) or creator not in parties:
        return submitter
    return creator


def set_aside(node: Node, object_id: str | None = None) -> list[set_aside_store.SetAside]:
    """Quarantined copies a sealed, genuine copy replaced (ingest keeps them; never released)."""
    with node.db.read() as conn:
        return set_aside_store.listed(conn, object_id)
