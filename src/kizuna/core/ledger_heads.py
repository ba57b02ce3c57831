"""Signed ledger heads kept outside the database, and what they vouch for.

A checkpoint is the node's signature over the chain's head (entry number, hash, time). The
database keeps its checkpoints next to the entries, so whoever can rewrite the database can
drop both; every checkpoint is therefore also appended to a file in the node folder
(``ledger-heads``) and sent, in dissemination receipts, to the originators the entries concern.
Against those copies a truncated or consistently rewritten chain shows: a head the chain ends
before, or a head whose hash the chain no longer has at that entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from kizuna.core import signing
from kizuna.core.ledger import Checkpoint, Entry, Problem, checkpoint_message

HEADS_FILE = "ledger-heads"
MINUTE_US = 60_000_000


def head_dict(cp: Checkpoint) -> dict[str, Any]:
    """A checkpoint as JSON: a line of ``ledger-heads`` and a receipt's ``ledger_head``."""
    return {
        "seq": cp.seq,
        "hash": cp.hash,
        "time_us": cp.time_us,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


def head_line(cp: Checkpoint) -> bytes:
    return orjson.dumps(head_dict(cp), option=orjson.OPT_SORT_KEYS) + b"\n"


def parse_head(value: object) -> Checkpoint:
    """A checkpoint from its JSON form; ValueError naming what is wrong."""
    if not isinstance(value, Mapping):
        raise ValueError("a ledger head is a JSON object")
    seq, time_us = value.get("seq"), value.get("time_us")
    texts = [value.get(k) for k in ("hash", "key_id", "signature")]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError("a ledger head's seq must be a positive integer")
    if not isinstance(time_us, int) or isinstance(time_us, bool):
        raise ValueError("a ledger head's time_us must be an integer")
    if not all(isinstance(t, str) for t in texts):
        raise ValueError("a ledger head needs hash, key_id and signature as strings")
    head, key_id, signature = (str(t) for t in texts)
    return Checkpoint(seq, head, time_us, key_id, signature)


def parse_heads(data: bytes) -> tuple[list[Checkpoint], list[Problem]]:
    """The heads of a ``ledger-heads`` file, and a problem for each line that is not one."""
    heads: list[Checkpoint] = []
    problems: list[Problem] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            heads.append(parse_head(orjson.loads(line)))
        except (orjson.JSONDecodeError, ValueError) as exc:
            problems.append(Problem(0, f"{HEADS_FILE} line {number} is not a signed head: {exc}"))
    return heads, problems


def signed_by(cp: Checkpoint, keys: Mapping[str, str]) -> bool:
    """Whether one of ``keys`` (key id → public key) signed this checkpoint."""
    key = keys.get(cp.key_id)
    message = checkpoint_message(cp.seq, cp.hash, cp.time_us)
    return key is not None and signing.verify(key, message, cp.signature)


def checkpoint_due(
    *,
    head_seq: int,
    last_checkpoint_seq: int,
    first_unvouched_us: int | None,
    now: int,
    every_entries: int,
    every_minutes: int,
) -> bool:
    """A checkpoint is due once N entries, or any entry older than M minutes, lack one."""
    if head_seq <= last_checkpoint_seq:
        return False
    if head_seq - last_checkpoint_seq >= every_entries:
        return True
    return first_unvouched_us is not None and now - first_unvouched_us >= every_minutes * MINUTE_US


def chain_hashes(entries: Sequence[Entry]) -> dict[int, str]:
    """Each entry's hash by its number."""
    return {e.seq: e.hash for e in entries}


def check_head(
    hashes: Mapping[int, str], last: int, head: Checkpoint, where: str
) -> Problem | None:
    """The problem when the chain (ending at ``last``) does not hold a signed head."""
    if head.seq > last:
        return Problem(
            last + 1,
            f"{where} holds a signed head at entry {head.seq} but the chain ends at entry {last}:"
            f" entries {last + 1}–{head.seq} were removed (the ledger was truncated)",
        )
    if hashes.get(head.seq) != head.hash:
        return Problem(
            head.seq,
            f"the chain at entry {head.seq} differs from the signed head in {where}:"
            " the ledger was rewritten from there or before",
        )
    return None


@dataclass(frozen=True)
class Vouched:
    """How far the heads kept outside the database vouch for the chain."""

    problems: list[Problem]
    head: Checkpoint | None  # the newest head outside the database the chain holds
    unvouched: int  # entries after it
    heads: int  # heads in the file


def vouch(
    entries: Sequence[Entry],
    db_checkpoints: Sequence[Checkpoint],
    heads_file: bytes | None,
    keys: Mapping[str, str],
) -> Vouched:
    """Compare the chain with the heads file; ``heads_file`` is None when the file is missing."""
    problems: list[Problem] = []
    last = entries[-1].seq if entries else 0
    if heads_file is None:
        if db_checkpoints:
            problems.append(
                Problem(
                    0,
                    f"the {HEADS_FILE} file is missing from the node folder, but the database"
                    f" holds {len(db_checkpoints)} signed checkpoints: the heads that vouch for"
                    " the chain were removed",
                )
            )
        return Vouched(problems, None, last, 0)
    heads, problems = parse_heads(heads_file)
    hashes = chain_hashes(entries)
    good: list[Checkpoint] = []
    for cp in heads:
        if not signed_by(cp, keys):
            problems.append(
                Problem(
                    cp.seq,
                    f"the head at entry {cp.seq} in {HEADS_FILE} has no valid signature of"
                    " this node",
                )
            )
            continue
        found = check_head(hashes, last, cp, HEADS_FILE)
        if found is not None:
            problems.append(found)
        else:
            good.append(cp)
    newest = max(good, key=lambda cp: cp.seq, default=None)
    return Vouched(problems, newest, last - (newest.seq if newest else 0), len(heads))
