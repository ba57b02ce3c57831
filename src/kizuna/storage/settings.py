"""Node settings stored in the database (defaults live in ``kizuna.core.settings``)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from kizuna.storage.schema import settings


def stored(conn: Connection) -> dict[str, str]:
    return {name: value for name, value in conn.execute(select(settings))}


def put(conn: Connection, name: str, value: str) -> None:
    conn.execute(delete(settings).where(settings.c.name == name))
    conn.execute(insert(settings).values(name=name, value=value))


def reset(conn: Connection, name: str) -> None:
    conn.execute(delete(settings).where(settings.c.name == name))
