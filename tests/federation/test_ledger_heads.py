"""A holder's signed ledger head travels to the originator with its dissemination receipts.

CERT-EU's AMBER+STRICT indicator goes to BSI, then onward from BSI to NISC once CERT-EU
consents, under an agreement that owes receipts. The receipt CERT-EU syncs back carries BSI's
head signed at the release's entry. CERT-EU keeps it (``audit peers``); when BSI's ledger is
later cut back in its database, even with BSI's ``ledger-heads`` file removed, the head CERT-EU
holds proves to BSI's own ``audit verify --head`` that BSI's ledger once reached that entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
from click.testing import CliRunner
from federation_kit import STRICT, Federation, indicator
from sqlalchemy import text

from kizuna.cli.main import cli
from kizuna.core.ledger_heads import parse_head, parse_heads
from kizuna.services import consents, ingest, ledger, ledger_peers, parties
from kizuna.storage import ledger_heads


def _onward_with_receipts(fed: Federation) -> None:
    a = fed.nodes["CERT-EU"]
    for title, members in (("EU–DE", ["CERT-EU", "BSI"]), ("DE–JP", ["BSI", "NISC"])):
        fed.agree(
            {
                "title": title,
                "parties": members,
                "valid_from": "2026-01-01T00:00:00Z",
                "receipts_owed": True,
            }
        )
    fed.sync_all()
    strict = indicator(2, STRICT, a.home_party.id)
    ingest.ingest(a, [strict], submitter=a.home_party, path="import")
    fed.sync_all()
    consents.grant(a, expires_us=a.now() + 86_400_000_000, objects=[strict["id"]], parties=["NISC"])
    fed.sync_all(rounds=3)


def test_receipts_carry_the_holders_signed_head_to_the_originator(
    federation: Callable[[list[str]], Federation], tmp_path: Path
) -> None:
    fed = federation(["CERT-EU", "BSI", "NISC"])
    _onward_with_receipts(fed)
    a, b = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    strict_id = indicator(2, STRICT)["id"]
    [receipt] = ledger.receipts(a, strict_id)
    entry = receipt["ledger_entry"]
    [to_nisc] = [
        e for e in ledger.show(b, strict_id) if e.recipient == fed.nodes["NISC"].home_party.id
    ]
    assert entry == to_nisc.seq
    # The originator keeps, per holder, the newest head that verifies under the holder's key.
    [held] = ledger_peers.heads_from_holders(a)
    assert held.holder == b.home_party.id and held.problems == ()
    assert held.head is not None and held.head.seq >= entry
    assert held.head == parse_head(receipt["ledger_head"])
    # BSI made that checkpoint and wrote it to its heads file before the receipt left.
    in_file, bad = parse_heads(ledger_heads.read(b.home) or b"")
    assert held.head in in_file and bad == []

    # The originator hands the head to the holder's auditor, who checks it against the chain.
    out = CliRunner().invoke(cli, ["--home", str(a.home), "audit", "peers", "--json"])
    assert out.exit_code == 0, out.output
    heads_json = tmp_path / "heads-from-cert-eu.json"
    heads_json.write_bytes(out.stdout_bytes)
    assert orjson.loads(out.stdout_bytes)[0]["holder_name"] == "BSI"
    check = CliRunner().invoke(
        cli, ["--home", str(b.home), "audit", "verify", "--head", str(heads_json)]
    )
    assert check.exit_code == 0, check.output

    # BSI's ledger is cut back to before that entry, checkpoints and heads file with it.
    with b.db.write() as conn:
        conn.execute(text("DELETE FROM ledger WHERE seq >= :s"), {"s": entry})
        conn.execute(text("DELETE FROM ledger_checkpoints"))
    ledger_heads.path_in(b.home).unlink()
    assert ledger.verify(b).intact  # nothing left at BSI to tell
    problem = ledger_peers.check_our_head(b, held.head)
    assert problem is not None and problem.seq == entry
    assert "the ledger was truncated" in problem.message
    check = CliRunner().invoke(
        cli, ["--home", str(b.home), "audit", "verify", "--head", str(heads_json)]
    )
    assert check.exit_code == 1
    assert f"entry {entry}:" in check.stderr and "truncated" in check.stderr


def test_a_head_is_vouched_for_only_by_the_node_that_signed_it(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI", "NISC"])
    _onward_with_receipts(fed)
    a, c = fed.nodes["CERT-EU"], fed.nodes["NISC"]
    [held] = ledger_peers.heads_from_holders(a)
    assert held.head is not None
    # Checked by a node that did not sign it, the head is refused, not believed.
    problem = ledger_peers.check_our_head(c, held.head)
    assert problem is not None and "not signed by this node's key" in problem.message


def test_a_receipt_whose_head_the_holder_did_not_sign_counts_for_nothing(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI", "NISC"])
    _onward_with_receipts(fed)
    a = fed.nodes["CERT-EU"]
    [receipt] = ledger.receipts(a, indicator(2, STRICT)["id"])
    [before] = ledger_peers.heads_from_holders(a)
    # A later receipt "from BSI" claiming its ledger reached further, with a head it never signed.
    bsi = parties.find(a, "BSI")
    claimed = {**receipt["ledger_head"], "seq": receipt["ledger_head"]["seq"] + 50}
    forged = {
        **receipt,
        "created": "2026-12-01T00:00:00.000Z",
        "modified": "2026-12-01T00:00:00.000Z",
        "ledger_head": claimed,
    }
    [outcome] = ingest.ingest(a, [forged], submitter=bsi, path="taxii")
    assert outcome.status == "stored", outcome
    [after] = ledger_peers.heads_from_holders(a)
    assert after.head == before.head  # the newest head that verifies, not the newest claimed
    assert after.problems == (
        f"receipt {receipt['id']}: its head at entry {claimed['seq']} is not signed by the"
        " holder's keys",
    )
    out = CliRunner().invoke(cli, ["--home", str(a.home), "audit", "peers"])
    assert out.exit_code == 1 and "not signed by the holder's keys" in out.stderr
