"""The ledger as a use case: record releases, checkpoint, verify, and answer "where did it go?"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection

from kizuna.core import ledger as core_ledger
from kizuna.core import protocol, signing
from kizuna.core.ledger import Checkpoint, Entry, Problem
from kizuna.core.ledger_heads import Vouched, head_dict, vouch
from kizuna.core.parties import Party
from kizuna.core.seals import Seal
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services import ledger_checkpoints as checkpoints
from kizuna.services.node import Node
from kizuna.storage import ledger as ledger_store
from kizuna.storage import ledger_heads as heads_file
from kizuna.storage import parties as party_store
from kizuna.storage import seals as seal_store
from kizuna.storage.database import retrying

if TYPE_CHECKING:
    from kizuna.services.gate import Release


def record(
    node: Node, recipient: Party, releases: Sequence[Release], new_seals: Sequence[Seal] = ()
) -> int:
    """Append an entry for each release this recipient has not had yet; returns how many.

    Seals made for these releases are stored in the same transaction, and the originator of
    each onward release under an agreement that owes receipts gets a dissemination receipt,
    which carries the ledger's head signed at (or after) the entry that recorded the release.
    """
    # Asked of the database every time, never remembered: should entries vanish from it, the
    # next release records them again rather than trusting a memory of them.
    keys = [(r.id, r.version.modified, r.digest) for r in releases]
    now = node.now()
    if not new_seals:
        # A repeated read: when the ledger has all of it already, take no write lock at all.
        with node.db.read() as conn:
            if set(keys) <= ledger_store.already_released(conn, recipient.id, keys):
                return 0
    owed = _receipts_owed(node)

    def write() -> tuple[list[Release], list[tuple[Release, Entry]], Checkpoint | None]:
        cp: Checkpoint | None = None
        receipted: list[tuple[Release, Entry]] = []
        with node.db.write() as conn:
            seal_store.add(conn, new_seals)
            done = ledger_store.already_released(conn, recipient.id, keys)
            todo: list[Release] = []
            for r, key in zip(releases, keys, strict=True):
                if key not in done:
                    done.add(key)
                    todo.append(r)
            if todo:
                entries = _append(conn, recipient, todo, now)
                receipted = [
                    (r, e)
                    for r, e in zip(todo, entries, strict=True)
                    if _owes_receipt(node, r, owed)
                ]
                # A receipt carries a head that covers its entry, so those are signed at once.
                if receipted or checkpoints.due_in(node, conn, now):
                    cp = checkpoints.sign_head(node, conn, now)
        return todo, receipted, cp

    todo, receipted, cp = retrying(write)  # a transaction a concurrent writer failed runs again
    checkpoints.keep(node, cp)
    if receipted:
        _send_receipts(node, recipient, receipted, cp, now)
    return len(todo)


def _append(conn: Connection, recipient: Party, todo: Sequence[Release], now: int) -> list[Entry]:
    seq, head = ledger_store.head(conn)
    entries = core_ledger.chain(
        head,
        (
            Entry(
                seq=seq + n,
                time_us=now,
                recipient=recipient.id,
                object_id=r.version.id,
                object_modified=r.version.modified,
                released_id=r.id,
                released_digest=r.digest,
                original_digest=r.version.digest,
                outcome=r.decision.outcome,
                agreement=r.decision.agreement,
                rules=",".join(str(x) for x in r.decision.rules),
                prev_hash="",
            )
            for n, r in enumerate(todo, start=1)
        ),
    )
    ledger_store.append(conn, entries)
    return entries


def _receipts_owed(node: Node) -> frozenset[str]:
    """The agreements under which onward releases owe the originator a receipt."""
    from kizuna.services import state

    return frozenset(a.ref for a in state.current(node).agreements if a.receipts_owed)


def _owes_receipt(node: Node, r: Release, owed: frozenset[str]) -> bool:
    return (
        not r.version.first_hop
        and r.version.source != node.home_party.id
        and r.version.type not in protocol.PROTOCOL_TYPES
        and r.decision.agreement in owed
    )


def _send_receipts(
    node: Node,
    recipient: Party,
    released: Sequence[tuple[Release, Entry]],
    cp: Checkpoint | None,
    now: int,
) -> None:
    """Dissemination receipts for onward releases under agreements that owe them."""
    from kizuna.services import ingest

    home = node.home_party.id
    head = head_dict(cp) if cp is not None else None
    receipts = [
        protocol.receipt(
            holder=home,
            originator=r.version.source,
            object_id=r.version.id,
            version=format_timestamp(r.version.modified),
            recipient=recipient.id,
            agreement=r.decision.agreement,
            released_id=r.id,
            released_digest=r.digest,
            created=format_timestamp(now),
            ledger_entry=e.seq,
            ledger_head=head,
        )
        for r, e in released
    ]
    ingest.ingest(node, receipts, submitter=node.home_party, path="registry")


def receipts(node: Node, object_id: str) -> list[dict[str, Any]]:
    """Receipts other nodes sent about one of our objects: where it went beyond this node."""
    from kizuna.core.taxii import Filters
    from kizuna.storage import objects as store

    with node.db.read() as conn:
        rows = store.scan(
            conn, Filters(types=(protocol.RECEIPT_TYPE,), versions=("all",)), None, 10**9
        )
    found = [orjson.loads(r.content) for r in rows if object_id in r.refs.split(" ")]
    return [r for r in found if r.get("receipted_ref") == object_id]


def checkpoint(node: Node) -> Checkpoint | None:
    """Sign the current head now (None for an empty ledger or one already checkpointed)."""
    return checkpoints.checkpoint(node)


@dataclass(frozen=True)
class Audit:
    """What ``audit verify`` found, and how far the heads kept outside the database vouch."""

    entries: int
    checkpoints: int
    problems: list[Problem]
    vouched: Vouched

    @property
    def intact(self) -> bool:
        return not self.problems


def node_keys(node: Node) -> dict[str, str]:
    """The keys (by key id) this node's checkpoints may be signed with."""
    with node.db.read() as conn:
        every = party_store.every_key(conn).get(node.home_party.id, ())
    keys = {signing.key_id(k): k for k in (*node.home_party.public_keys, *every)}
    keys[signing.key_id(node.public_key)] = node.public_key
    return keys


