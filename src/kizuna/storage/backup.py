"""Copies of a node's database: SQLite's online backup API, PostgreSQL's pg_dump/pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from kizuna.errors import InvalidInput


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput(f"{url} is not a SQLite database file")
    return Path(database)


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (writers may go on meanwhile), made 0600."""
    # The online backup API copies page by page, restarting if a writer changes the source.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=4096)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it (no ``+driver``), password kept."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InvalidInput(
            f"{name} is not installed; install the PostgreSQL client tools of the server's major"
            " version (Debian: postgresql-client), or back up with your own pg_dump"
            " (docs/deploy.md)"
        )
    return found


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise InvalidInput(f"{Path(argv[0]).name} failed: " + " / ".join(tail))


def pg_dump(url: str, target: Path) -> None:
    """``pg_dump --format=custom`` of the node's database into ``target`` (made 0600)."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", libpq_url(url)])


def is_empty(url: str) -> bool:
    """Whether the database holds no tables (in the schemas the URL's search path shows)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def pg_restore(url: str, source: Path) -> None:
    """Load a ``pg_dump --format=custom`` file into an empty database, in one transaction."""
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={libpq_url(url)}",
            str(source),
        ]
    )


def drop_everything(url: str) -> None:
    """Drop every table of the database again (a restore that did not verify)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for table in inspect(conn).get_table_names():
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    finally:
        engine.dispose()
