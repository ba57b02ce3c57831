"""A ledger cut off at its end, emptied, or rewritten consistently is caught (issue 12, §4).

Checkpoints are signed every ``ledger_checkpoint_entries`` entries and whenever an entry has
waited ``ledger_checkpoint_minutes`` (on a ledger write, and while serving); each is appended to
``ledger-heads`` in the node folder, outside the database. ``audit verify`` compares the chain
with that file and says how far back it can vouch. The tampering is done with SQL on the
database itself, on SQLite and PostgreSQL; the heads file is left alone, as a database rewrite
would leave it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from kizuna.cli.main import cli
from kizuna.core.ledger import GENESIS, Entry, entry_hash
from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import Filters
from kizuna.http.app import create_app
from kizuna.services import gate, importer, ledger_checkpoints, parties
from kizuna.services import ledger as ledger_service
from kizuna.services.node import Node
from kizuna.storage import ledger as ledger_store
from kizuna.storage import ledger_heads
from kizuna.storage import objects as store
from support import FakeClock

MINUTES = 5


def indicator(n: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'ledger-truncation/{n}')}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '203.0.113.{n}']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
        "object_marking_refs": [TLP_MARKING_ID["clear"]],
    }


class Releases:
    """Publishes TLP:CLEAR indicators on a node and releases them to a party, n at a time."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.n = 0
        self.party: Party = parties.add_party(
            node, "BSI", jurisdiction="DE", kind="government", scheme="DE"
        )

    def release(self, count: int) -> int:
        objects = [indicator(self.n + i) for i in range(count)]
        self.n += count
        assert (
            importer.ingest_objects(self.node, self.node.home_party, objects, "import").failures
            == []
        )
        with self.node.db.read() as conn:
            rows = store.scan(conn, Filters(ids=tuple(o["id"] for o in objects)), None, 1000)
        released = gate.release(self.node, self.party, rows).released
        assert len(released) == count
        return self.head()

    def head(self) -> int:
        with self.node.db.read() as conn:
            return ledger_store.head(conn)[0]


@pytest.fixture
def releases(node: Node) -> Releases:
    node.set_setting("ledger_checkpoint_minutes", str(MINUTES))
    return Releases(node)


def sql(node: Node, statement: str, **params: Any) -> None:
    with node.db.write() as conn:
        conn.execute(text(statement), params)


def db_checkpoints(node: Node) -> list[int]:
    with node.db.read() as conn:
        return [cp.seq for cp in ledger_store.checkpoints(conn)]


def file_heads(node: Node) -> list[int]:
    data = ledger_heads.read(node.home) or b""
    return [orjson.loads(line)["seq"] for line in data.splitlines()]


def said(node: Node) -> list[str]:
    audit = ledger_service.verify(node)
    assert not audit.intact
    return [f"entry {p.seq}: {p.message}" for p in audit.problems]


def cli_verify(node: Node, database_url: str | None = None, *more: str) -> Any:
    url = ["--database-url", database_url] if database_url else []
    return CliRunner().invoke(cli, ["--home", str(node.home), *url, "audit", "verify", *more])


# -- truncation and rewriting -------------------------------------------------------------------


def test_deleting_the_newest_entries_is_caught(
    node: Node, releases: Releases, database_url: str | None
) -> None:
    releases.release(6)
    cp = ledger_service.checkpoint(node)
    assert cp is not None and cp.seq == 6
    # The newest entries go, with the checkpoint that named them.
    sql(node, "DELETE FROM ledger WHERE seq > 3")
    sql(node, "DELETE FROM ledger_checkpoints WHERE seq > 3")
    lines = said(node)
    assert any("entry 4:" in s and "entries 4–6 were removed" in s for s in lines), lines
    result = cli_verify(node, database_url)
    assert result.exit_code == 1
    assert "entries 4–6 were removed (the ledger was truncated)" in result.stderr


def test_deleting_every_entry_and_checkpoint_is_caught(
    node: Node, releases: Releases, database_url: str | None
) -> None:
    releases.release(4)
    ledger_service.checkpoint(node)
    sql(node, "DELETE FROM ledger")
    sql(node, "DELETE FROM ledger_checkpoints")
    assert any("the chain ends at entry 0" in s for s in said(node))
    assert cli_verify(node, database_url).exit_code == 1


