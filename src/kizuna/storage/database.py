"""Connections: embedded SQLite (WAL, one writer) or PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

SQLITE_FILE = "kizuna.db"
log = logging.getLogger("kizuna.database")
T = TypeVar("T")

# The node's write lock on PostgreSQL: a transaction-scoped advisory lock, one per schema (a
# database may hold several nodes, one per schema). Taken first in every write transaction.
_WRITE_LOCK = text("SELECT pg_advisory_xact_lock(7031, hashtext(current_schema()))")
# SQLSTATEs worth trying again: serialization failure, deadlock, lock not available.
_TRANSIENT_STATES = frozenset({"40001", "40P01", "55P03"})


def sqlite_url(home: Path) -> str:
    """The URL of a node's embedded SQLite database."""
    return f"sqlite:///{(home / SQLITE_FILE).resolve()}"


def redact_url(url: str) -> str:
    """A database URL safe to print or log: any password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def _private_files(url: str) -> None:
    """The database and its -wal/-shm files readable by the node's user only (0600).

    SQLite gives -wal and -shm the mode of the database file, so creating that file 0600
    first is enough for a new node; an older node's files are tightened on open.
    """
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(0o600)


class Database:
    """One database: a pool of readers and one writer at a time.

    SQLite allows a single writer; kizuna serialises writes in-process with a lock and starts
    them with ``BEGIN IMMEDIATE`` so concurrent processes wait instead of failing late.
    PostgreSQL writers of every process serialise on the node's advisory lock, taken as the
    first statement of each write transaction: what a writer reads it can rely on until it
    commits (no two processes store one version twice, the ledger stays one chain), and
    ``date_added`` order is commit order. Readers never wait on it.
    """

    def __init__(self, url: str, *, synchronous: str = "FULL") -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock()
        if self.is_sqlite:
            _private_files(url)
            self.read_engine = self._sqlite_engine(url, synchronous, "BEGIN", pool_size=8)
            self.write_engine = self._sqlite_engine(url, synchronous, "BEGIN IMMEDIATE", 1)
        else:
            engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
            self.read_engine = self.write_engine = engine

    @staticmethod
    def _sqlite_engine(url: str, synchronous: str, begin: str, pool_size: int) -> Engine:
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=0 if pool_size == 1 else 8,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is lazy).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Straight to the driver: SQLAlchemy's statement machinery would cost more than the
            # BEGIN itself, and every request opens several transactions.
            conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        with self._write_lock, self.write_engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(_WRITE_LOCK)
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot for the block."""
        with self.read_engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def is_transient(exc: BaseException) -> bool:
    """A failure that trying the same transaction again may cure: a serialization failure,
    a deadlock, a lock timeout (PostgreSQL), a busy database (SQLite)."""
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    if state in _TRANSIENT_STATES:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


def retrying(work: Callable[[], T], attempts: int = 5, pause: float = 0.05) -> T:
    """Run ``work`` (whole transactions, nothing half-done on failure) again after a transient
    database failure, up to ``attempts`` times with a growing, jittered pause."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            log.warning("transient database failure (attempt %d): %s", attempt, exc.orig)
            time.sleep(pause * attempt * (1 + random.random()))
    raise AssertionError("unreachable")
