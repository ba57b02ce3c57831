"""The background lease across real processes: while one process holds it no other takes it;
killed (SIGKILL, no clean-up), it is free at once for another (PostgreSQL and SQLite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kizuna.storage.database import Database, sqlite_url
from kizuna.storage.lease import Lease
from support import backend_url

HOLDER = """
import sys, time
from pathlib import Path
from kizuna.storage.database import Database
from kizuna.storage.lease import Lease
lease = Lease(Database(sys.argv[1]), Path(sys.argv[2]))
while not lease.take():
    time.sleep(0.05)
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backend_url(request.param) as found:
        yield found or sqlite_url(tmp_path)


def test_one_holder_at_a_time_and_free_when_it_dies(url: str, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(tmp_path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    db = Database(url)
    mine, other = Lease(db, tmp_path), Lease(db, tmp_path)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        assert not mine.take() and not mine.held()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        deadline = time.monotonic() + 30  # the server notices the dropped connection
        while not mine.take():
            assert time.monotonic() < deadline, "the lease of a dead process was never free"
            time.sleep(0.05)
        assert mine.held() and not other.take()
        mine.release()
        assert other.take()
        other.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
        mine.release()
        other.release()
        db.dispose()
