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
from kizuna.core.parties import Party
from kizuna.core.seals import Seal
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services.node import Node
from kizuna.storage import ledger as ledger_store
from kizuna.storage import seals as seal_store

if TYPE_CHECKING:
    from kizuna.services.gate import Release

# A signed checkpoint at least every this many entries.
CHECKPOINT_EVERY = 1000


def record(
    node: Node, recipient: Party, releases: Sequence[Release], new_seals: Sequence[Seal] = ()
) -> int:
    """Append an entry for each release this recipient has not had yet; returns how many.

    Seals made for these releases are stored in the same transaction, and the originator of
    each onward release under an agreement that owes receipts gets a dissemination receipt.
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
    with node.db.write() as conn:
        seal_store.add(conn, new_seals)
        done = ledger_store.already_released(conn, recipient.id, keys)
        todo: list[Release] = []
        for r, key in zip(releases, keys, strict=True):
            if key not in done:
                done.add(key)
                todo.append(r)
        if todo:
            _append(node, conn, recipient, todo, now)
    if todo:
        _send_receipts(node, recipient, todo, now)
    return len(todo)


def _append(
    node: Node, conn: Connection, recipient: Party, todo: Sequence[Release], now: int
) -> None:
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
    last = entries[-1]
    if last.seq - ledger_store.last_checkpoint_seq(conn) >= CHECKPOINT_EVERY:
        ledger_store.add_checkpoint(conn, _checkpoint(node, last.seq, last.hash, now))


def _send_receipts(node: Node, recipient: Party, released: Sequence[Release], now: int) -> None:
    """Dissemination receipts for onward releases under agreements that owe them."""
    from kizuna.services import ingest, state

    owed = {a.ref for a in state.current(node).agreements if a.receipts_owed}
    home = node.home_party.id
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
        )
        for r in released
        if not r.version.first_hop
        and r.version.source != home
        and r.version.type not in protocol.PROTOCOL_TYPES
        and r.decision.agreement in owed
    ]
    if receipts:
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


def _checkpoint(node: Node, seq: int, head: str, now: int) -> Checkpoint:
    message = core_ledger.checkpoint_message(seq, head, now)
    return Checkpoint(
        seq, head, now, signing.key_id(node.public_key), signing.sign(node.private_key, message)
    )


def checkpoint(node: Node) -> Checkpoint | None:
    """Sign the current head now (None for an empty ledger or one already checkpointed)."""
    with node.db.write() as conn:
        seq, head = ledger_store.head(conn)
        if seq == 0 or ledger_store.last_checkpoint_seq(conn) == seq:
            return None
        cp = _checkpoint(node, seq, head, node.now())
        ledger_store.add_checkpoint(conn, cp)
    return cp


@dataclass(frozen=True)
class Audit:
    entries: int
    checkpoints: int
    problems: list[Problem]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(node: Node) -> Audit:
    """Check the whole chain and every checkpoint signature."""
    with node.db.read() as conn:
        entries = ledger_store.entries(conn)
        checkpoints = ledger_store.checkpoints(conn)
    keys = {signing.key_id(k): k for k in node.home_party.public_keys}
    keys[signing.key_id(node.public_key)] = node.public_key
    problems = core_ledger.verify_chain(entries, checkpoints, keys)
    return Audit(len(entries), len(checkpoints), problems)


def show(node: Node, object_id: str | None = None) -> list[Entry]:
    """Ledger entries, all or about one object (by its id or a derivative's id)."""
    with node.db.read() as conn:
        return ledger_store.entries(conn, object_id)


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
