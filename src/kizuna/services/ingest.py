"""Ingest: the one path by which objects enter the store (TAXII, API, import, sync).

Atomic per object: each object is stored whole, with its handling and provenance, or reported
as failed with the reason. A batch is written in one transaction after every object has been
checked, so a crash stores either the whole batch or none of it, and the caller acknowledges
nothing it has not committed.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, true

from kizuna.core.consents import CONSENT_TYPE, InvalidConsent, parse_consent
from kizuna.core.handling import Handling
from kizuna.core.markings import WELL_KNOWN_TLP, handling_of
from kizuna.core.parties import Party
from kizuna.core.patterns import InvalidPattern, compile_pattern
from kizuna.core.protocol import PROTOCOL_TYPES, protocol_handling
from kizuna.core.seals import SEAL_TYPE, Seal
from kizuna.core.signing import canonical, digest
from kizuna.core.stix.depth import nesting_depth
from kizuna.core.stix.object_types import SCO_TYPES
from kizuna.core.stix.refs import references
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.core.stix.validate import validate
from kizuna.core.well_known import FIXED, STANDARD_EXTENSIONS, describe, same, self_certifying
from kizuna.errors import (
    Forbidden,
    InvalidStix,
    KizunaError,
    OriginatorMismatch,
    VersionConflict,
)
from kizuna.services import keys, sealing, state
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import parties as party_store
from kizuna.storage import seals as seal_store
from kizuna.storage import set_aside as set_aside_store
from kizuna.storage.schema import objects as objects_table
from kizuna.storage.schema import pending_markings

# How an object version reached the node (DESIGN.md "Storage and identity rules").
log = logging.getLogger("kizuna.ingest")

PATHS = ("taxii", "api", "import", "sync", "registry", "derived")
_PARTY_PATHS = ("taxii", "api")
# Types whose arrival changes what the gate knows (services.state reloads on the next request).
_STATE_TYPES = frozenset({CONSENT_TYPE})


@dataclass(frozen=True)
class Outcome:
    """What happened to one submitted object."""

    id: str | None
    version: str | None
    status: str  # "stored", "unchanged" or "failed"
    error: KizunaError | None = None
    date_added: int | None = None
    quarantined: bool = False
    # A quarantined copy of the same version was set aside for this sealed one (storage.set_aside).
    replaced: bool = False

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass
class _Checked:
    index: int
    obj: dict[str, Any]
    new: store.NewVersion
    unresolved: frozenset[str]


# Said of every observable a party posts, new or not, so the words never depend on what is held.
SCO_SHARED = (
    "observables are shared by value (STIX 2.1 §2.9): the node keeps one copy per id, under the"
    " markings of whoever brought it first"
)


def not_yours(object_id: str) -> OriginatorMismatch:
    """The one answer to a party posting an id it may not use, whatever the reason: its
    created_by_ref names another party, it is another party's identity, or its versions here
    are another originator's. The same words every time, so the answer never tells a party
    whether the node holds an object outside its view (DESIGN.md "Who may change the gate's
    inputs")."""
    return OriginatorMismatch(
        f"{object_id}: another party is its originator (by its created_by_ref or its id); only"
        " the originator publishes an object, and a relay needs the originator's valid seal"
        f" ({SEAL_TYPE}) in the same envelope"
    )


def _version_string(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("modified") or obj.get("created")
    return value if isinstance(value, str) else None


def _failed(index: int, obj: Any, error: KizunaError) -> tuple[int, Outcome]:
    oid = obj.get("id") if isinstance(obj, dict) else None
    version = _version_string(obj) if isinstance(obj, dict) else None
    return index, Outcome(oid if isinstance(oid, str) else None, version, "failed", error)


@dataclass(frozen=True)
class _Definition:
    """A marking-definition as held: its content, its source of record, and whether it may
    govern anything at all (not quarantined)."""

    content: Mapping[str, Any]
    source: str
    quarantined: bool = False


class _MarkingResolver:
    """Finds the marking-definition that governs an object of a given source of record.

    A well-known definition is the node's fixed copy (``core.well_known``); TLP is read by id
    alone. Any other definition, from this batch first, then the store (cached per node),
    governs an object only with authority over it (DESIGN.md "Who may change the gate's
    inputs"): it comes from the object's own source of record or from the home party, or its
    id is derived from its content. A definition from anyone else, or a quarantined one, is
    that party's claim: stored, shown at home, and it changes nothing of another's object.
    A miss is remembered for this transaction only, since a definition may arrive later.
    """

    def __init__(self, node: Node, conn: Connection, batch: Mapping[str, _Definition]):
        self.home = node.home_party.id
        self.conn = conn
        self.batch = batch
        self.cache: dict[str, _Definition] = node.cache.setdefault("markings", {})
        self.missing: set[str] = set()

    def for_source(self, source: str) -> Callable[[str], Mapping[str, Any] | None]:
        return lambda marking_id: self.lookup(marking_id, source)

    def lookup(self, marking_id: str, source: str) -> Mapping[str, Any] | None:
        fixed = FIXED.get(marking_id)
        if fixed is not None:
            return fixed
        found = self._find(marking_id)
        if found is None or found.quarantined:
            return None
        if found.source in (source, self.home) or self_certifying(found.content):
            return found.content
        return None

    def _find(self, marking_id: str) -> _Definition | None:
        if marking_id in self.batch:
            return self.batch[marking_id]
        if marking_id in self.cache:
            return self.cache[marking_id]
        if marking_id in WELL_KNOWN_TLP or marking_id in self.missing:
            return None
        row = store.latest(self.conn, [marking_id]).get(marking_id)
        if row is None:
            self.missing.add(marking_id)
            return None
        quarantined = Handling.from_json(row.handling).quarantine is not None
        found = self.cache[marking_id] = _Definition(
            orjson.loads(row.content), row.source, quarantined
        )
        return found


class _HandlingMemo:
    """An object's handling as stored (JSON) and its unresolved markings, once per marking set
    and source of record.

    Within one write transaction the resolver always gives the same answer, and an object
    without granular markings has a handling that depends on its ``object_marking_refs`` and
    source alone, so a batch of like-marked objects computes it once.
    """

    def __init__(self, resolve: _MarkingResolver) -> None:
        self.resolve = resolve
        self.known: dict[tuple[str, tuple[str, ...]], tuple[str, frozenset[str]]] = {}

    def __call__(self, obj: Mapping[str, Any], source: str) -> tuple[str, frozenset[str]]:
        refs = obj.get("object_marking_refs")
        if obj.get("granular_markings") or not (refs is None or isinstance(refs, list)):
            return self._compute(obj, source)
        key = (source, tuple(refs or ()))
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self._compute(obj, source)
        return found

    def _compute(self, obj: Mapping[str, Any], source: str) -> tuple[str, frozenset[str]]:
        handling = handling_of(obj, self.resolve.for_source(source))
        unresolved = frozenset(m for m in handling.unresolved if m.startswith("marking-"))
        for _, part in handling.granular:
            unresolved |= {m for m in part.unresolved if m.startswith("marking-")}
        return handling.to_json().decode(), unresolved


def ingest(
    node: Node,
    objects: Sequence[Any],
    *,
    submitter: Party,
    path: str,
    record: Callable[[Connection, list[Outcome]], None] | None = None,
    correlate: bool = True,
) -> list[Outcome]:
    """Check and store a batch of objects; one outcome per object, in order.

    ``record`` runs in the same transaction with the outcomes (the TAXII status resource), so
    what is acknowledged and what is stored commit together. ``correlate=False`` is for a
    caller that matched the observations itself and records their sightings (``kizuna match``).
    """
    if path not in PATHS:
        raise ValueError(f"unknown ingest path {path!r}")
    parties = state.current(node).parties
    home = node.home_party.id
    results: dict[int, Outcome] = {}
    # A party's new key, announced with its old key's signature, counts for the seals after it.
    learned, bad_rotations = keys.accept_rotations(node, objects, parties)
    if learned:
        parties = state.current(node).parties
    too_deep = _too_deep(objects, node.settings()["max_object_depth"])
    # A too deep object is seen by nothing below: each layer would have to walk it.
    shallow = [None if i in too_deep else obj for i, obj in enumerate(objects)]
    screened = sealing.screen(node, shallow, submitter, path, parties)
    candidates: list[tuple[int, dict[str, Any], str, int, bytes, str]] = []
    for index, obj in enumerate(objects):
        if index in screened.seals:
            continue  # seals are kept beside what they seal, below
        try:
            if index in too_deep:
                raise too_deep[index]
            if index in bad_rotations:
                raise bad_rotations[index]
            relayed = index in screened.relayed
            candidates.append((index, obj, *_prepare(obj, submitter, path, parties, relayed)))
        except KizunaError as exc:
            i, outcome = _failed(index, obj, exc)
            results[i] = outcome
    batch_markings = {
        obj["id"]: _Definition(obj, source, index in screened.quarantine)
        for index, obj, source, *_ in candidates
        if obj.get("type") == "marking-definition"
    }
    with node.db.write() as conn:
        handling_for = _HandlingMemo(_MarkingResolver(node, conn, batch_markings))
        checked: list[_Checked] = []
        for index, obj, source, modified, content, dig in candidates:
            handling_json, unresolved = handling_for(obj, source)
            quarantine = screened.quarantine.get(index)
            if quarantine is not None or obj["type"] in PROTOCOL_TYPES:
                handling_json = _special(obj, handling_json, quarantine)
            first_hop = path != "sync" and (source == submitter.id or source == home)
            new = store.NewVersion(
                id=obj["id"],
                type=obj["type"],
                modified=modified,
                spec_version=obj.get("spec_version", "2.1"),
                source=source,
                submitted_by=submitter.id,
                path=path,
                first_hop=first_hop,
                handling=handling_json,
                refs=" ".join(references(obj, authorship=False)),
                digest=dig,
                content=content,
            )
            checked.append(_Checked(index, obj, new, unresolved))
        stored = _write(node, conn, checked, results)
        _keep_seals(node.cache, conn, objects, screened, results)
        for index in screened.quarantine:
            found = results.get(index)
            if found is not None and found.status == "stored":
                results[index] = dataclasses.replace(found, quarantined=True)
        if batch_markings and stored:
            node.cache.pop("markings", None)
            party_store.bump_caches(conn)  # and in every other process
            _resolve_pending(node, conn, list(batch_markings))
        if any(c.new.type in _STATE_TYPES for c in stored):
            party_store.bump_generation(conn)
        outcomes = [results[i] for i in range(len(objects))]
        if record is not None:
            record(conn, outcomes)
    node.metrics.ingest(path, outcomes)
    # Observations a peer sends were correlated on its node (its sightings follow); those a
    # party posts here, or the home party imports, are correlated here.
    if correlate and path != "sync" and any(c.new.type == "observed-data" for c in stored):
        from kizuna.services import correlation  # correlation stores its sightings through here

        correlation.observe(node, [c.obj for c in stored] + _scos(objects, results))
    return outcomes


def _scos(objects: Sequence[Any], results: Mapping[int, Outcome]) -> list[dict[str, Any]]:
    """SCOs of the batch that are held (stored now or before): observations resolve refs to them."""
    return [
        o
        for i, o in enumerate(objects)
        if isinstance(o, dict)
        and results[i].ok
        and (o.get("type") in SCO_TYPES or "created" not in o)
    ]


def _too_deep(objects: Sequence[Any], limit: int) -> dict[int, InvalidStix]:
    """Objects nested deeper than ``max_object_depth``, each with the refusal naming the limit."""
    out: dict[int, InvalidStix] = {}
    for index, obj in enumerate(objects):
        if nesting_depth(obj, limit) > limit:
            oid = obj.get("id") if isinstance(obj, dict) else None
            name = oid if isinstance(oid, str) else f"object {index}"
            out[index] = InvalidStix(
                f"{name}: nested more than {limit} levels deep; this node takes objects nested"
                f" at most {limit} levels (setting max_object_depth)",
                code="too-deep",
            )
    return out


def _prepare(
    obj: Any, submitter: Party, path: str, parties: Mapping[str, Party], relayed: bool = False
) -> tuple[str, int, bytes, str]:
    """Validate one object and work out its source, version, bytes and digest."""
    validate(obj)
    assert isinstance(obj, dict)
    if path != "registry":
        _check_fixed(obj)
    created_by = obj.get("created_by_ref")
    if created_by in parties:
        source = str(created_by)
        if path in _PARTY_PATHS and source != submitter.id and not relayed:
            raise not_yours(obj["id"])
    else:
        source = submitter.id
    oid = obj["id"]
    if path in _PARTY_PATHS and oid in parties and oid != submitter.id and not relayed:
        raise not_yours(oid)  # a party's identity id is its own from registration on
    if obj["type"] == CONSENT_TYPE:
        _check_consent(obj, parties.get(source))
    if obj["type"] == "indicator" and obj.get("pattern_type") == "stix":
        try:
            compile_pattern(obj["pattern"], evaluable=True)
        except InvalidPattern as exc:  # refused at ingest, with the position and the reason
            raise InvalidStix(f"{obj['id']}: {exc.message}", code=exc.code) from exc
    stamp = obj.get("modified") or obj.get("created")
    try:
        modified = parse_timestamp(stamp) if isinstance(stamp, str) else 0
    except ValueError as exc:  # on an SCO the validator does not check these (STIX §6)
        raise InvalidStix(f"{obj['id']}: its version timestamp {stamp!r}: {exc}") from exc
    try:
        dig = digest(canonical(obj))
    except ValueError as exc:
        raise InvalidStix(f"{obj['id']}: {exc}") from exc
    return source, modified, orjson.dumps(obj), dig


@functools.cache
def _published() -> dict[str, dict[str, Any]]:
    """kizuna's own published objects (its extension-definitions), which every node registers
    at init: fixed by the node like the well-known definitions."""
    data = (resources.files("kizuna") / "data" / "extension-definitions.json").read_bytes()
    return {o["id"]: o for o in orjson.loads(data)["objects"]}


def _check_fixed(obj: Mapping[str, Any]) -> None:
    """Refuse a posted object that would redefine a well-known definition (``core.well_known``)
    or one kizuna publishes; an exact copy of the node's own passes."""
    oid = str(obj["id"])
    fixed = FIXED.get(oid) or _published().get(oid)
    if fixed is not None and not same(obj, fixed):
        raise Forbidden(
            f"{oid} is {describe(fixed)}, a well-known definition fixed by this node: it cannot"
            " be redefined, and a copy must say exactly what the node's own says",
            code="fixed-definition",
        )
    if oid in STANDARD_EXTENSIONS:
        raise Forbidden(
            f"{oid} is {STANDARD_EXTENSIONS[oid]}, fixed by its standard: this node takes no"
            " copy of it from anyone",
            code="fixed-definition",
        )


def _special(obj: Mapping[str, Any], handling_json: str, quarantine: str | None) -> str:
    """Handling beyond markings: federation messages go to their addressees only (core.protocol);
    an object from a peer without its originator's valid seal is quarantined."""
    handling = protocol_handling(obj, Handling.from_json(handling_json))
    if quarantine is not None:
        handling = dataclasses.replace(handling, quarantine=quarantine)
    return handling.to_json().decode()


def _keep_seals(
    node_cache: dict[str, Any],
    conn: Connection,
    objects: Sequence[Any],
    screened: sealing.Screened,
    results: dict[int, Outcome],
) -> None:
    """Store the seals that verified; a seal whose object was not in the batch is checked
    against the stored version; report each seal object like any other object."""
    valid = {(s.object_id, s.version, s.signer) for s in screened.valid}
    late = [
        s
        for s in screened.seals.values()
        if isinstance(s, Seal) and (s.object_id, s.version, s.signer) not in valid
    ]
    accepted = list(screened.valid) + sealing.check_late(conn, late)
    new = seal_store.add(conn, accepted)
    if new:
        node_cache.pop("seal_bytes", None)  # seals known to be missing may be here now
        party_store.bump_caches(conn)  # in every process
    kept = {(s.object_id, s.version, s.signer) for s in accepted}
    for index, s in screened.seals.items():
        obj = objects[index]
        if isinstance(s, KizunaError):
            results[index] = _failed(index, obj, s)[1]
        elif (s.object_id, s.version, s.signer) in kept:
            status = "stored" if (s.object_id, s.version, s.signer) in new else "unchanged"
            results[index] = Outcome(s.id, s.created, status)
        else:
            error = InvalidStix(f"{s.id}: it seals no version this node holds, or does not verify")
            results[index] = Outcome(s.id, s.created, "failed", error)


def _check_consent(obj: dict[str, Any], originator: Party | None) -> None:
    """A consent is stored only with its originator's valid signature (rule 6 relies on it)."""
    if originator is None:
        raise InvalidStix(f"{obj['id']}: a consent's created_by_ref must name a known party")
    try:
        parse_consent(obj, originator.public_keys)
    except InvalidConsent as exc:
        raise InvalidStix(str(exc)) from exc


def _write(
    node: Node, conn: Connection, checked: list[_Checked], results: dict[int, Outcome]
) -> list[_Checked]:
    """Sort checked objects into stored, unchanged and conflicting; insert the new ones."""
    existing = store.existing_versions(conn, (c.new.id for c in checked))
    fresh: list[_Checked] = []
    seen: dict[tuple[str, int], str] = {}
    replaced: list[int] = []
    for c in checked:
        key = (c.new.id, c.new.modified)
        version = _version_string(c.obj)
        if c.new.path in _PARTY_PATHS:
            # A party learns nothing of versions outside its view: not that they exist, not
            # whether its content matches. An observable (STIX §2.9: its id is its value) that
            # the node holds already, from anyone, is answered as stored, as if it were new:
            # the node keeps one copy per id, under its first holder's markings (SCO_SHARED).
            known = existing.get(c.new.id, ())
            if c.new.type in SCO_TYPES and (
                key in seen or any(v.modified == c.new.modified for v in known)
            ):
                results[c.index] = Outcome(c.new.id, version, "stored")
                continue
            if any(v.source != c.new.source for v in known):
                results[c.index] = Outcome(c.new.id, version, "failed", not_yours(c.new.id))
                continue
        prior = seen.get(key)
        if prior is None:
            prior = next(
                (v.digest for v in existing.get(c.new.id, ()) if v.modified == c.new.modified),
                None,
            )
        if (
            prior is not None
            and prior != c.new.digest
            and key not in seen
            and _replaces_quarantined(node, conn, c, existing)
        ):
            prior = None
            replaced.append(c.index)
        if prior is not None:
            if prior == c.new.digest:
                results[c.index] = Outcome(c.new.id, version, "unchanged")
            else:
                shown = version or format_timestamp(c.new.modified)
                results[c.index] = Outcome(
                    c.new.id,
                    version,
                    "failed",
                    VersionConflict(
                        f"{c.new.id} version {shown} is already stored with different content;"
                        " a changed object needs a new modified timestamp"
                    ),
                )
            continue
        owners = {v.source for v in existing.get(c.new.id, ())}
        if owners and c.new.source not in owners:
            results[c.index] = Outcome(
                c.new.id,
                version,
                "failed",
                OriginatorMismatch(
                    f"{c.new.id}: only its originator may publish new versions of this object"
                ),
            )
            continue
        seen[key] = c.new.digest
        fresh.append(c)
    if not fresh:
        return fresh
    rows, flag_changes = _with_flags(fresh, existing)
    dates = store.insert_versions(conn, rows, node.now())
    store.set_flags(conn, flag_changes)
    pending = [
        {"marking_id": m, "date_added": d}
        for c, d in zip(fresh, dates, strict=True)
        for m in c.unresolved
    ]
    if pending:
        conn.execute(insert(pending_markings), pending)
    for c, d in zip(fresh, dates, strict=True):
        results[c.index] = Outcome(
            c.new.id, _version_string(c.obj), "stored", None, d, replaced=c.index in replaced
        )
    return fresh


_HELD_COPY = select(
    objects_table.c.date_added,
    objects_table.c.digest,
    objects_table.c.handling,
    objects_table.c.submitted_by,
    objects_table.c.path,
    objects_table.c.content,
).where(objects_table.c.id == bindparam("id"), objects_table.c.modified == bindparam("m"))


def _replaces_quarantined(
    node: Node, conn: Connection, c: _Checked, existing: dict[str, list[store.VersionKey]]
) -> bool:
    """Whether ``c``, a copy whose originator's seal verified, replaces a quarantined copy of
    the same version with other content; if so the quarantined copy is set aside (kept for the
    operator, never released) and removed from the store, and the operator is told.

    A quarantined copy never blocks the genuine one: a path that tampered once would otherwise
    keep the version out of this node, and out of every node that pulls from it, for good.
    """
    if Handling.from_json(c.new.handling).quarantine is not None:
        return False  # a copy without a valid seal never replaces anything
    row = conn.execute(_HELD_COPY, {"id": c.new.id, "m": c.new.modified}).first()
    if row is None:
        return False
    reason = Handling.from_json(row.handling).quarantine
    if reason is None:
        return False  # the held copy is the sealed one: the new copy is a conflict
    set_aside_store.put(
        conn,
        set_aside_store.SetAside(
            id=c.new.id,
            modified=c.new.modified,
            digest=row.digest,
            submitted_by=row.submitted_by,
            path=row.path,
            reason=reason,
            content=bytes(row.content),
            set_aside_us=node.now(),
            replaced_by=c.new.submitted_by,
        ),
    )
    store.delete_versions(conn, [int(row.date_added)])
    existing[c.new.id] = [v for v in existing.get(c.new.id, ()) if v.modified != c.new.modified]
    log.warning(
        "set aside a quarantined copy of %s (%s); the sealed copy from %s replaces it",
        c.new.id,
        reason,
        c.new.submitted_by,
    )
    return True


# A version's place among its object's versions: (modified, unique order, date_added or None).
_Order = tuple[int, int, int | None]


def _with_flags(
    fresh: list[_Checked], existing: Mapping[str, list[store.VersionKey]]
) -> tuple[list[store.NewVersion], list[tuple[int, bool, bool]]]:
    """Set is_latest/is_first on the new rows; list the existing rows whose flags change."""
    by_id: dict[str, list[_Order]] = {
        oid: [(v.modified, v.date_added, v.date_added) for v in known]
        for oid, known in existing.items()
    }
    big = 1 << 62
    for n, c in enumerate(fresh):
        by_id.setdefault(c.new.id, []).append((c.new.modified, big + n, None))
    rows = []
    for n, c in enumerate(fresh):
        orders = by_id[c.new.id]
        if len(orders) == 1:
            rows.append(c.new)  # its only version: latest and first, as NewVersion defaults
            continue
        me: _Order = (c.new.modified, big + n, None)
        rows.append(
            dataclasses.replace(c.new, is_latest=max(orders) == me, is_first=min(orders) == me)
        )
    changes = []
    for oid, known in existing.items():
        orders = by_id[oid]
        latest, first = max(orders), min(orders)
        for v in known:
            me = (v.modified, v.date_added, v.date_added)
            is_latest, is_first = latest == me, first == me
            if (is_latest, is_first) != (v.is_latest, v.is_first):
                changes.append((v.date_added, is_latest, is_first))
    return rows, changes


def _resolve_pending(node: Node, conn: Connection, marking_ids: list[str]) -> None:
    """Recompute the handling of versions that waited for these marking-definitions."""
    waiting = conn.execute(
        select(pending_markings.c.date_added)
        .where(pending_markings.c.marking_id.in_(marking_ids))
        .distinct()
    ).scalars()
    dates = list(waiting)
    if not dates:
        return
    resolve = _MarkingResolver(node, conn, {})
    t = objects_table.c
    rows = conn.execute(
        select(t.date_added, t.content, t.handling, t.source).where(t.date_added.in_(dates))
    ).all()
    for date_added, content, stored_handling, source in rows:
        obj = orjson.loads(content)
        # Only a definition with authority over this object resolves it (``_MarkingResolver``).
        handling: Handling = protocol_handling(obj, handling_of(obj, resolve.for_source(source)))
        quarantine = Handling.from_json(stored_handling).quarantine
        if quarantine is not None:
            handling = dataclasses.replace(handling, quarantine=quarantine)
        store.set_handling(conn, [(date_added, handling.to_json().decode())])
        still = {m for m in handling.unresolved if m.startswith("marking-")}
        conn.execute(
            delete(pending_markings).where(
                pending_markings.c.date_added == date_added,
                pending_markings.c.marking_id.not_in(still) if still else true(),
            )
        )
