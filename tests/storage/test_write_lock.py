"""The node's write lock on PostgreSQL and the retry of transient failures, on a real server."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from kizuna.storage.database import Database, is_transient, retrying
from support import backend_url


@pytest.fixture
def pg_url() -> object:
    with backend_url("postgresql") as url:
        yield url


def test_a_write_waiting_past_its_lock_timeout_is_run_again(pg_url: str) -> None:
    # The writer gives up on the lock after 100 ms; the holder lets go after 400 ms.
    options = make_url(pg_url).query["options"]
    url = make_url(pg_url).update_query_dict({"options": f"{options} -clock_timeout=100ms"})
    db = Database(url.render_as_string(hide_password=False))
    holder = create_engine(pg_url)
    failures: list[BaseException] = []
    try:
        with holder.connect() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(7031, hashtext(current_schema()))"))
            timer = threading.Timer(0.4, conn.rollback)
            timer.start()
            calls = 0

            def work() -> int:
                nonlocal calls
                calls += 1
                try:
                    with db.write() as w:
                        return int(w.execute(text("SELECT 1")).scalar_one())
                except DBAPIError as exc:
                    failures.append(exc)
                    raise

            assert retrying(work, attempts=20, pause=0.05) == 1
            timer.join()
        assert calls > 1  # it failed while the lock was held, then succeeded
        assert all(is_transient(f) for f in failures)
    finally:
        db.dispose()
        holder.dispose()


def test_other_failures_are_not_run_again(pg_url: str) -> None:
    db = Database(pg_url)
    calls = 0

    def work() -> None:
        nonlocal calls
        calls += 1
        with db.write() as w:
            w.execute(text("SELECT * FROM no_such_table"))

    try:
        with pytest.raises(DBAPIError) as caught:
            retrying(work)
        assert calls == 1 and not is_transient(caught.value)
    finally:
        db.dispose()
