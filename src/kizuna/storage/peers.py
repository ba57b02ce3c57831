"""Peers and their sync state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from kizuna.storage.schema import peers


@dataclass(frozen=True)
class PeerRecord:
    id: str
    url: str
    party_id: str
    token: bytes
    push: bool
    cursor: int | None
    push_cursor: int | None
    policy_generation: int | None
    last_sync_us: int | None
    last_ok_us: int | None
    last_error: str | None
    failures: int
    pulled: int
    pushed: int
    created_us: int


def add(conn: Connection, record: PeerRecord) -> None:
    conn.execute(insert(peers).values(**record.__dict__))


def all_peers(conn: Connection) -> list[PeerRecord]:
    return [PeerRecord(*r) for r in conn.execute(select(*peers.c).order_by(peers.c.created_us))]


def get(conn: Connection, peer_id: str) -> PeerRecord | None:
    row = conn.execute(select(*peers.c).where(peers.c.id == peer_id)).first()
    return PeerRecord(*row) if row else None


def remove(conn: Connection, peer_id: str) -> bool:
    return bool(conn.execute(delete(peers).where(peers.c.id == peer_id)).rowcount)


def set_state(conn: Connection, peer_id: str, **values: Any) -> None:
    conn.execute(update(peers).where(peers.c.id == peer_id).values(**values))
