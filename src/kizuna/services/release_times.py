"""Releases that time starts: an embargo's end, an agreement's ``valid_from``.

A partner pulls ``added_after`` its cursor, so a version the gate withheld from it when it was
added lies behind that cursor for good, unless something moves it. Two things do, once each,
when the moment that changes the decision passes (``core.view``'s moments):

- **An embargo ends**: every version of a view key whose handling has an embargo (or a
  granular embargo) ending in the swept interval is **re-dated**: given new ``date_added``
  values after everything committed, taken under the same lock as any insert. The versions
  re-enter every partner's feed at its end; those entitled now receive them, those who held
  them already skip them (sync's ``_not_held``), and the gate still judges each one. TAXII
  paging holds: ``date_added`` stays unique and strictly increasing in commit order, so a
  puller that pages on never skips a re-dated version (it is after any ceiling it has read).
- **An agreement starts** (``valid_from``): the node's policy generation moves on, which makes
  every peer read this node's view once again (sync's rescan): an agreement can open whole
  views, so re-dating its objects would be everything anyway. A consent has no start (it
  counts from its storing, which moves the generation already); ends only withhold more.

The moment swept up to is kept in the node's settings table (``_SWEPT``, not a setting a user
sets), so every process of a node sweeps each moment once; the sweep runs before each TAXII
page (``release_due``) and costs one cached comparison while no moment is due.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select, update

from kizuna.core.handling import Handling
from kizuna.core.view import handling_moments
from kizuna.services import state
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import parties as party_store
from kizuna.storage import settings as settings_store
from kizuna.storage.schema import node as node_table
from kizuna.storage.schema import objects as objects_table
from kizuna.storage.schema import pending_markings
from kizuna.storage.schema import settings as settings_table
from kizuna.storage.schema import view_keys as view_keys_table

_SWEPT = "_time_swept_us"
_CACHE = "release_times"


@dataclass(frozen=True)
class _Due:
    """What the last look found: the next moment to come, for this set of keys and policy."""

    keys: int
    generation: int
    next_moment: int | None


@dataclass(frozen=True)
class Swept:
    """What one sweep did."""

    redated: int = 0
    keys: int = 0
    agreements: int = 0


def release_due(node: Node) -> Swept:
    """Apply every moment that passed since the last sweep; cheap while none is due."""
    now = node.now()
    generation = state.current(node).generation
    with node.db.read() as conn:
        keys = _key_count(conn)
    known = node.cache.get(_CACHE)
    if (
        isinstance(known, _Due)
        and known.keys == keys
        and known.generation == generation
        and (known.next_moment is None or now < known.next_moment)
    ):
        return Swept()
    with node.db.write() as conn:
        swept = _sweep(node, conn, now)
        keys = _key_count(conn)
        next_moment = _next_moment(node, conn, now)
    node.cache[_CACHE] = _Due(keys, state.current(node).generation, next_moment)
    return swept


def _key_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(view_keys_table)).scalar_one())


def _swept_until(conn: Connection) -> int:
    found = conn.execute(
        select(settings_table.c.value).where(settings_table.c.name == _SWEPT)
    ).scalar()
    if found is not None:
        return int(found)
    created = conn.execute(select(node_table.c.created_us)).scalar()
    return int(created or 0)


def _embargo_keys(conn: Connection) -> dict[int, list[int]]:
    """Each view key whose handling has an embargo, with the moments its embargoes end."""
    rows = conn.execute(
        select(view_keys_table.c.id, view_keys_table.c.handling).where(
            view_keys_table.c.handling.like('%"embargo"%')
        )
    )
    out: dict[int, list[int]] = {}
    for key, raw in rows:
        moments = list(handling_moments(Handling.from_json(raw)))
        if moments:
            out[int(key)] = moments
    return out


def _starts(node: Node) -> list[int]:
    return [a.valid_from_us for a in state.current(node).agreements]


def _next_moment(node: Node, conn: Connection, now: int) -> int | None:
    moments = [t for ts in _embargo_keys(conn).values() for t in ts] + _starts(node)
    return min((t for t in moments if t > now), default=None)


def _sweep(node: Node, conn: Connection, now: int) -> Swept:
    # Take the date lock first: a concurrent sweep (another process) waits here, then finds
    # the interval swept already.
    if conn.dialect.name == "postgresql":
        conn.execute(select(node_table.c.singleton).with_for_update())
    since = _swept_until(conn)
    if now <= since:
        return Swept()
    due = sorted(
        k for k, moments in _embargo_keys(conn).items() if any(since < t <= now for t in moments)
    )
    redated = _redate(conn, due, now) if due else 0
    started = sum(1 for t in _starts(node) if since < t <= now)
    if started:
        party_store.bump_generation(conn)
    settings_store.put(conn, _SWEPT, str(now))
    return Swept(redated, len(due), started)


_OF_KEYS = (
    select(objects_table.c.date_added, objects_table.c.view_key, objects_table.c.id)
    .where(objects_table.c.view_key.in_(bindparam("keys", expanding=True)))
    .order_by(objects_table.c.date_added)
)
_MOVE = (
    update(objects_table)
    .where(objects_table.c.date_added == bindparam("old"))
    .values(date_added=bindparam("new"))
)
_MOVE_PENDING = (
    update(pending_markings)
    .where(pending_markings.c.date_added == bindparam("old"))
    .values(date_added=bindparam("new"))
)
_RAISE = (
    update(view_keys_table)
    .where(view_keys_table.c.id == bindparam("key"))
    .values(last_added=bindparam("last"))
)


def _redate(conn: Connection, keys: list[int], now: int) -> int:
    """Give every version of these keys a new ``date_added`` after all others, in order."""
    rows = conn.execute(_OF_KEYS, {"keys": keys}).all()
    if not rows:
        return 0
    dates = store.allocate_dates(conn, [oid for _, _, oid in rows], now)
    moves = [{"old": int(old), "new": new} for (old, _, _), new in zip(rows, dates, strict=True)]
    conn.execute(_MOVE, moves)
    conn.execute(_MOVE_PENDING, moves)
    last: dict[int, int] = {}
    for move, (_, key, _) in zip(moves, rows, strict=True):
        last[int(key)] = max(last.get(int(key), 0), move["new"])
    conn.execute(_RAISE, [{"key": k, "last": d} for k, d in last.items()])
    return len(rows)
