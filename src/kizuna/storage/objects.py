"""The object store: immutable object versions, one query per use, written once for all backends."""

from __future__ import annotations

import functools
import heapq
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Dialect,
    Select,
    bindparam,
    delete,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from kizuna.core.taxii import Filters
from kizuna.storage import view_keys
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
    is_latest: bool = True  # the newest version of its object (the gate caps older ones by it)


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
    objects.c.is_latest,
)


def _row(r: Sequence[object]) -> StoredVersion:
    return StoredVersion(*r)  # type: ignore[arg-type]


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


# Statements used on every request are built once: constructing a statement and computing its
# cache key cost more than SQLite takes to run it. Values travel as bound parameters.
_VERSION_KEYS = select(
    objects.c.id,
    objects.c.modified,
    objects.c.digest,
    objects.c.date_added,
    objects.c.is_latest,
    objects.c.is_first,
    objects.c.source,
).where(objects.c.id.in_(bindparam("ids", expanding=True)))
_LATEST = select(*_COLUMNS).where(
    objects.c.id.in_(bindparam("ids", expanding=True)), objects.c.is_latest.is_(True)
)
_VERSIONS_OF = (
    select(*_COLUMNS).where(objects.c.id == bindparam("id")).order_by(objects.c.date_added)
)
_LAST_DATE = select(node.c.last_date_added).where(node.c.singleton == 1)
_LAST_DATE_LOCKED = _LAST_DATE.with_for_update()
_SET_LAST_DATE = update(node).where(node.c.singleton == 1).values(last_date_added=bindparam("last"))


def last_date_added(conn: Connection) -> int:
    """The newest ``date_added`` given so far; every version up to it is committed once this
    reads it (see ``allocate_dates``)."""
    return int(conn.execute(_LAST_DATE).scalar_one())


def existing_versions(conn: Connection, ids: Iterable[str]) -> dict[str, list[VersionKey]]:
    """Every stored version of the given ids."""
    out: dict[str, list[VersionKey]] = {}
    for chunk in _chunks(sorted(set(ids))):
        for r in conn.execute(_VERSION_KEYS, {"ids": chunk}):
            out.setdefault(r[0], []).append(VersionKey(*r))
    return out


def quarantined_versions(conn: Connection, ids: Iterable[str]) -> set[tuple[str, int]]:
    """The (id, modified) of the given ids' versions held quarantined (no valid seal)."""
    out: set[tuple[str, int]] = set()
    for chunk in _chunks(sorted(set(ids))):
        rows = conn.execute(
            select(objects.c.id, objects.c.modified).where(
                objects.c.id.in_(chunk), objects.c.handling.like('%"quarantine"%')
            )
        )
        out.update((r[0], int(r[1])) for r in rows)
    return out


# Where in its window each new version's ``date_added`` falls is drawn at random, so the gaps
# between the versions a partner may read say nothing about how many it may not (see
# date_window). The generator is the operating system's: a partner must not predict it.
_RANDOM = random.SystemRandom()
_MIN_WINDOW = 4096


def date_window(count: int) -> int:
    """How many ``date_added`` values a batch of ``count`` versions reserves: at least 4,096
    and 64 per version, rounded up to a power of two, so the window's width does not tell a
    reader how many of a small batch it was not given (and of a large one, only to a factor
    of two)."""
    return max(_MIN_WINDOW, 1 << (64 * max(count, 1) - 1).bit_length())


def allocate_dates(conn: Connection, ids: Sequence[str], now_us: int) -> list[int]:
    """The ``date_added`` of new versions of ``ids`` (in that order), inside a window reserved
    for them alone (``date_window``).

    The window starts after every date given before, even if the clock steps back; the row lock
    (PostgreSQL) or the single writer (SQLite) makes commit order follow ``date_added`` order,
    so ``added_after`` paging never skips a version committed late. Inside the window the dates
    are distinct and drawn at random, except that versions of one id keep their order.
    """
    q = _LAST_DATE_LOCKED if conn.dialect.name == "postgresql" else _LAST_DATE
    last = conn.execute(q).scalar_one()
    first = max(last + 1, now_us)
    width = date_window(len(ids))
    conn.execute(_SET_LAST_DATE, {"last": first + width - 1})
    dates = [first + d for d in _RANDOM.sample(range(width), len(ids))]
    positions: dict[str, list[int]] = {}
    for n, oid in enumerate(ids):
        positions.setdefault(oid, []).append(n)
    for same in positions.values():
        if len(same) > 1:
            for n, d in zip(same, sorted(dates[n] for n in same), strict=True):
                dates[n] = d
    return dates


