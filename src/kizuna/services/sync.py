"""Sync: pull each peer's view of what it releases to us, optionally push ours to its inbox.

The cursor (the peer's ``date_added`` of the last object we hold) is saved only after the
objects are committed, so a crash repeats a page at worst, and ingest is idempotent. Peers
are synced concurrently with their own timeouts and retries, so one that is down or slow never
holds up the others. Received objects enter through ingest like any other.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from kizuna.core.seals import SEAL_TYPE
from kizuna.core.signing import canonical, digest
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.core.taxii import Filters, Query
from kizuna.errors import KizunaError
from kizuna.federation.client import PeerClient, PeerError
from kizuna.services import agreement_lifecycle, agreements, ingest, state, taxii
from kizuna.services import parties as party_service
from kizuna.services import peers as peer_service
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import peers as peer_store
from kizuna.storage import seals as seal_store
from kizuna.storage.peers import PeerRecord

log = logging.getLogger("kizuna.sync")

PAGE = 500
ATTEMPTS = 4
# Pages in a row that say ``more`` but do not move the cursor (a peer or a cache on the path
# replaying itself) before the sync of that peer gives up instead of asking forever.
STALLED_PAGES = 3

TransportFactory = Callable[[PeerRecord], httpx.AsyncBaseTransport | None]
Progress = Callable[[str, int], None]


@dataclass
class PeerResult:
    """What one sync of one peer did."""

    peer: str
    pulled: int = 0
    stored: int = 0
    quarantined: int = 0
    # Quarantined copies the sealed, genuine copy replaced (kept aside: storage.set_aside).
    replaced: int = 0
    pushed: int = 0
    agreements: int = 0
    error: str | None = None


def _no_transport(_: PeerRecord) -> httpx.AsyncBaseTransport | None:
    return None


async def sync_all(
    node: Node,
    *,
    transports: TransportFactory = _no_transport,
    progress: Progress | None = None,
    timeout: float = 30.0,
    backoff: float = 0.5,
    only: str | None = None,
) -> list[PeerResult]:
    """Sync every peer (or one) concurrently; each result says what happened."""
    records = peer_service.all_peers(node)
    if only is not None:
        records = [peer_service.find(node, only)]
    tasks = [
        sync_peer(
            node, r, transport=transports(r), progress=progress, timeout=timeout, backoff=backoff
        )
        for r in records
    ]
    return list(await asyncio.gather(*tasks))


async def sync_peer(
    node: Node,
    record: PeerRecord,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
    backoff: float = 0.5,
) -> PeerResult:
    """Pull (and push) one peer, retrying with backoff; never raises for the peer's faults."""
    name = party_service.find(node, record.party_id).name
    result = PeerResult(peer=name)
    client = PeerClient(
        record.url, peer_service.open_token(node, record), transport=transport, timeout=timeout
    )
    try:
        for attempt in range(ATTEMPTS):
            try:
                await _agreements(node, client, result, record.party_id)
                await _pull(node, record, client, result, progress)
                if record.push:
                    await _push(node, record, client, result)
                result.error = None
                break
            except PeerError as exc:
                result.error = str(exc)
                if not exc.retry or attempt == ATTEMPTS - 1:
                    break
                await asyncio.sleep(backoff * 2**attempt)
            except KizunaError as exc:
                result.error = exc.message
                break
    finally:
        await client.close()
    await asyncio.to_thread(_record_outcome, node, record.id, result)
    details = {"peer": name, **{k: v for k, v in result.__dict__.items() if k != "peer"}}
    if result.error:
        # A failed pull is the operator's business: never at info, always with peer and reason.
        details["reason"] = result.error
        log.warning("sync from %s failed: %s", name, result.error, extra=details)
    else:
        log.info("sync", extra=details)
    return result


async def _agreements(node: Node, client: PeerClient, result: PeerResult, party_id: str) -> None:
    """Fetch the peer's copies of our agreements; signatures merge, bad copies are refused.

    A copy is a submission by the peer's party like a post: it never registers a party or a key,
    and a version counts only when signed with keys this node trusts (agreement_intake.py).
    """
    peer = await asyncio.to_thread(party_service.find, node, party_id)
    for document in await client.agreements():
        try:
            if await asyncio.to_thread(_holds_already, node, document):
                continue
            await asyncio.to_thread(
                functools.partial(agreements.add, submitter=peer, path="sync"), node, document
            )
            result.agreements += 1
        except KizunaError as exc:
            log.warning("refused an agreement copy from %s: %s", result.peer, exc.message)
    # Suspensions, resumptions, terminations: each signed by the party that made it.
    for notice in await client.agreement_notices():
        try:
            if await asyncio.to_thread(
                functools.partial(agreement_lifecycle.apply, source=f"sync from {result.peer}"),
                node,
                notice,
            ):
                result.agreements += 1
        except KizunaError as exc:
            log.warning("refused a lifecycle notice from %s: %s", result.peer, exc.message)


