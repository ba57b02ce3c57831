"""Signed checkpoints of the ledger: when they are due, how they are made, and the serve loop.

A checkpoint is due when ``ledger_checkpoint_entries`` entries lack one, or when an entry has
waited ``ledger_checkpoint_minutes`` for one. It is signed and stored in the database with the
entries, then appended to ``ledger-heads`` in the node folder (fsynced); only then is it made.
A crash between the two leaves a checkpoint the file lacks: it vouches for nothing until the
next one reaches the file, and nothing is reported as tampered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import Connection

from kizuna.core import ledger as core_ledger
from kizuna.core import signing
from kizuna.core.ledger import Checkpoint
from kizuna.core.ledger_heads import checkpoint_due
from kizuna.services import background
from kizuna.services.node import Node
from kizuna.storage import ledger as ledger_store
from kizuna.storage import ledger_heads as heads_file

log = logging.getLogger("kizuna.ledger")

# The serve loop looks at least this often (seconds), and more often for shorter intervals.
LOOP_SECONDS = 60


def sign(node: Node, seq: int, head: str, now: int) -> Checkpoint:
    """The node's signature over the chain's head at ``seq``."""
    message = core_ledger.checkpoint_message(seq, head, now)
    return Checkpoint(
        seq, head, now, signing.key_id(node.public_key), signing.sign(node.private_key, message)
    )


def due_in(node: Node, conn: Connection, now: int) -> bool:
    """Whether the head needs a checkpoint now (inside the transaction that holds the head)."""
    settings = node.settings()
    seq, _ = ledger_store.head(conn)
    last = ledger_store.last_checkpoint_seq(conn)
    return checkpoint_due(
        head_seq=seq,
        last_checkpoint_seq=last,
        first_unvouched_us=ledger_store.first_time_after(conn, last) if seq > last else None,
        now=now,
        every_entries=int(settings["ledger_checkpoint_entries"]),
        every_minutes=int(settings["ledger_checkpoint_minutes"]),
    )


def sign_head(node: Node, conn: Connection, now: int) -> Checkpoint | None:
    """Sign and store the current head (None when it is checkpointed already).

    The caller must pass the result to ``keep`` once the transaction has committed.
    """
    seq, head = ledger_store.head(conn)
    if seq == 0 or ledger_store.last_checkpoint_seq(conn) >= seq:
        return None
    cp = sign(node, seq, head, now)
    ledger_store.add_checkpoint(conn, cp)
    return cp


def keep(node: Node, cp: Checkpoint | None) -> None:
    """Append a committed checkpoint to the node folder's ``ledger-heads`` file."""
    if cp is not None:
        heads_file.append(node.home, cp)


def checkpoint(node: Node, *, only_if_due: bool = False) -> Checkpoint | None:
    """Sign the current head now (or only when one is due); None when nothing was signed."""
    with node.db.write() as conn:
        now = node.now()
        cp = None if only_if_due and not due_in(node, conn, now) else sign_head(node, conn, now)
    keep(node, cp)
    return cp


def loop_seconds(node: Node) -> float:
    return float(min(LOOP_SECONDS, int(node.settings()["ledger_checkpoint_minutes"]) * 60))


@contextlib.asynccontextmanager
async def while_serving(node: Node) -> AsyncIterator[None]:
    """Checkpoint when due: once at start, then every ``loop_seconds`` until the server stops.

    Entries written while no one reads the ledger would otherwise wait for the next write.
    """
    await asyncio.to_thread(checkpoint, node, only_if_due=True)
    task = asyncio.create_task(_loop(node, loop_seconds(node)))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _loop(node: Node, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        if not background.leading(node):
            continue  # another process of the node does it
        try:
            await asyncio.to_thread(checkpoint, node, only_if_due=True)
        except Exception:
            log.exception("ledger checkpoint failed")


__all__ = ["checkpoint", "due_in", "keep", "sign", "sign_head", "while_serving"]