# The columns of ``objects`` in table order: the order of the compiled INSERT's parameters.
_INSERT_KEYS = (
    "date_added", "id", "type", "modified", "spec_version", "is_latest", "is_first", "source",
    "submitted_by", "path", "first_hop", "handling", "refs", "digest", "content", "view_key",
)  # fmt: skip
_INSERTS: dict[tuple[str, str], tuple[str, bool]] = {}


def _insert_sql(dialect: Dialect) -> tuple[str, bool]:
    """The INSERT of object versions compiled for this dialect, once; and if it is positional.

    Batches go to the driver's ``executemany`` as plain tuples (or dicts for named styles):
    every value is already of a type the driver binds as is, and skipping SQLAlchemy's
    per-row parameter processing saves about a fifth of the insert's cost.
    """
    key = (dialect.name, dialect.paramstyle)
    found = _INSERTS.get(key)
    if found is None:
        compiled = objects.insert().compile(dialect=dialect, column_keys=list(_INSERT_KEYS))
        if compiled.positional and tuple(compiled.positiontup or ()) != _INSERT_KEYS:
            raise RuntimeError(f"unexpected INSERT parameter order {compiled.positiontup}")
        found = _INSERTS[key] = (str(compiled), compiled.positional)
    return found


def insert_versions(conn: Connection, rows: Sequence[NewVersion], now_us: int) -> list[int]:
    """Insert new versions with dates from ``allocate_dates``; returns their ``date_added``."""
    if not rows:
        return []
    dates = allocate_dates(conn, [r.id for r in rows], now_us)
    keys = view_keys.intern(conn, [(key_parts(r), d) for d, r in zip(dates, rows, strict=True)])
    values = [
        (d, r.id, r.type, r.modified, r.spec_version, r.is_latest, r.is_first, r.source,
         r.submitted_by, r.path, r.first_hop, r.handling, r.refs, r.digest, r.content, k)
        for d, r, k in zip(dates, rows, keys, strict=True)
    ]  # fmt: skip
    sql, positional = _insert_sql(conn.dialect)
    if positional:
        conn.exec_driver_sql(sql, values)
    else:
        conn.exec_driver_sql(sql, [dict(zip(_INSERT_KEYS, v, strict=True)) for v in values])
    return dates


def key_parts(v: NewVersion | StoredVersion) -> view_keys.KeyParts:
    """What the gate's decision on a version depends on besides its id and references: its
    view key (services.view; tests/services/test_view.py checks the gate reads nothing else)."""
    return (v.type, v.source, v.submitted_by, v.first_hop, v.handling)


_KEY_PARTS = select(
    objects.c.date_added,
    objects.c.type,
    objects.c.source,
    objects.c.submitted_by,
    objects.c.first_hop,
).where(objects.c.date_added.in_(bindparam("dates", expanding=True)))
_SET_HANDLING = (
    update(objects)
    .where(objects.c.date_added == bindparam("d"))
    .values(handling=bindparam("handling"), view_key=bindparam("key"))
)


def set_handling(conn: Connection, changes: Sequence[tuple[int, str]]) -> None:
    """Give versions (by ``date_added``) a new handling, and with it their new view key."""
    if not changes:
        return
    handling = dict(changes)
    rows = conn.execute(_KEY_PARTS, {"dates": sorted(handling)}).all()
    keys = view_keys.intern(
        conn, [((t, src, sub, bool(fh), handling[d]), d) for d, t, src, sub, fh in rows]
    )
    conn.execute(
        _SET_HANDLING,
        [
            {"d": r[0], "handling": handling[r[0]], "key": k}
            for r, k in zip(rows, keys, strict=True)
        ],
    )


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


@functools.lru_cache(maxsize=256)
def _scan_statement(filters: Filters, after: bool, before: bool) -> Select[Any]:
    """The scan for one set of filters, built once; the position and limit are parameters."""
    clauses = _where(filters)
    if after:
        clauses.append(objects.c.date_added > bindparam("after"))
    if before:
        clauses.append(objects.c.date_added <= bindparam("before"))
    q = select(*_COLUMNS).where(*clauses).order_by(objects.c.date_added)
    return q.limit(bindparam("limit"))


def scan(
    conn: Connection, filters: Filters, after: int | None, limit: int, before: int | None = None
) -> list[StoredVersion]:
    """Up to ``limit`` versions matching ``filters``, ``date_added`` after ``after``, in order."""
    q = _scan_statement(filters, after is not None, before is not None)
    params = {"after": after, "before": before, "limit": limit}
    return [_row(r) for r in conn.execute(q, params).all()]


