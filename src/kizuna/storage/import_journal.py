"""The bulk-import journal: how far each file got (``schema.import_journal``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from kizuna.storage.schema import import_journal as journal


@dataclass(frozen=True)
class Entry:
    """One file's progress."""

    key: str
    position: int
    offset: int
    finished: bool
    stored: int
    unchanged: int
    failed: int


def get(conn: Connection, key: str) -> Entry | None:
    row = conn.execute(select(journal).where(journal.c.key == key)).first()
    if row is None:
        return None
    return Entry(
        row.key, row.position, row.offset, row.finished, row.stored, row.unchanged, row.failed
    )


def save(
    conn: Connection,
    key: str,
    *,
    path: str,
    size: int,
    mtime_ns: int,
    entry: Entry,
    now_us: int,
) -> None:
    values = {
        "path": path,
        "size": size,
        "mtime_ns": mtime_ns,
        "position": entry.position,
        "offset": entry.offset,
        "finished": entry.finished,
        "stored": entry.stored,
        "unchanged": entry.unchanged,
        "failed": entry.failed,
        "updated_us": now_us,
    }
    done = conn.execute(update(journal).where(journal.c.key == key).values(**values))
    if done.rowcount == 0:
        conn.execute(insert(journal).values(key=key, **values))


def forget(conn: Connection, key: str) -> None:
    conn.execute(delete(journal).where(journal.c.key == key))
