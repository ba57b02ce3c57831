"""The ledger's hash chain: each entry's hash covers its content and the previous hash.

``verify_chain`` finds the first changed, removed or reordered entry; checkpoints (the chain
head at a sequence number, signed by the node's key) make truncation and rewriting of the whole
chain detectable too, as long as a copy of them survives outside the database
(core.ledger_heads).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace

from kizuna.core import signing

GENESIS = "sha256:" + "0" * 64


@dataclass(frozen=True)
class Entry:
    """One release: which version went to whom, under what, and when."""

    seq: int
    time_us: int
    recipient: str
    object_id: str
    object_modified: int
    released_id: str
    released_digest: str
    original_digest: str
    outcome: str
    agreement: str | None
    rules: str
    prev_hash: str
    hash: str = ""

    def body(self) -> dict[str, object]:
        """The fields the hash covers (everything but the hash itself).

        Numbers go in as decimal strings: RFC 8785 writes numbers as ES6 doubles, exact only up
        to 2**53, and a microsecond timestamp of a year past 2255 is beyond that.
        """
        data: dict[str, object] = {
            k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in asdict(self).items()
        }
        del data["hash"]
        return data


def entry_hash(entry: Entry) -> str:
    """The chain hash of an entry."""
    return _hash(entry.body())


def _hash(body: dict[str, object]) -> str:
    return "sha256:" + hashlib.sha256(signing.canonical(body)).hexdigest()


def chain(prev_hash: str, entries: Iterable[Entry]) -> list[Entry]:
    """Link new entries onto ``prev_hash``, filling in prev_hash and hash."""
    out = []
    for e in entries:
        body = e.body()
        body["prev_hash"] = prev_hash
        linked = replace(e, prev_hash=prev_hash, hash=_hash(body))
        out.append(linked)
        prev_hash = linked.hash
    return out


@dataclass(frozen=True)
class Checkpoint:
    """The node's signature over the chain's head: entry ``seq`` had ``hash`` at ``time_us``."""

    seq: int
    hash: str
    time_us: int
    key_id: str
    signature: str


def checkpoint_message(seq: int, head: str, time_us: int) -> bytes:
    """What the node signs at a checkpoint."""
    return signing.canonical({"seq": str(seq), "hash": head, "time_us": str(time_us)})


@dataclass(frozen=True)
class Problem:
    """Where verification failed, in words an auditor can act on."""

    seq: int
    message: str


def verify_chain(
    entries: Sequence[Entry], checkpoints: Sequence[Checkpoint], keys: dict[str, str]
) -> list[Problem]:
    """Every problem in the chain and its checkpoints; empty when the ledger is intact."""
    problems: list[Problem] = []
    prev = GENESIS
    expected_seq = 1
    heads: dict[int, str] = {}
    for e in entries:
        if e.seq != expected_seq:
            kind = "removed" if e.seq > expected_seq else "reordered or duplicated"
            problems.append(Problem(e.seq, f"entry {expected_seq} is missing: entries {kind}"))
            expected_seq = e.seq
        if e.prev_hash != prev:
            problems.append(
                Problem(
                    e.seq,
                    f"entry {e.seq} does not follow entry {e.seq - 1}: "
                    "the chain is broken (entries removed or reordered)",
                )
            )
        if entry_hash(e) != e.hash:
            problems.append(
                Problem(e.seq, f"entry {e.seq} was changed: its content does not match its hash")
            )
        prev = e.hash
        heads[e.seq] = e.hash
        expected_seq += 1
    last_seq = entries[-1].seq if entries else 0
    for cp in checkpoints:
        key = keys.get(cp.key_id)
        if key is None or not signing.verify(
            key, checkpoint_message(cp.seq, cp.hash, cp.time_us), cp.signature
        ):
            problems.append(
                Problem(cp.seq, f"checkpoint at entry {cp.seq} has no valid signature of this node")
            )
        elif cp.seq > last_seq:
            problems.append(
                Problem(
                    cp.seq,
                    f"checkpoint at entry {cp.seq} is past the last entry {last_seq}: "
                    "entries were removed from the end",
                )
            )
        elif heads.get(cp.seq) != cp.hash:
            problems.append(
                Problem(
                    cp.seq,
                    f"the chain at entry {cp.seq} differs from its signed checkpoint: "
                    "the ledger was rewritten",
                )
            )
    return problems
