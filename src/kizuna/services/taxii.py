"""TAXII 2.1 use cases: collections, paging through the gate, manifest, versions, add, delete."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from kizuna.core import taxii
from kizuna.core.parties import Party
from kizuna.core.policy import Decision
from kizuna.core.seals import SEAL_TYPE
from kizuna.core.stix.object_types import SCO_TYPES
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import COLLECTIONS, INBOX, MEDIA_STIX, Collection, Filters, Query
from kizuna.errors import Forbidden, InvalidJson, NotFound
from kizuna.services import gate, ingest, release_times, view
from kizuna.services.node import Node
from kizuna.storage import ledger as ledger_store
from kizuna.storage import objects as store
from kizuna.storage import statuses as status_store
from kizuna.storage.database import retrying
from kizuna.storage.objects import StoredVersion

# Rows read per scan when most of a collection is withheld from the caller: grows to this.
_MAX_SCAN = 5000
_STATUS_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def collection(collection_id: str) -> Collection:
    """A collection by id; NotFound otherwise."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(f"there is no collection {collection_id!r}; GET collections/ lists them")
    return found


def scoped(caller: Party, coll: Collection, filters: Filters) -> Filters:
    """Restrict filters to what a collection holds for this caller."""
    if coll.id == INBOX:
        return dataclasses.replace(filters, sources=(caller.id,))
    return filters


@dataclass(frozen=True)
class Page:
    """One page of released objects, truthful about whether more exist."""

    releases: list[gate.Release]
    more: bool
    next: str | None

    @property
    def first_added(self) -> int | None:
        return self.releases[0].version.date_added if self.releases else None

    @property
    def last_added(self) -> int | None:
        return self.releases[-1].version.date_added if self.releases else None


def page(
    node: Node, caller: Party, filters: Filters, query: Query, *, content: bool = True
) -> Page:
    """Up to ``limit`` objects released to the caller, in ``date_added`` order.

    The gate filters before the limit applies (DESIGN.md), and the scan goes on past a full
    page until it finds one more releasable object, so ``more`` is never a guess; ``next``
    then points just before that object, so no withheld row is read twice. Without
    ``content`` (manifest, versions) nothing leaves but ids and versions: no seals, no ledger.
    """
    # Releases that time started (an embargo ended) re-enter the feed first.
    release_times.release_due(node)
    ctx = gate.context(node)
    chosen: list[tuple[StoredVersion, Decision]] = []
    position = query.after
    more = False
    resume: int | None = None
    # Toward another party each object travels with its seal, unless the filters ask for
    # objects a seal is not (a type or ids) or the page has room for one object only. The
    # manifest pages alike (listing the objects, not their seals), so its pages match.
    sealed = (
        caller.id != node.home_party.id
        and query.limit > 1
        and not filters.ids
        and (not filters.types or SEAL_TYPE in filters.types)
    )
    wanted = query.limit // 2 if sealed else query.limit
    batch = wanted + 1
    with node.db.read() as conn:
        # Versions of keys withheld whole from the caller are not read (services.view).
        scope = view.scope(node, conn, caller, ctx, filters, position)
        while True:
            if scope is None:
                rows = store.scan(conn, filters, position, batch)
            else:
                rows = store.scan_keys(
                    conn,
                    filters,
                    position,
                    batch,
                    keys=scope.keys,
                    ceiling=scope.ceiling,
                    named=scope.named,
                    closed=scope.closed,
                )
            withheld: list[tuple[StoredVersion, Decision]] = []
            released_here = 0
            for v, decision in gate.judge(node, caller, rows, ctx):
                if decision.released:
                    if len(chosen) == wanted:
                        more, resume = True, v.date_added - 1
                        break
                    chosen.append((v, decision))
                    released_here += 1
                else:
                    withheld.append((v, decision))
                position = v.date_added
            # Withholding is a gate decision too: count it (gate.release counts its releases).
            node.metrics.gate([], withheld)
            if more or len(rows) < batch:
                break
            # Read next about as many rows as the share released so far says the page needs.
            share = max(released_here, 1) / len(rows)
            batch = min(max(int((wanted - len(chosen) + 1) / share * 1.2), wanted + 1), _MAX_SCAN)
    versions = [v for v, _ in chosen]
    if content:
        releases = gate.release(node, caller, versions, ctx, decided=chosen, sealed=sealed).released
    else:
        releases = gate.describe(node, chosen)
    return Page(releases, more, taxii.encode_cursor(resume) if resume is not None else None)


def objects_envelope(p: Page) -> bytes:
    """The TAXII envelope, assembled from the released bytes."""
    head = b'{"more":' + (b"true" if p.more else b"false")
    if p.next:
        head += b',"next":' + orjson.dumps(p.next)
    if not p.releases:
        return head + b"}"
    return head + b',"objects":[' + b",".join(_with_seals(p.releases)) + b"]}"


def _with_seals(releases: Sequence[gate.Release]) -> list[bytes]:
    out: list[bytes] = []
    for r in releases:
        out.append(r.content)
        if r.seal is not None:
            out.append(r.seal)
    return out


