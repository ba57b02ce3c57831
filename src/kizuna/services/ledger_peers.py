"""Ledger heads between nodes: those holders sent us with receipts, and those we sent them.

A holder's dissemination receipt carries its ledger head signed at or after the entry that
recorded the release (core.protocol). The originator's node keeps the receipts, so it holds,
per holder, signed proof of how far that holder's ledger reached; the holder can check such a
head against its own chain (``kizuna audit verify --head FILE``): a head its chain ends before,
or no longer matches, shows the chain was truncated or rewritten since.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from kizuna.core import protocol, signing
from kizuna.core.ledger import Checkpoint, Problem
from kizuna.core.ledger_heads import chain_hashes, check_head, parse_head, signed_by
from kizuna.core.taxii import Filters
from kizuna.services import ledger as ledger_service
from kizuna.services import state
from kizuna.services.node import Node
from kizuna.storage import ledger as ledger_store
from kizuna.storage import objects as store


@dataclass(frozen=True)
class PeerHead:
    """The newest head a holder signed for us, how many receipts carried heads, and the
    problems found (a head that does not verify under the holder's keys counts for nothing)."""

    holder: str
    head: Checkpoint | None
    receipts: int
    problems: tuple[str, ...]


def heads_from_holders(node: Node) -> list[PeerHead]:
    """Per holder that sent us receipts: the newest head that verifies under its keys."""
    parties = state.current(node).parties
    home = node.home_party.id
    with node.db.read() as conn:
        rows = store.scan(
            conn, Filters(types=(protocol.RECEIPT_TYPE,), versions=("all",)), None, 10**9
        )
    newest: dict[str, Checkpoint] = {}
    counted: dict[str, int] = {}
    problems: dict[str, list[str]] = {}
    for row in rows:
        receipt = orjson.loads(row.content)
        holder = str(receipt.get("created_by_ref"))
        if receipt.get("originator_ref") != home or holder == home:
            continue
        raw = receipt.get("ledger_head")
        if raw is None:
            continue
        counted[holder] = counted.get(holder, 0) + 1
        party = parties.get(holder)
        keys = {signing.key_id(k): k for k in party.public_keys} if party else {}
        try:
            head = parse_head(raw)
        except ValueError as exc:
            problems.setdefault(holder, []).append(f"receipt {receipt.get('id')}: {exc}")
            continue
        if not signed_by(head, keys):
            problems.setdefault(holder, []).append(
                f"receipt {receipt.get('id')}: its head at entry {head.seq} is not signed by"
                " the holder's keys"
            )
            continue
        entry = receipt.get("ledger_entry")
        if isinstance(entry, int) and entry > head.seq:
            problems.setdefault(holder, []).append(
                f"receipt {receipt.get('id')}: its head at entry {head.seq} is older than the"
                f" entry {entry} it receipts"
            )
        if holder not in newest or head.seq > newest[holder].seq:
            newest[holder] = head
    return [
        PeerHead(h, newest.get(h), counted[h], tuple(problems.get(h, ()))) for h in sorted(counted)
    ]


def check_our_head(node: Node, head: Checkpoint) -> Problem | None:
    """Whether our chain still holds a head we signed (a peer kept it): None when it does."""
    if not signed_by(head, ledger_service.node_keys(node)):
        return Problem(head.seq, f"the head at entry {head.seq} is not signed by this node's key")
    with node.db.read() as conn:
        entries = ledger_store.entries(conn)
    last = entries[-1].seq if entries else 0
    return check_head(chain_hashes(entries), last, head, "a head a peer kept")
