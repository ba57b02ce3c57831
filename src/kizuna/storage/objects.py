"""The object store: immutable object versions, one query per use, written once for every backend."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from kizuna.core.taxii import Filters
from kizuna.storage.schema import node, objects

# SQLite allows 32,766 host parameters; stay well below in IN (...) lists.
_CHUNK = 900


@dataclass(frozen=True)
class StoredVersion:
    """One object version as stored, with what the gate needs."""

    date_added: int
    id: str
    type: str
    modified: int
    spec_version: str
    source: str
    submitted_by: str
    path: str
    first_hop: bool
    handling: str
    refs: str
    digest: str
    content: bytes


@dataclass(frozen=True)
class NewVersion:
    """An object version about to be stored (``date_added`` is allocated on insert)."""

    id: str
    type: str
    modified: int
    spec_version: str
    source: str
    submitted_by: str
    path: str
    first_hop: bool
    handling: str
    refs: str
    digest: str
    content: bytes
    is_latest: bool = True
    is_first: bool = True


@dataclass(frozen=True)
class VersionKey:
    """What is known of an existing version when new ones arrive."""

    id: str
    modified: int
    digest: str
    date_added: int
    is_latest: bool
    is_first: bool
    source: str


_COLUMNS = (
    objects.c.date_added,
    objects.c.id,
    objects.c.type,
    objects.c.modified,
    objects.c.spec_version,
    objects.c.source,
    objects.c.submitted_by,
    objects.c.path,
    objects.c.first_hop,
    objects.c.handling,
    objects.c.refs,
    objects.c.digest,
    objects.c.content,
)


def _row(r: Sequence[object]) -> StoredVersion:
    return StoredVersion(*r)  # type: ignore[arg-type]


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def existing_versions(conn: Connection, ids: Iterable[str]) -> dict[str, list[VersionKey]]:
    """Every stored version of the given ids."""
    out: dict[str, list[VersionKey]] = {}
    wanted = sorted(set(ids))
    cols = (
        objects.c.id,
        objects.c.modified,
        objects.c.digest,
        objects.c.date_added,
        objects.c.is_latest,
        objects.c.is_first,
        objects.c.source,
    )
    for chunk in _chunks(wanted):
        for r in conn.execute(select(*cols).where(objects.c.id.in_(chunk))):
            out.setdefault(r[0], []).append(VersionKey(*r))
    return out


def allocate_dates(conn: Connection, count: int, now_us: int) -> int:
    """Reserve ``count`` consecutive ``date_added`` values; returns the first.

    Strictly increasing per node even if the clock steps back; the row lock (PostgreSQL) or the
    single writer (SQLite) makes commit order follow ``date_added`` order, so ``added_after``
    paging never skips an object committed late.
    """
    q = select(node.c.last_date_added).where(node.c.singleton == 1)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    last = conn.execute(q).scalar_one()
    first = max(last + 1, now_us)
    conn.execute(
        update(node).where(node.c.singleton == 1).values(last_date_added=first + count - 1)
    )
    return int(first)


def insert_versions(conn: Connection, first_date: int, rows: Sequence[NewVersion]) -> list[int]:
    """Insert new versions with consecutive dates; returns their ``date_added``."""
    if not rows:
        return []
    dates = list(range(first_date, first_date + len(rows)))
    conn.execute(
        objects.insert(),
        [
            {
                "date_added": d,
                "id": r.id,
                "type": r.type,
                "modified": r.modified,
                "spec_version": r.spec_version,
                "is_latest": r.is_latest,
                "is_first": r.is_first,
                "source": r.source,
                "submitted_by": r.submitted_by,
                "path": r.path,
                "first_hop": r.first_hop,
                "handling": r.handling,
                "refs": r.refs,
                "digest": r.digest,
                "content": r.content,
            }
            for d, r in zip(dates, rows, strict=True)
        ],
    )
    return dates


def set_flags(conn: Connection, changes: Sequence[tuple[int, bool, bool]]) -> None:
    """Set (date_added, is_latest, is_first) on existing versions."""
    if changes:
        conn.execute(
            update(objects)
            .where(objects.c.date_added == bindparam("d"))
            .values(is_latest=bindparam("latest"), is_first=bindparam("first")),
            [{"d": d, "latest": latest, "first": first} for d, latest, first in changes],
        )


def refresh_flags(conn: Connection, ids: Iterable[str]) -> None:
    """Recompute ``is_latest``/``is_first`` for the given ids (newest/oldest ``modified``)."""
    wanted = sorted(set(ids))
    for chunk in _chunks(wanted):
        rows = conn.execute(
            select(objects.c.id, objects.c.modified, objects.c.date_added).where(
                objects.c.id.in_(chunk)
            )
        ).all()
        best: dict[str, tuple[int, int]] = {}
        worst: dict[str, tuple[int, int]] = {}
        for oid, modified, date_added in rows:
            key = (modified, date_added)
            if oid not in best or key > best[oid]:
                best[oid] = key
            if oid not in worst or key < worst[oid]:
                worst[oid] = key
        set_flags(
            conn,
            [
                (d, best[oid] == (modified, d), worst[oid] == (modified, d))
                for oid, modified, d in rows
            ],
        )


def _where(filters: Filters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.ids:
        clauses.append(objects.c.id.in_(filters.ids))
    if filters.types:
        clauses.append(objects.c.type.in_(filters.types))
    if filters.spec_versions:
        clauses.append(objects.c.spec_version.in_(filters.spec_versions))
    if filters.sources:
        clauses.append(objects.c.source.in_(filters.sources))
    if filters.submitted_by:
        clauses.append(objects.c.submitted_by.in_(filters.submitted_by))
    if "all" not in filters.versions:
        alternatives: list[ColumnElement[bool]] = []
        stamps = [int(v) for v in filters.versions if v not in ("last", "first")]
        if "last" in filters.versions:
            alternatives.append(objects.c.is_latest.is_(True))
        if "first" in filters.versions:
            alternatives.append(objects.c.is_first.is_(True))
        if stamps:
            alternatives.append(objects.c.modified.in_(stamps))
        clauses.append(or_(*alternatives))
    return clauses


def scan(
    conn: Connection, filters: Filters, after: int | None, limit: int, before: int | None = None
) -> list[StoredVersion]:
    """Up to ``limit`` versions matching ``filters`` with ``date_added`` after ``after``, in order."""
    clauses = _where(filters)
    if after is not None:
        clauses.append(objects.c.date_added > after)
    if before is not None:
        clauses.append(objects.c.date_added <= before)
    q = select(*_COLUMNS).where(*clauses).order_by(objects.c.date_added).limit(limit)
    return [_row(r) for r in conn.execute(q)]


def latest(conn: Connection, ids: Iterable[str]) -> dict[str, StoredVersion]:
    """The latest stored version of each id the node holds."""
    out: dict[str, StoredVersion] = {}
    for chunk in _chunks(sorted(set(ids))):
        q = select(*_COLUMNS).where(objects.c.id.in_(chunk), objects.c.is_latest.is_(True))
        for r in conn.execute(q):
            out[r[1]] = _row(r)
    return out


def versions_of(conn: Connection, object_id: str) -> list[StoredVersion]:
    """Every stored version of one object, oldest ``date_added`` first."""
    q = select(*_COLUMNS).where(objects.c.id == object_id).order_by(objects.c.date_added)
    return [_row(r) for r in conn.execute(q)]


def delete_versions(conn: Connection, date_added: Sequence[int]) -> int:
    """Delete the given versions and fix the flags of what remains; returns how many went."""
    if not date_added:
        return 0
    ids = conn.execute(
        select(objects.c.id).where(objects.c.date_added.in_(date_added)).distinct()
    ).scalars()
    ids_list = list(ids)
    result = conn.execute(delete(objects).where(objects.c.date_added.in_(date_added)))
    refresh_flags(conn, ids_list)
    return int(result.rowcount or 0)


def count(conn: Connection) -> int:
    """How many object versions the node holds."""
    return int(conn.execute(select(func.count()).select_from(objects)).scalar_one())