def _rewrite_from(node: Node, k: int) -> None:
    """Change entry k's recipient and recompute every hash after it: a whole, valid chain."""
    with node.db.write() as conn:
        entries = ledger_store.entries(conn)
        prev = entries[k - 2].hash if k > 1 else GENESIS
        for e in entries[k - 1 :]:
            recipient = "identity--" + str(uuid.UUID(int=7)) if e.seq == k else e.recipient
            changed = Entry(**{**e.__dict__, "recipient": recipient, "prev_hash": prev, "hash": ""})
            prev = entry_hash(changed)
            conn.execute(
                text("UPDATE ledger SET recipient = :r, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"r": recipient, "p": changed.prev_hash, "h": prev, "s": e.seq},
            )
        # The signed checkpoints would betray the rewrite: they go too.
        conn.execute(text("DELETE FROM ledger_checkpoints"))


def test_a_consistent_rewrite_is_caught_by_the_heads_outside_the_database(
    node: Node, releases: Releases
) -> None:
    releases.release(5)
    ledger_service.checkpoint(node)
    releases.release(3)
    ledger_service.checkpoint(node)
    _rewrite_from(node, 4)
    lines = said(node)
    assert any(
        s.startswith("entry 5:") and "differs from the signed head in ledger-heads" in s
        for s in lines
    ), lines
    assert any(s.startswith("entry 8:") for s in lines), lines


def test_the_heads_file_alone_proves_nothing_was_rewritten_before_it(
    node: Node, releases: Releases
) -> None:
    """The control: the same rewrite after the last head is not caught (nothing vouches)."""
    releases.release(5)
    ledger_service.checkpoint(node)
    releases.release(3)
    _rewrite_from(node, 7)
    audit = ledger_service.verify(node)
    assert audit.intact, audit.problems
    assert audit.vouched.head is not None and audit.vouched.head.seq == 5
    assert audit.vouched.unvouched == 3


def test_a_missing_heads_file_is_caught_when_the_database_has_checkpoints(
    node: Node, releases: Releases
) -> None:
    releases.release(3)
    ledger_service.checkpoint(node)
    ledger_heads.path_in(node.home).unlink()
    assert any("ledger-heads file is missing" in s for s in said(node))


def test_a_head_written_into_the_file_without_the_key_is_caught(
    node: Node, releases: Releases
) -> None:
    releases.release(3)
    cp = ledger_service.checkpoint(node)
    assert cp is not None
    path = ledger_heads.path_in(node.home)
    forged = {**orjson.loads(path.read_bytes()), "seq": 2}
    with path.open("ab") as f:
        f.write(orjson.dumps(forged) + b"\nnot json\n")
    lines = said(node)
    assert any("entry 2:" in s and "no valid signature" in s for s in lines), lines
    assert any("ledger-heads line 3 is not a signed head" in s for s in lines), lines


# -- when checkpoints are made ------------------------------------------------------------------


def test_a_checkpoint_is_signed_every_n_entries(node: Node, releases: Releases) -> None:
    node.set_setting("ledger_checkpoint_entries", "4")
    for _ in range(10):
        releases.release(1)
    assert db_checkpoints(node) == [4, 8]
    assert file_heads(node) == [4, 8]


def test_a_checkpoint_is_signed_once_an_entry_waited_m_minutes(
    node: Node, releases: Releases, clock: FakeClock
) -> None:
    releases.release(3)
    assert ledger_checkpoints.checkpoint(node, only_if_due=True) is None
    clock.advance(MINUTES * 60 - 1)
    assert ledger_checkpoints.checkpoint(node, only_if_due=True) is None
    clock.advance(1)
    cp = ledger_checkpoints.checkpoint(node, only_if_due=True)
    assert cp is not None and cp.seq == 3
    assert file_heads(node) == [3]
    # On a ledger write, too: the entries waiting since before are signed with the new ones.
    releases.release(2)
    clock.advance(MINUTES * 60)
    releases.release(1)
    assert db_checkpoints(node) == [3, 6] and file_heads(node) == [3, 6]


def test_serving_signs_the_checkpoints_that_are_due(sqlite_node: Node, clock: FakeClock) -> None:
    node = sqlite_node
    node.set_setting("ledger_checkpoint_minutes", str(MINUTES))
    Releases(node).release(2)
    with TestClient(create_app(node)):
        pass
    assert db_checkpoints(node) == []  # nothing waited long enough
    clock.advance(MINUTES * 60)
    with TestClient(create_app(node)):
        assert db_checkpoints(node) == [2]
    assert file_heads(node) == [2]


# -- what audit verify says ---------------------------------------------------------------------


def test_audit_verify_says_how_far_back_it_can_vouch(sqlite_node: Node, clock: FakeClock) -> None:
    node = sqlite_node
    releases = Releases(node)
    result = cli_verify(node)
    assert result.exit_code == 0 and "ledger intact: no entries yet" in result.stdout
    releases.release(2)
    result = cli_verify(node)
    assert result.exit_code == 0
    assert "its 2 entries cannot be vouched for against truncation" in result.stdout
    cp = ledger_service.checkpoint(node)
    assert cp is not None
    releases.release(3)
    result = cli_verify(node)
    assert result.exit_code == 0, result.output
    assert (
        f"ledger intact up to entry 2, checkpoint signed at {format_timestamp(cp.time_us)};"
        " entries after the last checkpoint (3 of them) cannot be vouched for against truncation"
    ) in re.sub(r"\s+", " ", result.stdout)
    assert "5 entries, 1 signed checkpoints, 1 heads in ledger-heads" in result.stdout