# Keys per statement of ``scan_keys``: SQLite merges a compound SELECT's terms in a chain, so
# each row passes every term before it; past a few dozen that costs more than a second query.
_TERMS = 32
_NO_KEY = -1  # pads a statement to a size already built (view keys are positive)


@functools.lru_cache(maxsize=256)
def _keyed_statement(
    filters: Filters, terms: int, named: bool
) -> Select[Any] | CompoundSelect[Any]:
    """One scan per view key, merged in ``date_added`` order: each term seeks its key's rows
    in ``ix_objects_view_key``, and the merge stops after ``limit`` rows."""
    common = [
        *_where(filters),
        objects.c.date_added > bindparam("after"),
        objects.c.date_added <= bindparam("ceiling"),
    ]
    selects = [
        select(*_COLUMNS).where(objects.c.view_key == bindparam(f"k{i}"), *common)
        for i in range(terms)
    ]
    if named:
        selects.append(
            select(*_COLUMNS).where(
                objects.c.id.in_(bindparam("named", expanding=True)),
                objects.c.view_key.in_(bindparam("closed", expanding=True)),
                *common,
            )
        )
    if len(selects) == 1:
        return selects[0].order_by(objects.c.date_added).limit(bindparam("limit"))
    merged = union_all(*selects)
    return merged.order_by(merged.selected_columns.date_added).limit(bindparam("limit"))


def scan_keys(
    conn: Connection,
    filters: Filters,
    after: int | None,
    limit: int,
    *,
    keys: Sequence[int],
    ceiling: int,
    named: Sequence[str] = (),
    closed: Sequence[int] = (),
) -> list[StoredVersion]:
    """``scan``, but only of versions whose view key is in ``keys`` (and of the versions with
    an id in ``named`` among those whose key is in ``closed``), up to ``date_added`` ``ceiling``.

    services.view chooses the keys: the rows of every other key are known withheld from the
    caller, and are never read.
    """
    base: dict[str, Any] = {
        "after": -(2**62) if after is None else after,
        "ceiling": ceiling,
        "limit": limit,
    }
    chunks = [list(keys[i : i + _TERMS]) for i in range(0, len(keys), _TERMS)]
    if named and closed:
        chunks = chunks or [[]]
    found: list[list[StoredVersion]] = []
    for n, chunk in enumerate(chunks):
        terms = 1 << max(len(chunk) - 1, 0).bit_length()  # 1, 2, 4, ... 32 statements in all
        params = dict(base)
        params.update((f"k{i}", k) for i, k in enumerate(chunk))
        params.update((f"k{i}", _NO_KEY) for i in range(len(chunk), terms))
        with_named = bool(named and closed and n == 0)
        if with_named:
            params["named"], params["closed"] = list(named), list(closed)
        q = _keyed_statement(filters, terms, with_named)
        found.append([_row(r) for r in conn.execute(q, params).all()])
    if len(found) == 1:
        return found[0]
    return list(itertools.islice(heapq.merge(*found, key=lambda v: v.date_added), limit))


def latest(conn: Connection, ids: Iterable[str]) -> dict[str, StoredVersion]:
    """The latest stored version of each id the node holds."""
    out: dict[str, StoredVersion] = {}
    for chunk in _chunks(sorted(set(ids))):
        for r in conn.execute(_LATEST, {"ids": chunk}).all():
            out[r[1]] = _row(r)
    return out


def versions_of(conn: Connection, object_id: str) -> list[StoredVersion]:
    """Every stored version of one object, oldest ``date_added`` first."""
    return [_row(r) for r in conn.execute(_VERSIONS_OF, {"id": object_id}).all()]


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


def referencing(conn: Connection, object_id: str) -> list[StoredVersion]:
    """The latest versions that reference ``object_id`` (an attribution case's members)."""
    stmt = select(*_COLUMNS).where(
        objects.c.is_latest.is_(True), objects.c.refs.contains(object_id, autoescape=True)
    )
    rows = [_row(r) for r in conn.execute(stmt.order_by(objects.c.date_added)).all()]
    return [v for v in rows if object_id in v.refs.split(" ")]


def of_type(conn: Connection, stix_type: str) -> list[StoredVersion]:
    """The latest version of every object of one type."""
    stmt = select(*_COLUMNS).where(objects.c.is_latest.is_(True), objects.c.type == stix_type)
    return [_row(r) for r in conn.execute(stmt.order_by(objects.c.date_added)).all()]
