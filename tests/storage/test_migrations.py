"""The migrations build exactly the schema the code describes, as one straight history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select

from kizuna.cli.main import cli
from kizuna.services.node import Node, open_node
from kizuna.storage import migrate
from kizuna.storage.database import Database
from kizuna.storage.schema import metadata, objects, view_keys
from kizuna.storage.view_keys import digest_of


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


def test_the_view_migration_keys_every_version_already_stored(node: Node) -> None:
    """0004_view on a database that holds objects: each version gets the key of its own
    columns, and each key the newest date_added given it (services.view relies on both)."""
    config = migrate._config()
    with node.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    node.db.write_engine.dispose()
    node.db.read_engine.dispose()
    migrate.upgrade(node.db)
    with node.db.read() as conn:
        rows = conn.execute(
            select(
                objects.c.date_added,
                objects.c.type,
                objects.c.source,
                objects.c.submitted_by,
                objects.c.first_hop,
                objects.c.handling,
                objects.c.view_key,
            )
        ).all()
        keys = {r.id: r for r in conn.execute(select(view_keys)).all()}
    assert rows, "the node holds its identity and kizuna's extension-definitions"
    newest: dict[int, int] = {}
    for date_added, stix_type, source, submitted_by, first_hop, handling, key in rows:
        parts = (stix_type, source, submitted_by, bool(first_hop), handling)
        assert keys[key].digest == digest_of(parts)
        newest[key] = max(newest.get(key, date_added), date_added)
    assert {k: keys[k].last_added for k in newest} == newest


def test_the_cache_counter_migration_keeps_the_node_row(node: Node) -> None:
    """0008 from 0007 on a database with its node: the row stays, its caches counter at 0."""
    from kizuna.storage import parties as party_store

    config = migrate._config()
    with node.db.write() as conn:
        party_store.bump_generation(conn)
        config.attributes["connection"] = conn
        command.downgrade(config, "0007_users")
    assert migrate.current(node.db) == "0007_users"
    migrate.upgrade(node.db)
    with node.db.read() as conn:
        generation, caches = party_store.counters(conn)
    assert migrate.current(node.db) == migrate.head() and caches == 0 and generation > 0


def _revisions() -> list[str]:
    scripts = ScriptDirectory.from_config(migrate._config())
    return [s.revision for s in scripts.walk_revisions()][::-1]


def _schema_diff(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", _revisions()[:-1])
def test_db_upgrade_from_every_released_schema(
    revision: str, tmp_path: Path, database_url: str | None
) -> None:
    """`kizuna db upgrade` from each earlier schema: an empty database that migration made, and
    a node holding objects, releases and a checkpoint taken back to it, reach the newest schema;
    the node opens, keeps its objects, and its ledger still verifies."""
    home = ["--home", str(tmp_path / "node")] + (
        ["--database-url", database_url] if database_url else []
    )
    cli_ok(*home, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU", "--kind", "csirt")
    cli_ok(*home, "party", "add", "BSI", "--jurisdiction", "DE", "--kind", "government")
    cli_ok(*home, "export", "--to", "BSI", "--out", str(tmp_path / "x.json"))
    cli_ok(*home, "audit", "checkpoint")
    node = open_node(tmp_path / "node", database_url=database_url)
    try:
        with node.db.read() as conn:
            held = conn.execute(select(func.count()).select_from(objects)).scalar_one()
        config = migrate._config()
        with node.db.write() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
        assert migrate.current(node.db) == revision
    finally:
        node.close()
    upgraded = cli_ok(*home, "db", "upgrade")
    assert f"schema upgraded from {revision} to {migrate.head()}" in upgraded.stdout
    assert _schema_diff(database_url or f"sqlite:///{tmp_path / 'node' / 'kizuna.db'}") == []
    assert cli_ok(*home, "audit", "verify").stdout.startswith("ledger intact")
    node = open_node(tmp_path / "node", database_url=database_url)
    try:
        with node.db.read() as conn:
            assert conn.execute(select(func.count()).select_from(objects)).scalar_one() == held
    finally:
        node.close()

    # A database that this migration built, empty, as an operator of that release left it.
    empty = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        config = migrate._config()
        with empty.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        assert migrate.upgrade(empty) == (revision, migrate.head())
    finally:
        empty.dispose()
    assert _schema_diff(f"sqlite:///{tmp_path / 'old.db'}") == []


def cli_ok(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    assert result.exit_code == 0, result.output
    return result
