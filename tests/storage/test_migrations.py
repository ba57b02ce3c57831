"""The migrations build exactly the schema the code describes, as one straight history."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kizuna.services.node import Node
from kizuna.storage import migrate
from kizuna.storage.schema import metadata


def test_the_history_is_one_line() -> None:
    scripts = ScriptDirectory.from_config(migrate._config())
    assert len(scripts.get_heads()) == 1
    assert [s.revision for s in scripts.walk_revisions()][::-1][0] == "0001"


def test_migrated_database_matches_the_schema(node: Node) -> None:
    with node.db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent(node: Node) -> None:
    before, after = migrate.upgrade(node.db)
    assert before == after == migrate.head()