def _version_of(r: gate.Release) -> str:
    return format_timestamp(r.version.modified) if r.version.modified else format_timestamp(0)


def manifest(p: Page) -> dict[str, Any]:
    """The manifest resource of a page."""
    out: dict[str, Any] = {"more": p.more}
    if p.next:
        out["next"] = p.next
    if p.releases:
        out["objects"] = [
            {
                "id": r.id,
                "date_added": taxii.taxii_timestamp(r.version.date_added),
                "version": _version_of(r),
                "media_type": MEDIA_STIX,
            }
            for r in p.releases
        ]
    return out


def versions(p: Page) -> dict[str, Any]:
    """The versions resource of a page."""
    out: dict[str, Any] = {"more": p.more}
    if p.next:
        out["next"] = p.next
    if p.releases:
        out["versions"] = [_version_of(r) for r in p.releases]
    return out


def object_filters(node: Node, caller: Party, object_id: str, filters: Filters) -> Filters:
    """Filters for one object's endpoints; a derivative's id maps to the original it came from."""
    _require_id(object_id)
    with node.db.read() as conn:
        held = store.latest(conn, [object_id])
        if not held:
            original = ledger_store.original_of(conn, object_id)
            if original is not None:
                object_id = original[0]
    return dataclasses.replace(filters, ids=(object_id,))


def _require_id(object_id: str) -> None:
    # No object has an id of another shape; and PostgreSQL cannot compare text holding NUL.
    if not taxii.looks_like_id(object_id):
        raise NotFound(f"there is no object {object_id!r}: that is not a STIX identifier")


def add_objects(node: Node, caller: Party, coll: Collection, body: bytes) -> dict[str, Any]:
    """POST objects: ingest the envelope and return the (complete) status resource."""
    if not coll.can_write:
        raise Forbidden(f"collection {coll.title!r} is read-only; post to the inbox collection")
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"the request body is not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise InvalidJson("the request body must be a TAXII envelope (a JSON object)")
    objects = envelope.get("objects", [])
    if not isinstance(objects, list):
        raise InvalidJson('the envelope\'s "objects" must be a list')
    now = node.now()
    status_id = str(uuid.uuid4())
    status: dict[str, Any] = {}

    def record(conn: Connection, outcomes: list[ingest.Outcome]) -> None:
        # In the objects' own transaction: one commit, and no status without its objects.
        successes, failures = [], []
        for o in outcomes:
            entry: dict[str, Any] = {"id": o.id or "", "version": o.version or ""}
            if o.ok:
                if o.id and o.id.split("--", 1)[0] in SCO_TYPES:
                    entry["message"] = ingest.SCO_SHARED
                elif o.status == "unchanged":
                    entry["message"] = "already stored with the same content"
                successes.append(entry)
            else:
                entry["message"] = str(o.error)
                failures.append(entry)
        status.update(taxii.status_resource(status_id, now, successes, failures))
        status_store.add(conn, status_id, caller.id, now, orjson.dumps(status))
        _expire_statuses(node, conn, now)

    # All or nothing, so a transaction a concurrent writer made fail is simply run again.
    retrying(lambda: ingest.ingest(node, objects, submitter=caller, path="taxii", record=record))
    return status


# Expired status resources are deleted on a write at most this often (microseconds).
_EXPIRE_EVERY_US = 60_000_000


def _expire_statuses(node: Node, conn: Connection, now: int) -> None:
    """Delete status resources past ``status_lifetime`` (they answer 404 from then on anyway)."""
    last = node.cache.get("statuses_expired_at")
    if last is not None and now - last < _EXPIRE_EVERY_US:
        return
    node.cache["statuses_expired_at"] = now
    status_store.expire(conn, now - node.settings()["status_lifetime"] * 1_000_000)


def status(node: Node, caller: Party, status_id: str) -> bytes:
    """A status resource the caller created."""
    if not _STATUS_ID.fullmatch(status_id):  # status ids are UUIDs (see add_objects)
        raise NotFound(f"there is no status {status_id!r} for you")
    lifetime_us = node.settings()["status_lifetime"] * 1_000_000
    with node.db.read() as conn:
        document = status_store.get(conn, status_id, caller.id, node.now() - lifetime_us)
    if document is None:
        raise NotFound(f"there is no status {status_id!r} for you")
    return document


def delete_object(
    node: Node, caller: Party, coll: Collection, object_id: str, filters: Filters
) -> int:
    """DELETE an object's versions: the home party any, a party only its own in its inbox."""
    is_home = caller.id == node.home_party.id
    if not is_home and coll.id != INBOX:
        raise Forbidden("parties delete their own objects through the inbox collection")
    _require_id(object_id)
    wanted = dataclasses.replace(filters, ids=(object_id,))
    if not is_home:
        wanted = dataclasses.replace(wanted, sources=(caller.id,))
    with node.db.write() as conn:
        rows = store.scan(conn, wanted, None, 1_000_000)
        if not rows:
            raise NotFound(f"no version of {object_id} matches for you in this collection")
        return store.delete_versions(conn, [r.date_added for r in rows])
