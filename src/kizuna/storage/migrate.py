"""Schema migrations: Alembic, driven from code (``kizuna db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kizuna.storage.database import Database

_SCRIPTS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head() -> str | None:
    """The newest migration kizuna ships (several heads, should they ever exist, joined by +)."""
    heads = sorted(ScriptDirectory.from_config(_config()).get_heads())
    return "+".join(heads) or None


def current(db: Database) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with db.write_engine.connect() as conn:
        heads = sorted(MigrationContext.configure(conn).get_current_heads())
    return "+".join(heads) or None


def upgrade(db: Database) -> tuple[str | None, str | None]:
    """Bring the database to the newest schema; returns (before, after)."""
    before = current(db)
    config = _config()
    with db.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")
    return before, current(db)