def verify(node: Node) -> Audit:
    """Check the whole chain, every checkpoint signature, and the chain against ledger-heads."""
    with node.db.read() as conn:
        entries = ledger_store.entries(conn)
        checkpoints = ledger_store.checkpoints(conn)
    keys = node_keys(node)
    problems = core_ledger.verify_chain(entries, checkpoints, keys)
    vouched = vouch(entries, checkpoints, heads_file.read(node.home), keys)
    problems += vouched.problems
    problems.sort(key=lambda p: p.seq)
    return Audit(len(entries), len(checkpoints), problems, vouched)


def show(
    node: Node, object_id: str | None = None, after: int = 0, limit: int | None = None
) -> list[Entry]:
    """Ledger entries, all or about one object (by its id or a derivative's id); a page of
    ``limit`` after sequence ``after`` when given."""
    with node.db.read() as conn:
        return ledger_store.entries(conn, object_id, after, limit)


@dataclass(frozen=True)
class Span:
    """The entries a release to one party added: how many, the first and last sequence."""

    entries: int
    first: int | None
    last: int | None


def newest_seq(node: Node) -> int:
    """The ledger's newest sequence number now (0 when empty): where a release starts."""
    with node.db.read() as conn:
        return ledger_store.newest_seq(conn)


def span_since(node: Node, recipient: Party, since: int) -> Span:
    """The entries written for ``recipient`` after sequence ``since`` (``kizuna export``)."""
    with node.db.read() as conn:
        seqs = ledger_store.sequences_since(conn, recipient.id, since)
    return Span(len(seqs), min(seqs, default=None), max(seqs, default=None))
