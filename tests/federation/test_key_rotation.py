"""`kizuna key rotate`: old seals still verify, new ones use the new key, and a peer learns the
new key from the announcement signed by the old one (and from nothing else)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from federation_kit import GREEN, Federation, indicator

from kizuna.cli.main import cli
from kizuna.core import key_rotation, signing
from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import InvalidInput
from kizuna.services import backup, ingest, keys, ledger, parties
from kizuna.services.node import Node, new_private_key, read_key
from kizuna.storage import objects as store
from kizuna.storage import seals as seal_store


def seal_key(node_name: str, fed: Federation, object_id: str) -> str:
    node = fed.nodes[node_name]
    with node.db.read() as conn:
        modified = store.latest(conn, [object_id])[object_id].modified
        [found] = seal_store.find(conn, [(object_id, modified)]).values()
    return found[0].key_id


def quarantined(node_name: str, fed: Federation, object_id: str) -> bool:
    node = fed.nodes[node_name]
    with node.db.read() as conn:
        return '"quarantine"' in store.latest(conn, [object_id])[object_id].handling


def test_rotation_reaches_peers_and_old_seals_still_verify(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI"])
    a, b = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    fed.agree(
        {"title": "EU–DE", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"}
    )
    before = indicator(1, GREEN, a.home_party.id)
    ingest.ingest(a, [before], submitter=a.home_party, path="import")
    fed.sync_all()
    old_kid = signing.key_id(a.public_key)
    assert seal_key("BSI", fed, before["id"]) == old_kid

    done = keys.rotate(a)
    assert done.old_key_id == old_kid and done.new_key_id != old_kid
    assert read_key(a.home / "node.key") == a.private_key
    assert signing.key_id(signing.public_key_of(read_key(done.retired_file))) == old_kid
    after = indicator(2, GREEN, a.home_party.id)
    ingest.ingest(a, [after], submitter=a.home_party, path="import")
    fed.sync_all()

    # B learned the new key from the announcement and took the new seal; the old one stays.
    assert {k.key_id for k in keys.keys_of(b, party(b, a.home_party.id))} >= {
        old_kid,
        done.new_key_id,
    }
    assert seal_key("BSI", fed, after["id"]) == done.new_key_id
    assert not quarantined("BSI", fed, after["id"])
    assert not quarantined("BSI", fed, before["id"])
    # Every seal either node holds verifies, old and new, and A's ledger still verifies.
    for node in (a, b):
        checked = backup.verify_seals(node)
        assert checked.problems == [] and checked.checked >= 2
    ledger.checkpoint(a)
    assert ledger.verify(a).intact


def party(node: Node, party_id: str) -> Party:
    return next(p for p in parties.all_parties(node) if p.id == party_id)


def test_an_announcement_not_signed_by_a_trusted_key_is_refused(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI"])
    a, b = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    stranger, mine = new_private_key(), new_private_key()
    forged = key_rotation.announce(a.home_party.id, stranger, mine, format_timestamp(b.now()))
    tampered = dict(
        key_rotation.announce(a.home_party.id, a.private_key, mine, format_timestamp(b.now()))
    )
    tampered["new_public_key"] = signing.public_key_of(stranger)
    for announcement, words in ((forged, "is not a key this node trusts"), (tampered, "verify")):
        [outcome] = ingest.ingest(
            b, [announcement], submitter=party(b, a.home_party.id), path="taxii"
        )
        assert outcome.error is not None and words in outcome.error.message, outcome
    known = {k.public_key for k in keys.keys_of(b, party(b, a.home_party.id))}
    assert signing.public_key_of(mine) not in known
    assert signing.public_key_of(stranger) not in known


def test_node_show_and_key_rotate_from_the_cli(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "n")]
    runner = CliRunner()
    made = runner.invoke(cli, [*home, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU",
                               "--kind", "csirt"])  # fmt: skip
    assert made.exit_code == 0, made.output
    shown = orjson.loads(runner.invoke(cli, [*home, "node", "show", "--json"]).stdout)
    assert shown["name"] == "CERT-EU" and shown["fingerprint"].startswith("SHA256:")
    assert shown["key_id"] == signing.key_id(shown["public_key"])
    assert [k["signing"] for k in shown["keys"]] == [True]
    rotated = runner.invoke(cli, [*home, "key", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_public = rotated.stdout.strip()
    again = orjson.loads(runner.invoke(cli, [*home, "node", "show", "--json"]).stdout)
    assert again["public_key"] == new_public != shown["public_key"]
    assert [(k["key_id"], k["signing"]) for k in again["keys"]] == [
        (shown["key_id"], False),
        (again["key_id"], True),
    ]
    text = runner.invoke(cli, [*home, "node", "show"]).stdout
    assert new_public in text.split() and again["fingerprint"] in text.split()
    assert runner.invoke(cli, [*home, "audit", "verify"]).exit_code == 0


def test_a_retired_key_signs_nothing_new_and_what_it_signed_still_verifies(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI"])
    a, b = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    fed.agree(
        {"title": "EU–DE", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"}
    )
    ingest.ingest(a, [indicator(1, GREEN, a.home_party.id)], submitter=a.home_party, path="import")
    fed.sync_all()
    ledger.checkpoint(a)
    old_private = a.private_key
    done = keys.rotate(a)
    fed.sync_all()

    # BSI retires CERT-EU's old key; CERT-EU retires its own.
    eu_at_b = parties.update_party(b, "CERT-EU", retire_keys=(done.old_key_id,))
    assert signing.public_key_of(old_private) not in eu_at_b.public_keys
    parties.update_party(a, "CERT-EU", retire_keys=(done.old_key_id,))
    # What the old key signed still verifies: seals held on both nodes, A's checkpoints.
    for node in (a, b):
        assert backup.verify_seals(node).problems == []
    ledger.checkpoint(a)
    assert ledger.verify(a).intact
    # Nothing new is trusted on the old key's word.
    forged = key_rotation.announce(
        a.home_party.id, old_private, new_private_key(), format_timestamp(b.now())
    )
    [outcome] = ingest.ingest(b, [forged], submitter=party(b, a.home_party.id), path="taxii")
    assert outcome.error is not None and "not a key this node trusts" in outcome.error.message
    # The key the node signs with cannot be retired; an unknown key id is named.
    with pytest.raises(InvalidInput, match="key rotate"):
        parties.update_party(a, "CERT-EU", retire_keys=(done.new_key_id,))
    with pytest.raises(InvalidInput, match="no key 0000"):
        parties.update_party(b, "CERT-EU", retire_keys=("0000000000000000",))
