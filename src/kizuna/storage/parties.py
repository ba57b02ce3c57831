"""Parties, their public keys, and the node row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from kizuna.core.parties import Party
from kizuna.storage.schema import node, parties, party_keys


def _party(r: Any, keys: tuple[str, ...], home: str | None) -> Party:
    return Party(
        id=r.id,
        name=r.name,
        jurisdiction=r.jurisdiction,
        kind=r.kind,
        scheme=r.scheme,
        sector=r.sector,
        public_keys=keys,
        is_home=r.id == home,
        is_client=bool(r.is_client),
    )


def home_party_id(conn: Connection) -> str | None:
    """The home party's id, or None for a database without a node."""
    return conn.execute(select(node.c.home_party).where(node.c.singleton == 1)).scalar()


def create_node(conn: Connection, home_party: str, now_us: int) -> None:
    """Write the node row (once)."""
    conn.execute(
        insert(node).values(
            singleton=1, home_party=home_party, last_date_added=0, created_us=now_us
        )
    )


def add(conn: Connection, party: Party, now_us: int) -> None:
    """Insert a party and its public keys."""
    conn.execute(
        insert(parties).values(
            id=party.id,
            name=party.name,
            jurisdiction=party.jurisdiction,
            kind=party.kind,
            scheme=party.scheme,
            sector=party.sector,
            is_client=party.is_client,
            created_us=now_us,
        )
    )
    for key in party.public_keys:
        add_key(conn, party.id, key, now_us)


def add_key(conn: Connection, party_id: str, public_key: str, now_us: int) -> None:
    """Record a public key of a party (idempotent)."""
    from kizuna.core.signing import key_id

    kid = key_id(public_key)
    exists = conn.execute(
        select(party_keys.c.key_id).where(
            party_keys.c.party_id == party_id, party_keys.c.key_id == kid
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(party_keys).values(
                party_id=party_id, key_id=kid, public_key=public_key, added_us=now_us
            )
        )


def update_party(conn: Connection, party_id: str, **values: object) -> None:
    """Change a party's attributes (jurisdiction, kind, scheme, sector, is_client)."""
    conn.execute(update(parties).where(parties.c.id == party_id).values(**values))


def retire_key(conn: Connection, party_id: str, key_id: str, now_us: int) -> bool:
    """Retire one of a party's keys; False when it has no such (unretired) key."""
    done = conn.execute(
        update(party_keys)
        .where(
            party_keys.c.party_id == party_id,
            party_keys.c.key_id == key_id,
            party_keys.c.retired_us.is_(None),
        )
        .values(retired_us=now_us)
    )
    return bool(done.rowcount)


def every_key(conn: Connection) -> dict[str, tuple[str, ...]]:
    """Each party's keys, retired ones included (what verified what was stored before)."""
    out: dict[str, list[str]] = {}
    for pid, key in conn.execute(
        select(party_keys.c.party_id, party_keys.c.public_key).order_by(party_keys.c.added_us)
    ):
        out.setdefault(pid, []).append(key)
    return {pid: tuple(keys) for pid, keys in out.items()}


def remove_keys(conn: Connection, party_id: str) -> None:
    conn.execute(delete(party_keys).where(party_keys.c.party_id == party_id))


def all_parties(conn: Connection) -> list[Party]:
    """Every party the node knows, home first, then by name."""
    home = home_party_id(conn)
    keys: dict[str, list[str]] = {}
    for pid, key in conn.execute(
        select(party_keys.c.party_id, party_keys.c.public_key)
        .where(party_keys.c.retired_us.is_(None))
        .order_by(party_keys.c.added_us)
    ):
        keys.setdefault(pid, []).append(key)
    rows = conn.execute(select(parties).order_by(parties.c.name)).all()
    out = [_party(r, tuple(keys.get(r.id, ())), home) for r in rows]
    return sorted(out, key=lambda p: (not p.is_home, p.name.lower()))


def generation(conn: Connection) -> int:
    """The counter that says whether parties, agreements or consents changed."""
    return int(conn.execute(select(node.c.generation).where(node.c.singleton == 1)).scalar() or 0)


def counters(conn: Connection) -> tuple[int, int]:
    """The node's (generation, caches) counters, in one read."""
    row = conn.execute(
        select(node.c.generation, node.c.caches).where(node.c.singleton == 1)
    ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def bump_caches(conn: Connection) -> None:
    """Tell every process to drop its settings, marking definitions and seals remembered."""
    conn.execute(update(node).where(node.c.singleton == 1).values(caches=node.c.caches + 1))


def bump_generation(conn: Connection) -> None:
    """Tell every process to reload parties, agreements and consents."""
    conn.execute(update(node).where(node.c.singleton == 1).values(generation=node.c.generation + 1))
