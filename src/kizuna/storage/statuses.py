"""TAXII status resources, stored as the JSON document served."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from kizuna.storage.schema import statuses


def add(conn: Connection, status_id: str, party_id: str, now_us: int, document: bytes) -> None:
    conn.execute(
        insert(statuses).values(
            id=status_id, party_id=party_id, created_us=now_us, document=document
        )
    )


def get(conn: Connection, status_id: str, party_id: str) -> bytes | None:
    """A status document, only for the party that made the request."""
    return conn.execute(
        select(statuses.c.document).where(
            statuses.c.id == status_id, statuses.c.party_id == party_id
        )
    ).scalar()
