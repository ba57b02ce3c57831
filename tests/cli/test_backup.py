"""``kizuna backup`` and ``kizuna restore``: a backup restores to a node whose ledger and seals
verify, and a backup that does not verify is refused with nothing of it kept.

Real SQLite files, and on PostgreSQL real pg_dump/pg_restore into databases of their own."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kizuna.cli.main import cli
from kizuna.services import ledger
from kizuna.services.node import open_node

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def indicator(n: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'backup/{n}')}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '192.0.2.{n}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [CLEAR],
    }


def populate(args: list[str], tmp_path: Path) -> None:
    """A node with objects, a partner, releases in the ledger, seals and a signed checkpoint."""
    ok(*args, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU", "--kind", "csirt")
    ok(*args, "party", "add", "BSI", "--jurisdiction", "DE", "--kind", "government")
    feed = tmp_path / "feed.ndjson"
    feed.write_bytes(b"\n".join(orjson.dumps(indicator(n)) for n in range(5)) + b"\n")
    ok(*args, "import", "--quiet", str(feed))
    ok(*args, "export", "--to", "BSI", "--out", str(tmp_path / "released.json"))
    ok(*args, "audit", "checkpoint")


def rewrite_manifest(backup: Path) -> None:
    """What a careful forger (or a consistent corruption) does: digests matching the files."""
    manifest = orjson.loads((backup / "manifest.json").read_bytes())
    manifest["files"] = {
        name: hashlib.sha256((backup / name).read_bytes()).hexdigest()
        for name in manifest["files"]
        if (backup / name).exists()
    }
    (backup / "manifest.json").write_bytes(orjson.dumps(manifest))


def in_sqlite(backup: Path, sql: str) -> None:
    conn = sqlite3.connect(backup / "kizuna.db")
    try:
        with conn:
            assert conn.execute(sql).rowcount >= 1, sql
    finally:
        conn.close()


def nothing_left(target: Path) -> None:
    assert not target.exists()
    assert not [p for p in target.parent.iterdir() if ".restoring-" in p.name]


@pytest.fixture
def backed_up(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "node"
    populate(["--home", str(home)], tmp_path)
    backup = tmp_path / "backup"
    made = ok("--home", str(home), "backup", str(backup))
    assert "kizuna.db  sha256:" in made.stdout and "node.key" in made.stdout
    return home, backup


def test_a_backup_restores_to_a_node_that_verifies(
    backed_up: tuple[Path, Path], tmp_path: Path
) -> None:
    home, backup = backed_up
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    for f in backup.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert {f.name for f in backup.iterdir()} == {
        "kizuna.db",
        "node.key",
        "ledger-heads",
        "manifest.json",
    }

    target = tmp_path / "restored"
    restored = ok("--home", str(target), "restore", str(backup))
    words = restored.stdout.split()
    assert "restored" in words and "CERT-EU" in words
    seals = int(words[words.index("seals") - 1])
    assert seals >= 5, restored.stdout  # the five indicators were sealed when released
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert ok("--home", str(target), "audit", "verify").stdout.startswith("ledger intact")
    assert (
        ok("--home", str(target), "party", "list").stdout
        == ok("--home", str(home), "party", "list").stdout
    )
    original, copy = open_node(home), open_node(target)
    try:
        assert [e.seq for e in ledger.show(copy)] == [e.seq for e in ledger.show(original)]
        assert copy.public_key == original.public_key
    finally:
        original.close()
        copy.close()
    # A backup goes into a new folder only, and a restore never over a node.
    again = run("--home", str(home), "backup", str(backup))
    assert again.exit_code == 1 and "not an empty folder" in again.stderr
    over = run("--home", str(home), "restore", str(backup))
    assert over.exit_code == 1 and "already holds a node" in over.stderr


def cut_short(b: Path) -> None:
    (b / "kizuna.db").write_bytes((b / "kizuna.db").read_bytes()[:-4096])


def forged(sql: str) -> Callable[[Path], None]:
    def spoil(b: Path) -> None:
        in_sqlite(b, sql)
        rewrite_manifest(b)

    return spoil


def heads_dropped(b: Path) -> None:
    (b / "ledger-heads").unlink()
    rewrite_manifest(b)


TAMPERING: dict[str, tuple[Callable[[Path], None], str]] = {
    "a file cut short": (cut_short, "does not match its digest"),
    "a release removed from the ledger": (
        forged("DELETE FROM ledger WHERE seq = (SELECT MAX(seq) FROM ledger)"),
        "ledger:",
    ),
    "a ledger entry changed": (
        forged("UPDATE ledger SET recipient = 'identity--x' WHERE seq = 1"),
        "ledger:",
    ),
    "an object's content changed under its seal": (
        forged(
            "UPDATE objects SET content = CAST(REPLACE(CAST(content AS TEXT),"
            " '192.0.2.3', '198.51.100.3') AS BLOB) WHERE type = 'indicator'"
        ),
        "the content does not match the sealed digest",
    ),
    "the ledger-heads file dropped": (heads_dropped, "ledger-heads"),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_a_backup_that_does_not_verify_is_refused(
    backed_up: tuple[Path, Path], tmp_path: Path, how: str
) -> None:
    _, backup = backed_up
    spoil, words = TAMPERING[how]
    spoil(backup)
    target = tmp_path / "restored"
    refused = run("--home", str(target), "restore", str(backup))
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("error: "), refused.stderr
    assert words in refused.stderr, refused.stderr
    nothing_left(target)


def test_a_folder_that_is_no_backup_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    refused = run("--home", str(tmp_path / "t"), "restore", str(tmp_path / "empty"))
    assert refused.exit_code == 1 and "not a kizuna backup" in refused.stderr
    nothing_left(tmp_path / "t")


# --- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture
def databases() -> Iterator[Callable[[], str]]:
    """Fresh PostgreSQL databases (pg_dump takes a whole database), dropped afterwards."""
    base = os.environ.get("KIZUNA_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL tests need KIZUNA_TEST_DATABASE_URL")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = "kzb_" + uuid.uuid4().hex[:12]
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        made.append(name)
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.mark.postgres
def test_postgresql_backup_restores_and_a_forged_one_is_refused(
    databases: Callable[[], str], tmp_path: Path
) -> None:
    source_url, target_url, forged_url = databases(), databases(), databases()
    home = ["--home", str(tmp_path / "node"), "--database-url", source_url]
    populate(home, tmp_path)
    backup = tmp_path / "backup"
    ok(*home, "backup", str(backup))
    assert (backup / "database.pgdump").exists()

    forged = tmp_path / "forged"
    forged.mkdir()
    for f in backup.iterdir():
        (forged / f.name).write_bytes(f.read_bytes())
    head = orjson.loads((forged / "ledger-heads").read_bytes().splitlines()[-1])
    head["seq"] += 7  # a head beyond the chain: the database lost releases (or it is forged)
    (forged / "ledger-heads").write_bytes(orjson.dumps(head) + b"\n")
    rewrite_manifest(forged)
    refused = run(
        "--home", str(tmp_path / "f"), "--database-url", forged_url, "restore", str(forged)
    )
    assert refused.exit_code == 1 and "ledger:" in refused.stderr, refused.output
    nothing_left(tmp_path / "f")
    engine = create_engine(forged_url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname='public'"))
            assert tables.scalar_one() == 0, "a refused restore leaves the database empty"
    finally:
        engine.dispose()

    target = ["--home", str(tmp_path / "restored"), "--database-url", target_url]
    restored = ok(*target, "restore", str(backup))
    assert "seals verified" in restored.stdout
    assert ok(*target, "audit", "verify").stdout.startswith("ledger intact")
    no_url = run("--home", str(tmp_path / "x"), "restore", str(backup))
    assert no_url.exit_code == 1 and "--database-url" in no_url.stderr
