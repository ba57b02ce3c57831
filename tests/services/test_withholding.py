"""What the gate withholds, counted per reason: the counts are the gate's own decisions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson

from kizuna.core.taxii import Filters
from kizuna.services import gate, importer, parties, withholding
from kizuna.services.node import Node
from kizuna.storage import objects as store
from shared_data import require_shared_data

UNDEFINED = "marking-definition--97ba4e8b-04f6-57e8-8f6e-3a0f0a7dc0fb"


def test_the_counts_after_an_import_are_the_gates_decisions(
    sqlite_node: Node, tmp_path: Path
) -> None:
    feed = require_shared_data("stix", "dogesec-feeds2stix") / "bundles" / "abuse_ch"
    files = [feed / "sslblacklist" / "acerat.json", feed / "sslblacklist" / "adwind.json"]
    parties.add_party(sqlite_node, "BSI", jurisdiction="DE", kind="government")
    report = importer.import_paths(sqlite_node, files)
    found = withholding.after_import(sqlite_node, report.stored_ranges)
    assert [f.file for f in found] == [str(f) for f in files]
    assert sum(f.objects for f in found) == report.stored
    bsi = parties.find(sqlite_node, "BSI")
    with sqlite_node.db.read() as conn:
        everything = store.scan(conn, Filters(spec_versions=("2.1",)), None, 10_000)
    feed_ids = {o["id"] for f in files for o in orjson.loads(f.read_bytes())["objects"]}
    rows = [v for v in everything if v.id in feed_ids]
    judged = gate.judge(sqlite_node, bsi, rows)
    [total] = withholding.in_all(found)
    assert total.released == sum(1 for _, d in judged if d.released)
    assert total.withheld == sum(1 for _, d in judged if not d.released)
    by_rule: Counter[int] = Counter()
    for r, n in total.reasons.items():
        by_rule[r.rule] += n
    assert by_rule == Counter(d.refusal.rule for _, d in judged if d.refusal is not None)
    # The feed's identity waits for the marking no bundle defines, and the report says so.
    identity = next(v for v in rows if v.type == "identity")
    reason = withholding.Counting(sqlite_node)
    reason.add(withholding.Tally(bsi), [(identity, dict(judged)[identity])])
    assert UNDEFINED in str(reason.reasons)
    assert "held until the definition arrives" in str(reason.reasons)
    # `preview` counts the whole node: the feed and the parties' own identities (released).
    whole = withholding.for_party(sqlite_node, bsi)
    assert whole.reasons == total.reasons and whole.released > total.released
    assert orjson.loads(orjson.dumps(whole.as_json()))["withheld"] == total.withheld


def test_with_no_partner_registered_any_partner_stands_in(sqlite_node: Node) -> None:
    assert withholding.partners(sqlite_node) == [withholding.ANY_PARTNER]
