"""The ledger tables: append entries and checkpoints, read them back for audits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, LargeBinary, String, Table, cast, insert, select
from sqlalchemy.sql.elements import ColumnElement

from kizuna.core.ledger import GENESIS, Checkpoint, Entry
from kizuna.storage.schema import ledger, ledger_checkpoints, node


def head(conn: Connection) -> tuple[int, str]:
    """The last entry's (seq, hash), or (0, GENESIS) for an empty ledger.

    Locks the node row on PostgreSQL so appends from several processes stay one chain.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(node.c.singleton).where(node.c.singleton == 1).with_for_update())
    row = conn.execute(
        select(ledger.c.seq, ledger.c.hash).order_by(ledger.c.seq.desc()).limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def already_released(
    conn: Connection, recipient: str, keys: Sequence[tuple[str, int, str]]
) -> set[tuple[str, int, str]]:
    """Which (released_id, object_modified, released_digest) this recipient has an entry for."""
    found: set[tuple[str, int, str]] = set()
    ids = sorted({k[0] for k in keys})
    for i in range(0, len(ids), 900):
        q = select(ledger.c.released_id, ledger.c.object_modified, ledger.c.released_digest).where(
            ledger.c.recipient == recipient, ledger.c.released_id.in_(ids[i : i + 900])
        )
        found.update((r[0], int(r[1]), r[2]) for r in conn.execute(q).all())
    return found


def append(conn: Connection, entries: Sequence[Entry]) -> None:
    if entries:
        conn.execute(insert(ledger), [asdict(e) for e in entries])


def add_checkpoint(conn: Connection, cp: Checkpoint) -> None:
    conn.execute(insert(ledger_checkpoints).values(**asdict(cp)))


def last_checkpoint_seq(conn: Connection) -> int:
    row = conn.execute(
        select(ledger_checkpoints.c.seq).order_by(ledger_checkpoints.c.seq.desc()).limit(1)
    ).first()
    return int(row[0]) if row else 0


def first_time_after(conn: Connection, seq: int) -> int | None:
    """When the first entry after ``seq`` was made, or None when there is none."""
    row = conn.execute(
        select(ledger.c.time_us).where(ledger.c.seq > seq).order_by(ledger.c.seq).limit(1)
    ).first()
    return int(row[0]) if row else None


def _raw(table: Table) -> list[ColumnElement[Any]]:
    # Text is read as bytes and decoded here: a byte changed in the database (even into
    # invalid UTF-8) must be reported by `audit verify`, not crash the driver's decoding.
    return [cast(c, LargeBinary) if isinstance(c.type, String) else c for c in table.c]


def _text(row: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in row:
        if isinstance(value, memoryview):
            value = bytes(value)
        out.append(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
    return out


def entries(
    conn: Connection, object_id: str | None = None, after: int = 0, limit: int | None = None
) -> list[Entry]:
    """All entries in order, or those about one object (original or derivative id); with
    ``after`` and ``limit``, a page of them: ``limit`` entries after sequence ``after``."""
    q = select(*_raw(ledger)).order_by(ledger.c.seq)
    if after:
        q = q.where(ledger.c.seq > after)
    if limit is not None:
        q = q.limit(limit)
    if object_id is not None:
        q = q.where((ledger.c.object_id == object_id) | (ledger.c.released_id == object_id))
    return [Entry(*_text(r)) for r in conn.execute(q)]


def checkpoints(conn: Connection) -> list[Checkpoint]:
    q = select(*_raw(ledger_checkpoints)).order_by(ledger_checkpoints.c.seq)
    return [Checkpoint(*_text(r)) for r in conn.execute(q)]


def original_of(conn: Connection, released_id: str) -> tuple[str, int] | None:
    """The (object id, modified) a released derivative id was made from, if any."""
    row = conn.execute(
        select(ledger.c.object_id, ledger.c.object_modified)
        .where(ledger.c.released_id == released_id, ledger.c.object_id != released_id)
        .limit(1)
    ).first()
    return (str(row[0]), int(row[1])) if row else None


__all__ = [
    "add_checkpoint",
    "already_released",
    "append",
    "checkpoints",
    "entries",
    "first_time_after",
    "head",
    "last_checkpoint_seq",
]


def newest_seq(conn: Connection) -> int:
    """The newest entry's sequence number, 0 for an empty ledger (no lock: a read)."""
    row = conn.execute(select(ledger.c.seq).order_by(ledger.c.seq.desc()).limit(1)).first()
    return int(row[0]) if row else 0


def sequences_since(conn: Connection, recipient: str, since: int) -> list[int]:
    """The sequence numbers of entries for ``recipient`` after ``since``, in order."""
    q = (
        select(ledger.c.seq)
        .where(ledger.c.recipient == recipient, ledger.c.seq > since)
        .order_by(ledger.c.seq)
    )
    return [int(s) for s in conn.execute(q).scalars()]