def _holds_already(node: Node, document: dict[str, Any]) -> bool:
    """Whether this node holds the same agreement version with every signature of the copy.

    Storing a copy moves the node's policy generation on, and a moved generation makes every
    peer read this node's whole view again; a copy that adds nothing must not do that.
    """
    version = document.get("version")
    if not isinstance(document.get("id"), str) or not isinstance(version, int):
        return False
    try:
        held = agreements.get(node, document["id"], version).agreement.document
    except KizunaError:
        return False
    signed = {orjson.dumps(s, option=orjson.OPT_SORT_KEYS) for s in held.get("signatures", ())}
    return {k: v for k, v in held.items() if k != "signatures"} == {
        k: v for k, v in document.items() if k != "signatures"
    } and all(
        orjson.dumps(s, option=orjson.OPT_SORT_KEYS) in signed
        for s in document.get("signatures", ())
    )


async def _pull(
    node: Node,
    record: PeerRecord,
    client: PeerClient,
    result: PeerResult,
    progress: Progress | None,
) -> None:
    current = await asyncio.to_thread(_fresh, node, record.id)
    cursor = current.cursor
    peer_party = party_service.find(node, record.party_id)
    rescanned = False
    stalled = 0
    while True:
        after = format_timestamp(cursor) if cursor is not None else None
        page = await client.pull(after, PAGE)
        generation = page.policy_generation
        if (
            not rescanned
            and generation is not None
            and current.policy_generation is not None
            and generation > current.policy_generation
            and cursor is not None
        ):
            # The peer's agreements or consents changed: objects it held back before may be
            # released to us now, behind our cursor. Read its whole view again (idempotent).
            # Generations only grow: an older one comes from a replayed page, not a change.
            rescanned, cursor = True, None
            continue
        fresh = await asyncio.to_thread(_not_held, node, page.objects)
        outcomes = await asyncio.to_thread(
            ingest.ingest, node, fresh, submitter=peer_party, path="sync"
        )
        result.pulled += len(page.objects)
        # New objects; seals are kept beside them (and a seal seen again reports "stored").
        result.stored += sum(
            1
            for o, obj in zip(outcomes, fresh, strict=True)
            if o.status == "stored" and obj.get("type") != SEAL_TYPE
        )
        result.quarantined += sum(1 for o in outcomes if o.quarantined)
        result.replaced += sum(1 for o in outcomes if o.replaced)
        new_cursor = cursor
        if page.last_added is not None:
            try:
                seen = parse_timestamp(page.last_added)
            except ValueError as exc:
                raise PeerError(
                    f"{record.url} sent a bad X-TAXII-Date-Added-Last", retry=False
                ) from exc
            # A replayed or stale page never moves the cursor back.
            new_cursor = seen if cursor is None else max(cursor, seen)
        await asyncio.to_thread(
            _save_cursor, node, record.id, new_cursor, generation, len(page.objects)
        )
        stalled = stalled + 1 if page.more and new_cursor == cursor else 0
        cursor = new_cursor
        if progress is not None:
            progress(result.peer, len(page.objects))
        if not page.more or page.last_added is None:
            return
        if stalled >= STALLED_PAGES:
            raise PeerError(
                f"{record.url} sent {stalled} pages in a row that do not move past {after}",
                retry=False,
            )


