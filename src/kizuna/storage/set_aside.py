"""Copies set aside: quarantined copies a genuine, sealed copy of the same version replaced."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from kizuna.storage.schema import set_aside


@dataclass(frozen=True)
class SetAside:
    id: str
    modified: int
    digest: str
    submitted_by: str
    path: str
    reason: str
    content: bytes
    set_aside_us: int
    replaced_by: str


def put(conn: Connection, copy: SetAside) -> None:
    """Keep a copy aside (the same copy twice is kept once)."""
    found = conn.execute(
        select(set_aside.c.id).where(
            set_aside.c.id == copy.id,
            set_aside.c.modified == copy.modified,
            set_aside.c.digest == copy.digest,
        )
    ).first()
    if found is None:
        conn.execute(insert(set_aside).values(**copy.__dict__))


def listed(conn: Connection, object_id: str | None = None) -> list[SetAside]:
    """Every copy set aside (of one object), oldest first."""
    q = select(*set_aside.c).order_by(set_aside.c.set_aside_us, set_aside.c.id)
    if object_id is not None:
        q = q.where(set_aside.c.id == object_id)
    return [SetAside(*r) for r in conn.execute(q)]
