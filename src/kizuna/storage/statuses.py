"""TAXII status resources, stored as the JSON document served."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from kizuna.storage.schema import statuses


def add(conn: Connection, status_id: str, party_id: str, now_us: int, document: bytes) -> None:
    conn.execute(
        insert(statuses).values(
            id=status_id, party_id=party_id, created_us=now_us, document=document
        )
    )


def get(conn: Connection, status_id: str, party_id: str, not_before_us: int) -> bytes | None:
    """A status document, only for the party that made the request, unless it has expired."""
    return conn.execute(
        select(statuses.c.document).where(
            statuses.c.id == status_id,
            statuses.c.party_id == party_id,
            statuses.c.created_us >= not_before_us,
        )
    ).scalar()


def expire(conn: Connection, before_us: int) -> int:
    """Delete the status documents made before ``before_us``; how many went."""
    return conn.execute(delete(statuses).where(statuses.c.created_us < before_us)).rowcount
