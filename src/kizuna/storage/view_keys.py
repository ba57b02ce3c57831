"""The keys of the view index: what the gate's decision on a version depends on, interned.

Every object version carries the id of its key (``objects.view_key``). A key stands for its
type, source of record, submitter, path (first hop or not) and handling: everything the gate
reads of a version but its id, its references and the version itself (services.view). Keys are
never deleted and never change; ``last_added`` only grows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Executable, bindparam, case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kizuna.storage.schema import view_keys

_CHUNK = 900


@dataclass(frozen=True)
class ViewKey:
    """One key: the columns of ``StoredVersion`` the gate's decision depends on."""

    id: int
    type: str
    source: str
    submitted_by: str
    first_hop: bool
    handling: str


# (type, source, submitted_by, first_hop, handling): a key's content, before it has an id.
KeyParts = tuple[str, str, str, bool, str]


def digest_of(parts: KeyParts) -> str:
    """The unique digest of a key's content (its columns joined by NUL, which none can hold)."""
    stix_type, source, submitted_by, first_hop, handling = parts
    joined = "\0".join((stix_type, source, submitted_by, "1" if first_hop else "0", handling))
    return hashlib.sha256(joined.encode()).hexdigest()


_FIND = select(view_keys.c.digest, view_keys.c.id).where(
    view_keys.c.digest.in_(bindparam("digests", expanding=True))
)
_RAISE_LAST = (
    update(view_keys)
    .where(view_keys.c.id == bindparam("key"))
    .values(
        last_added=case(
            (view_keys.c.last_added < bindparam("last"), bindparam("last")),
            else_=view_keys.c.last_added,
        )
    )
)


def intern(conn: Connection, rows: Sequence[tuple[KeyParts, int]]) -> list[int]:
    """The key of each (content, date_added), created where new; raises each key's
    ``last_added`` to the newest date given it. In the caller's transaction, so a version and
    its key commit together."""
    if not rows:
        return []
    digests = [digest_of(parts) for parts, _ in rows]
    found = _find(conn, set(digests))
    missing = {d: parts for d, (parts, _) in zip(digests, rows, strict=True) if d not in found}
    if missing:
        values = [
            {
                "digest": d,
                "type": p[0],
                "source": p[1],
                "submitted_by": p[2],
                "first_hop": p[3],
                "handling": p[4],
                "last_added": 0,
            }
            for d, p in missing.items()
        ]
        conn.execute(_insert_new(conn.dialect.name), values)
        found.update(_find(conn, set(missing)))
    keys = [found[d] for d in digests]
    newest: dict[int, int] = {}
    for key, (_, date_added) in zip(keys, rows, strict=True):
        newest[key] = max(newest.get(key, date_added), date_added)
    conn.execute(_RAISE_LAST, [{"key": k, "last": d} for k, d in newest.items()])
    return keys


def _insert_new(dialect: str) -> Executable:
    # Two writers may meet the same new key (PostgreSQL): the second finds the first's.
    if dialect == "postgresql":
        return postgresql.insert(view_keys).on_conflict_do_nothing(index_elements=["digest"])
    if dialect == "sqlite":
        return sqlite.insert(view_keys).on_conflict_do_nothing(index_elements=["digest"])
    return insert(view_keys)


def _find(conn: Connection, digests: Iterable[str]) -> dict[str, int]:
    wanted = sorted(digests)
    out: dict[str, int] = {}
    for i in range(0, len(wanted), _CHUNK):
        out.update((d, int(k)) for d, k in conn.execute(_FIND, {"digests": wanted[i : i + _CHUNK]}))
    return out


_RECENT = select(view_keys.c.id).where(view_keys.c.last_added > bindparam("after"))
_LOAD = select(
    view_keys.c.id,
    view_keys.c.type,
    view_keys.c.source,
    view_keys.c.submitted_by,
    view_keys.c.first_hop,
    view_keys.c.handling,
).where(view_keys.c.id.in_(bindparam("ids", expanding=True)))


def added_after(conn: Connection, after: int | None) -> list[int]:
    """The keys some version was given after ``after`` (every key when None)."""
    start = -(2**62) if after is None else after
    return [int(k) for k in conn.execute(_RECENT, {"after": start}).scalars()]


def load(conn: Connection, ids: Iterable[int]) -> dict[int, ViewKey]:
    """The content of the given keys."""
    wanted = sorted(set(ids))
    out: dict[int, ViewKey] = {}
    for i in range(0, len(wanted), _CHUNK):
        for r in conn.execute(_LOAD, {"ids": wanted[i : i + _CHUNK]}):
            out[int(r[0])] = ViewKey(int(r[0]), r[1], r[2], r[3], bool(r[4]), r[5])
    return out
