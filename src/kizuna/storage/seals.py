"""Stored seals, looked up by the object versions they seal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from kizuna.core.seals import Seal
from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.storage.schema import seals

_COLUMNS = (
    seals.c.object_id,
    seals.c.version,
    seals.c.signer,
    seals.c.key_id,
    seals.c.digest,
    seals.c.signature,
    seals.c.created,
    seals.c.original_digest,
    seals.c.received_from,
)


def _modified(s: Seal) -> int:
    return parse_timestamp(s.version) if s.version else 0


def find(conn: Connection, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], list[Seal]]:
    """Every stored seal of the given (object id, modified) versions."""
    wanted = set(keys)
    ids = sorted({oid for oid, _ in wanted})
    out: dict[tuple[str, int], list[Seal]] = {}
    for i in range(0, len(ids), 900):
        q = select(*_COLUMNS, seals.c.modified).where(seals.c.object_id.in_(ids[i : i + 900]))
        for row in conn.execute(q).all():
            key = (row[0], int(row[9]))
            if key in wanted:
                out.setdefault(key, []).append(Seal(*row[:9]))
    return out


def add(conn: Connection, new: Sequence[Seal]) -> set[tuple[str, str, str]]:
    """Store seals not stored yet (a seal is deterministic: the same one twice is one).

    Returns the (object id, version, signer) of those it stored now."""
    if not new:
        return set()
    have = find(conn, [(s.object_id, _modified(s)) for s in new])
    rows: list[dict[str, Any]] = []
    for s in new:
        key = (s.object_id, _modified(s))
        if any(h.signer == s.signer for h in have.get(key, ())):
            continue
        have.setdefault(key, []).append(s)
        rows.append(
            {
                "object_id": s.object_id,
                "modified": key[1],
                "signer": s.signer,
                "version": s.version,
                "key_id": s.key_id,
                "digest": s.digest,
                "signature": s.signature,
                "created": s.created,
                "original_digest": s.original_digest,
                "received_from": s.received_from,
            }
        )
    if rows:
        conn.execute(insert(seals), rows)
    return {(str(r["object_id"]), str(r["version"]), str(r["signer"])) for r in rows}
