"""The node's lease on its background work: one process of a node holds it at a time, and it
is free again the moment that process dies.

PostgreSQL: a session advisory lock (one per schema) on a connection of its own, which the
server drops with the connection. SQLite: an exclusive ``flock`` on ``background.lock`` in the
node folder, which the kernel drops with the process. Neither needs a heartbeat or an expiry
to fail over, and neither can be held by a dead process.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import Connection, text

from kizuna.storage.database import Database

log = logging.getLogger("kizuna.lease")
LOCK_FILE = "background.lock"
_TAKE = text("SELECT pg_try_advisory_lock(7032, hashtext(current_schema()))")
_ALIVE = text("SELECT 1")


class Lease:
    """Try to take it, ask whether it is still held, give it back."""

    def __init__(self, db: Database, home: Path) -> None:
        self.db = db
        self.path = home / LOCK_FILE
        self._conn: Connection | None = None
        self._fd: int | None = None

    def take(self) -> bool:
        """Hold the lease if no other process does; True when this one holds it now."""
        if self.held():
            return True
        if self.db.is_sqlite:
            return self._take_file()
        conn = self.db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if conn.execute(_TAKE).scalar_one():
                self._conn = conn
                return True
        except Exception:
            log.warning("could not ask for the background lease", exc_info=True)
        conn.close()  # back to the pool: it holds no lock
        return False

    def _take_file(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def held(self) -> bool:
        """Whether this process holds the lease (a PostgreSQL connection lost loses it)."""
        if self._fd is not None:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute(_ALIVE)
            return True
        except Exception:
            log.warning("lost the background lease with its connection", exc_info=True)
            self._drop()
            return False

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # closed, not pooled: the session ends, and with it the lock
                conn.close()
            except Exception:
                log.debug("closing the lease connection failed", exc_info=True)