def _not_held(node: Node, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page without the object versions this node holds already, and without the seals
    it keeps already: peers send back our own objects (the originator always receives its
    own) and relay what others sent us, so most of a page is often known. Checking and
    verifying those again would change nothing: a held version is immutable (another with the
    same id and modified is refused as a conflict), and a seal that is new for a held version
    still goes to ingest, which checks it against the stored version (and so lifts a
    quarantine that waited for it). A version held quarantined goes to ingest again: a sealed
    copy with other content replaces it (ingest sets the quarantined one aside)."""
    keys: dict[int, tuple[str, int]] = {}
    for i, obj in enumerate(objects):
        oid = obj.get("id")
        if obj.get("type") == SEAL_TYPE or not isinstance(oid, str):
            continue
        stamp = obj.get("modified") or obj.get("created")
        try:
            keys[i] = (oid, parse_timestamp(stamp) if isinstance(stamp, str) else 0)
        except ValueError:
            continue  # ingest reports it
    if not keys:
        return objects
    with node.db.read() as conn:
        existing = store.existing_versions(conn, {oid for oid, _ in keys.values()})
        held = {(oid, v.modified) for oid, versions in existing.items() for v in versions}
        sealed = seal_store.find(conn, held)
        suspect = store.quarantined_versions(conn, existing)
        digests = {(oid, v.modified): v.digest for oid, vs in existing.items() for v in vs}
    kept: list[dict[str, Any]] = []
    for i, obj in enumerate(objects):
        if i in keys:
            # A version held as a quarantined copy with other content is not held: the
            # sealed copy replaces it (ingest). With the same content, its seal lifts the
            # quarantine (below) and the object adds nothing.
            new = keys[i] not in held or (
                keys[i] in suspect and _digest_of(obj) != digests[keys[i]]
            )
        else:
            new = obj.get("type") != SEAL_TYPE or _seal_is_new(obj, held, sealed)
        if new:
            kept.append(obj)
    return kept


def _digest_of(obj: dict[str, Any]) -> str | None:
    try:
        return digest(canonical(obj))
    except ValueError:
        return None  # ingest reports it


def _seal_is_new(
    obj: dict[str, Any], held: set[tuple[str, int]], sealed: dict[tuple[str, int], list[Any]]
) -> bool:
    try:
        key = (str(obj["sealed_ref"]), parse_timestamp(str(obj["sealed_version"])))
    except (KeyError, ValueError):
        return True  # ingest reports what is wrong with it
    if key not in held:
        return True
    return all(s.signer != obj.get("created_by_ref") for s in sealed.get(key, ()))


async def _push(node: Node, record: PeerRecord, client: PeerClient, result: PeerResult) -> None:
    """POST what the gate releases to the peer's party, page by page, to its inbox."""
    party = party_service.find(node, record.party_id)
    current = await asyncio.to_thread(_fresh, node, record.id)
    position = current.push_cursor
    filters = Filters(spec_versions=("2.1",))
    while True:
        p = await asyncio.to_thread(
            taxii.page, node, party, filters, Query(filters, None, PAGE, position)
        )
        objects: list[Any] = []
        for r in p.releases:
            if r.version.source == party.id:
                continue  # its own objects: it has them
            objects.append(orjson.loads(r.content))
            if r.seal is not None:
                objects.append(orjson.loads(r.seal))
        if objects:
            status = await client.push(objects)
            failures = status.get("failures") or []
            if failures:
                log.warning("peer %s refused %d pushed objects", result.peer, len(failures))
            result.pushed += int(status.get("success_count", 0))
        if p.last_added is not None:
            position = p.last_added
            await asyncio.to_thread(_save_push, node, record.id, position, len(objects))
        if not p.more:
            return


def _fresh(node: Node, peer_id: str) -> PeerRecord:
    with node.db.read() as conn:
        found = peer_store.get(conn, peer_id)
    if found is None:
        raise KizunaError(f"peer {peer_id} was removed")
    return found


def _save_cursor(
    node: Node, peer_id: str, cursor: int | None, generation: int | None, count: int
) -> None:
    with node.db.write() as conn:
        current = peer_store.get(conn, peer_id)
        if current is None:
            return
        peer_store.set_state(
            conn,
            peer_id,
            cursor=cursor,
            policy_generation=max(
                (g for g in (generation, current.policy_generation) if g is not None),
                default=None,
            ),
            pulled=current.pulled + count,
        )


def _save_push(node: Node, peer_id: str, position: int, count: int) -> None:
    with node.db.write() as conn:
        current = peer_store.get(conn, peer_id)
        if current is not None:
            peer_store.set_state(conn, peer_id, push_cursor=position, pushed=current.pushed + count)


def _record_outcome(node: Node, peer_id: str, result: PeerResult) -> None:
    now = node.now()
    with node.db.write() as conn:
        current = peer_store.get(conn, peer_id)
        if current is None:
            return
        if result.error is None:
            peer_store.set_state(
                conn, peer_id, last_sync_us=now, last_ok_us=now, last_error=None, failures=0
            )
        else:
            peer_store.set_state(
                conn,
                peer_id,
                last_sync_us=now,
                last_error=result.error,
                failures=current.failures + 1,
            )


def generation(node: Node) -> int:
    """This node's policy generation, which peers watch to know when to read everything again."""
    return state.current(node).generation
