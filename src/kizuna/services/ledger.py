"""The ledger as a use case: record releases, checkpoint, verify, and answer "where did it go?"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kizuna.core import ledger as core_ledger
from kizuna.core import signing
from kizuna.core.ledger import Checkpoint, Entry, Problem
from kizuna.core.parties import Party
from kizuna.services.node import Node
from kizuna.storage import ledger as ledger_store

if TYPE_CHECKING:
    from kizuna.services.gate import Release

# A signed checkpoint at least every this many entries.
CHECKPOINT_EVERY = 1000


def record(node: Node, recipient: Party, releases: Sequence[Release]) -> int:
    """Append an entry for each release this recipient has not had yet; returns how many."""
    keys = [(r.id, r.version.modified, r.digest) for r in releases]
    with node.db.write() as conn:
        done = ledger_store.already_released(conn, recipient.id, keys)
        todo = []
        seen: set[tuple[str, int, str]] = set()
        for r, key in zip(releases, keys, strict=True):
            if key in done or key in seen:
                continue
            seen.add(key)
            todo.append(r)
        if not todo:
            return 0
        seq, head = ledger_store.head(conn)
        now = node.now()
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
    return len(entries)


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
