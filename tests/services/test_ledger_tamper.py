"""Tampering with the ledger in the database is caught by ``kizuna audit verify``, with where.

A node releases objects to three parties (through the gate and over TAXII) and signs two
checkpoints, the last at the head. Then one thing is changed directly in the database: a byte
of any column of any row (Hypothesis picks the row and the byte), a deleted row, two rows'
``seq`` swapped, a forged row, a checkpoint. Both ``services.ledger.verify`` and the CLI
(``kizuna audit verify`` through click's CliRunner on the node's folder) must report the
problem with the entry's number, and the CLI must exit 1; the untouched ledger verifies (exit 0).

Every checkpoint is also kept outside the database, in the node folder's ``ledger-heads``
file, so deleting entries with their checkpoints is caught too (test_ledger_truncation.py has
more). The limit, by design of an unkeyed hash chain: entries forged with correct hashes onto
the end of the chain after the last signed checkpoint cannot be told from real ones, and
``audit verify`` says how many entries that is. ``services.ledger.checkpoint(node)`` (or
``kizuna audit checkpoint``) moves that boundary to the head.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from kizuna.cli.main import cli
from kizuna.core import agreements as core_agreements
from kizuna.core.ledger import GENESIS, Entry, entry_hash
from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.parties import Party
from kizuna.core.signing import public_key_of
from kizuna.core.taxii import RELEASED, Filters
from kizuna.http.app import create_app
from kizuna.services import agreements, gate, importer, parties, tokens
from kizuna.services import ledger as ledger_service
from kizuna.services.node import Node, init_node, new_private_key, open_node
from kizuna.storage import objects as store
from kizuna.storage.database import SQLITE_FILE
from support import FakeClock, SeqIds

COLUMNS = [
    "seq",
    "time_us",
    "recipient",
    "object_id",
    "object_modified",
    "released_id",
    "released_digest",
    "original_digest",
    "outcome",
    "agreement",
    "rules",
    "prev_hash",
    "hash",
]
INTEGER_COLUMNS = frozenset({"seq", "time_us", "object_modified"})
CHECKPOINT_COLUMNS = ["seq", "hash", "time_us", "key_id", "signature"]
TLPS = ["clear", "green", "amber", "red", "green"]


def indicator(n: int, tlp: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'ledger-tamper/{n}')}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "name": f"indicator {n}",
        "pattern": f"[ipv4-addr:value = '203.0.113.{n}']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
        "object_marking_refs": [TLP_MARKING_ID[tlp]],
    }


@dataclass
class Ledger:
    """A node folder whose ledger holds releases to three parties and two checkpoints."""

    home: Path
    node: Node
    entries: int
    checkpoints: list[int]
    recipients: dict[str, set[str]]  # object id -> names of the parties it went to
    names: dict[str, str]  # party id -> name

    @property
    def db(self) -> Path:
        return self.home / SQLITE_FILE


def _release_all(node: Node, recipient: Party) -> set[str]:
    with node.db.read() as conn:
        rows = store.scan(conn, Filters(types=("indicator",)), None, 1000)
    return {r.id for r in gate.release(node, recipient, rows).released}


def _read_over_taxii(node: Node, party: Party) -> set[str]:
    """The indicators a party reads from the released collection, in pages of five."""
    token = tokens.create(node, party.id).value
    params = {"limit": "5", "match[type]": "indicator"}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
    found: set[str] = set()
    with TestClient(create_app(node), headers=headers) as client:
        while True:
            response = client.get(f"/taxii2/root/collections/{RELEASED}/objects/", params=params)
            assert response.status_code == 200, response.text
            page = orjson.loads(response.content)
            found |= {o["id"] for o in page.get("objects", []) if o["type"] == "indicator"}
            if not page.get("more"):
                return found
            params["next"] = page["next"]


def _build(home: Path) -> Ledger:
    node = init_node(
        home,
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        clock=FakeClock(),
        new_id=SeqIds("ledger-tamper"),
    )
    keys = {"BSI": new_private_key(), "NISC": new_private_key(), "ACSC": new_private_key()}
    attrs = {"BSI": ("DE", "DE"), "NISC": ("JP", "JP"), "ACSC": ("AU", None)}
    members = {
        name: parties.add_party(
            node,
            name,
            jurisdiction=attrs[name][0],
            kind="government",
            scheme=attrs[name][1],
            public_keys=(public_key_of(key),),
        )
        for name, key in keys.items()
    }
    doc = agreements.from_template(
        node,
        {
            "title": "EU–Germany–Japan",
            "parties": ["CERT-EU", "BSI", "NISC"],
            "tlp_allowed": ["amber"],
        },
    )
    doc = core_agreements.sign_document(doc, node.home_party.id, node.private_key)
    for name in ("BSI", "NISC"):
        doc = core_agreements.sign_document(doc, members[name].id, keys[name])
    agreements.add(node, doc)
    objects = [indicator(n, TLPS[n % len(TLPS)]) for n in range(24)]
    report = importer.ingest_objects(node, node.home_party, objects, "import")
    assert report.failures == []
    recipients: dict[str, set[str]] = {o["id"]: set() for o in objects}
    for name in ("BSI", "ACSC"):
        for oid in _release_all(node, members[name]):
            recipients[oid].add(name)
    first = ledger_service.checkpoint(node)
    assert first is not None
    # NISC reads over TAXII: the same gate, the same ledger.
    for oid in _read_over_taxii(node, members["NISC"]):
        recipients[oid].add("NISC")
    last = ledger_service.checkpoint(node)
    assert last is not None
    audit = ledger_service.verify(node)
    assert audit.intact, audit.problems
    names = {p.id: p.name for p in parties.all_parties(node)}
    return Ledger(home, node, audit.entries, [first.seq, last.seq], recipients, names)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    built = _build(tmp_path_factory.mktemp("ledger") / "node")
    yield built
    built.node.close()


@contextmanager
def tampered(db: Path) -> Iterator[sqlite3.Connection]:
    """Change the database inside a transaction, then put every ledger row back as it was."""
    with closing(sqlite3.connect(db)) as conn:
        ledger_rows = conn.execute("SELECT * FROM ledger").fetchall()
        checkpoint_rows = conn.execute("SELECT * FROM ledger_checkpoints").fetchall()
        try:
            with conn:
                yield conn
        finally:
            with conn:
                conn.execute("DELETE FROM ledger")
                conn.execute("DELETE FROM ledger_checkpoints")
                marks = ",".join("?" * len(ledger_rows[0]))
                conn.executemany(f"INSERT INTO ledger VALUES ({marks})", ledger_rows)
                marks = ",".join("?" * len(checkpoint_rows[0]))
                conn.executemany(
                    f"INSERT INTO ledger_checkpoints VALUES ({marks})", checkpoint_rows
                )


def cli_verify(home: Path) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), "audit", "verify"])


def names_entry(text: str, seq: int) -> bool:
    return re.search(rf"\bentry {seq}\b", text) is not None


def assert_caught(ledger: Ledger, *seqs: int, cli_too: bool = True) -> None:
    """verify reports a problem naming one of ``seqs``; the CLI says so and exits 1."""
    audit = ledger_service.verify(ledger.node)
    assert not audit.intact
    said = [f"entry {p.seq}: {p.message}" for p in audit.problems]
    assert any(names_entry(line, s) for line in said for s in seqs), (seqs, said)
    if cli_too:
        result = cli_verify(ledger.home)
        assert result.exit_code == 1, result.output
        assert any(names_entry(result.stderr, s) for s in seqs), result.stderr


def assert_intact(ledger: Ledger) -> None:
    audit = ledger_service.verify(ledger.node)
    assert audit.intact, audit.problems
    result = cli_verify(ledger.home)
    assert result.exit_code == 0, result.output
    assert f"ledger intact up to entry {ledger.entries}, checkpoint signed at" in result.stdout
    assert f"{ledger.entries} entries, 2 signed checkpoints, 2 heads in ledger-heads" in (
        result.stdout
    )


def row(conn: sqlite3.Connection, seq: int) -> dict[str, Any]:
    cur = conn.execute("SELECT * FROM ledger WHERE seq = ?", (seq,))
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def flip(value: Any, position: int, mask: int) -> Any:
    """``value`` with one byte (a text column) or one bit (an integer column) changed."""
    if isinstance(value, int):
        return value ^ (1 << (position % 40))
    data = bytearray(value.encode())
    i = position % len(data)
    data[i] ^= mask  # ASCII stays ASCII, so the column stays valid UTF-8 text
    return data.decode()


# -- the untouched ledger -----------------------------------------------------------------------


def test_the_untouched_ledger_verifies(ledger: Ledger) -> None:
    assert ledger.entries > 30
    assert ledger.checkpoints[-1] == ledger.entries
    assert_intact(ledger)


# -- any byte of any row ------------------------------------------------------------------------


@pytest.mark.parametrize("column", COLUMNS)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_changing_any_byte_of_any_row_is_caught(
    ledger: Ledger, column: str, data: st.DataObject
) -> None:
    seq = data.draw(st.integers(1, ledger.entries), label="entry")
    position = data.draw(st.integers(0, 1000), label="byte")
    mask = data.draw(st.integers(1, 127), label="xor")
    with tampered(ledger.db) as conn:
        before = row(conn, seq)[column]
        after = "agreement@1" if before is None else flip(before, position, mask)
        if (
            column == "seq"
            and conn.execute("SELECT 1 FROM ledger WHERE seq = ?", (after,)).fetchone()
        ):
            after = ledger.entries + 1000 + position  # a free number, so the update can happen
        conn.execute(f"UPDATE ledger SET {column} = ? WHERE seq = ?", (after, seq))
        conn.commit()
        assert_caught(ledger, seq)
    audit = ledger_service.verify(ledger.node)
    assert audit.intact, "the test did not put the ledger back"


@pytest.mark.parametrize("column", COLUMNS)
def test_the_cli_reports_a_changed_field_with_its_entry(ledger: Ledger, column: str) -> None:
    seq = ledger.entries // 3
    with tampered(ledger.db) as conn:
        before = row(conn, seq)[column]
        after: object
        if column == "seq":
            after = ledger.entries + 7
        else:  # which entry has no agreement follows the releases' date order
            after = "agreement@1" if before is None else flip(before, 5, 1)
        conn.execute(f"UPDATE ledger SET {column} = ? WHERE seq = ?", (after, seq))
        conn.commit()
        assert_caught(ledger, seq)
    assert_intact(ledger)


def test_clearing_the_agreement_of_an_entry_is_caught(ledger: Ledger) -> None:
    with tampered(ledger.db) as conn:
        seq = conn.execute("SELECT min(seq) FROM ledger WHERE agreement IS NOT NULL").fetchone()[0]
        conn.execute("UPDATE ledger SET agreement = NULL WHERE seq = ?", (seq,))
        conn.commit()
        assert_caught(ledger, seq)


def test_a_byte_that_is_not_utf8_is_reported_not_crashed_on(ledger: Ledger) -> None:
    """A raw byte flip can leave a text column that is not UTF-8; verify must still say where."""
    seq = ledger.entries // 2
    with tampered(ledger.db) as conn:
        conn.execute(
            "UPDATE ledger SET recipient = CAST(CAST(recipient AS BLOB) || X'FF' AS TEXT)"
            " WHERE seq = ?",
            (seq,),
        )
        conn.commit()
        result = cli_verify(ledger.home)
        assert result.exit_code == 1
        assert not isinstance(result.exception, OperationalError), result.exception
        assert names_entry(result.stderr, seq), result.stderr
        assert_caught(ledger, seq, cli_too=False)


# -- removed, reordered, forged -----------------------------------------------------------------


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_deleting_an_entry_is_caught(ledger: Ledger, where: str) -> None:
    seq = {"first": 1, "middle": ledger.entries // 2, "last": ledger.entries}[where]
    with tampered(ledger.db) as conn:
        conn.execute("DELETE FROM ledger WHERE seq = ?", (seq,))
        conn.commit()
        assert_caught(ledger, seq)
    assert_intact(ledger)


def test_deleting_the_tail_with_its_checkpoint_is_caught_by_the_heads_file(
    ledger: Ledger,
) -> None:
    """Once on main this passed as intact: the database alone cannot tell a cut-off chain."""
    first_cut = ledger.checkpoints[0] + 1
    with tampered(ledger.db) as conn:
        conn.execute("DELETE FROM ledger WHERE seq >= ?", (first_cut,))
        conn.execute("DELETE FROM ledger_checkpoints WHERE seq >= ?", (first_cut,))
        conn.commit()
        assert_caught(ledger, first_cut)
    assert_intact(ledger)


def test_swapping_two_entries_seq_is_caught(ledger: Ledger) -> None:
    a, b = ledger.entries // 4, ledger.entries // 4 * 3
    with tampered(ledger.db) as conn:
        conn.execute("UPDATE ledger SET seq = -1 WHERE seq = ?", (a,))
        conn.execute("UPDATE ledger SET seq = ? WHERE seq = ?", (a, b))
        conn.execute("UPDATE ledger SET seq = ? WHERE seq = -1", (b,))
        conn.commit()
        assert_caught(ledger, a)
        assert_caught(ledger, b, cli_too=False)
    assert_intact(ledger)


def _forged(conn: sqlite3.Connection, seq: int, prev_hash: str, correct_hash: bool) -> Entry:
    model = row(conn, 1)
    fields = {
        **model,
        "seq": seq,
        "recipient": "identity--" + str(uuid.UUID(int=7)),
        "prev_hash": prev_hash,
    }
    entry = Entry(**fields)
    return Entry(**{**fields, "hash": entry_hash(entry) if correct_hash else model["hash"]})


def _insert(conn: sqlite3.Connection, e: Entry) -> None:
    values = [getattr(e, c) for c in COLUMNS]
    conn.execute(
        f"INSERT INTO ledger ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        values,
    )


def test_a_forged_entry_in_the_middle_is_caught(ledger: Ledger) -> None:
    """Even with a correct hash of its own, a forged entry breaks the chain after it."""
    k = ledger.entries // 2
    with tampered(ledger.db) as conn:
        prev = row(conn, k - 1)["hash"]
        conn.execute("UPDATE ledger SET seq = -seq - 1 WHERE seq >= ?", (k,))
        conn.execute("UPDATE ledger SET seq = -seq WHERE seq < 0")
        _insert(conn, _forged(conn, k, prev, correct_hash=True))
        conn.commit()
        assert_caught(ledger, k, k + 1)


def test_a_forged_entry_at_the_end_with_a_wrong_hash_is_caught(ledger: Ledger) -> None:
    n = ledger.entries
    with tampered(ledger.db) as conn:
        _insert(conn, _forged(conn, n + 1, row(conn, n)["hash"], correct_hash=False))
        conn.commit()
        assert_caught(ledger, n + 1)


def test_a_forged_entry_appended_with_a_correct_hash_is_the_documented_limit(
    ledger: Ledger,
) -> None:
    """An unkeyed chain cannot tell a well-formed forged tail from a real one until signed;
    ``audit verify`` says it cannot vouch for it."""
    n = ledger.entries
    with tampered(ledger.db) as conn:
        _insert(conn, _forged(conn, n + 1, row(conn, n)["hash"], correct_hash=True))
        conn.commit()
        assert ledger_service.verify(ledger.node).intact
        result = cli_verify(ledger.home)
        assert result.exit_code == 0
        assert "entries after the last checkpoint (1 of them) cannot be vouched for" in " ".join(
            result.stdout.split()
        )
    assert_intact(ledger)


def test_rewriting_the_chain_after_a_change_is_caught_by_the_checkpoints(ledger: Ledger) -> None:
    """Recomputing every hash after a change keeps the chain whole; the signatures do not follow."""
    k = ledger.checkpoints[0] - 2
    with tampered(ledger.db) as conn:
        prev = row(conn, k - 1)["hash"] if k > 1 else GENESIS
        for seq in range(k, ledger.entries + 1):
            fields = row(conn, seq)
            if seq == k:
                fields["recipient"] = "identity--" + str(uuid.UUID(int=7))
            fields["prev_hash"] = prev
            e = Entry(**{**fields, "hash": ""})
            prev = entry_hash(e)
            conn.execute("UPDATE ledger SET recipient = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                         (fields["recipient"], fields["prev_hash"], prev, seq))  # fmt: skip
        conn.commit()
        assert_caught(ledger, *ledger.checkpoints)


# -- checkpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize("column", CHECKPOINT_COLUMNS)
@pytest.mark.parametrize("which", [0, 1], ids=["first-checkpoint", "last-checkpoint"])
def test_altering_a_checkpoint_is_caught(ledger: Ledger, column: str, which: int) -> None:
    seq = ledger.checkpoints[which]
    with tampered(ledger.db) as conn:
        before = conn.execute(
            f"SELECT {column} FROM ledger_checkpoints WHERE seq = ?", (seq,)
        ).fetchone()[0]
        after = seq - 1 if column == "seq" else flip(before, 3, 2)
        conn.execute(f"UPDATE ledger_checkpoints SET {column} = ? WHERE seq = ?", (after, seq))
        conn.commit()
        assert_caught(ledger, seq, seq - 1)
    assert_intact(ledger)


def test_deleting_the_checkpoints_and_a_tail_is_caught_by_the_heads_file(ledger: Ledger) -> None:
    """Once on main this passed as intact: the heads outside the database still name the end."""
    with tampered(ledger.db) as conn:
        conn.execute("DELETE FROM ledger_checkpoints")
        conn.execute("DELETE FROM ledger WHERE seq > ?", (ledger.entries - 3,))
        conn.commit()
        assert_caught(ledger, ledger.entries - 2)
    assert_intact(ledger)


# -- where did my object go? --------------------------------------------------------------------


def _shown(home: Path, object_id: str) -> set[str]:
    result = CliRunner(env={"COLUMNS": "400"}).invoke(
        cli, ["--home", str(home), "audit", "show", "--object", object_id, "--limit", "100000"]
    )
    assert result.exit_code == 0, result.output
    found: set[str] = set()
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|\t]", line)]
        if object_id in cells:
            found.add(cells[cells.index(object_id) + 2])  # object, version, to
    return found


def test_audit_show_lists_exactly_the_recipients_of_an_object(ledger: Ledger) -> None:
    checked = 0
    for object_id, expected in sorted(ledger.recipients.items()):
        entries = ledger_service.show(ledger.node, object_id)
        assert {ledger.names[e.recipient] for e in entries} == expected
        assert _shown(ledger.home, object_id) == expected
        checked += 1
    assert checked == len(ledger.recipients)
    kinds = {frozenset(v) for v in ledger.recipients.values()}
    assert frozenset() in kinds and frozenset({"BSI", "ACSC", "NISC"}) in kinds
    assert frozenset({"BSI", "NISC"}) in kinds, kinds


def test_audit_verify_on_a_reopened_node_folder(ledger: Ledger) -> None:
    reopened = open_node(ledger.home)
    try:
        assert ledger_service.verify(reopened).intact
    finally:
        reopened.close()
