"""Exports carry what was released (issue 15.3, 16.4): a container whose member is released as a
derivative (under a new id) references that derivative, so a partner's bundle references nothing
it does not contain; a MISP export holds every released attribute."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from test_misp_gate import with_partners

from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.redaction import DERIVATIVE_EXTENSION
from kizuna.core.stix.refs import references
from kizuna.services import export, gate, ingest, misp, parties
from kizuna.services.node import Node
from kizuna.storage import objects as store

T = "2026-06-01T00:00:00.000Z"
CLEAR, RED = TLP_MARKING_ID["clear"], TLP_MARKING_ID["red"]


def sid(kind: str, n: int) -> str:
    return f"{kind}--aa000000-0000-4000-8000-{n:012d}"


def world() -> list[dict[str, Any]]:
    """A public report of a public observed-data that saw one public and one TLP:RED address,
    and of a public indicator; the observed-data goes to partners as a derivative."""
    public_ip = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": sid("ipv4-addr", 1),
        "value": "198.51.100.1",
        "object_marking_refs": [CLEAR],
    }
    red_ip = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": sid("ipv4-addr", 2),
        "value": "198.51.100.2",
        "object_marking_refs": [RED],
    }
    observed = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": sid("observed-data", 3),
        "created": T,
        "modified": T,
        "first_observed": T,
        "last_observed": T,
        "number_observed": 1,
        "object_refs": [public_ip["id"], red_ip["id"]],
        "object_marking_refs": [CLEAR],
    }
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", 4),
        "created": T,
        "modified": T,
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": T,
        "object_marking_refs": [CLEAR],
    }
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": sid("report", 5),
        "created": T,
        "modified": T,
        "name": "public report",
        "published": T,
        "object_refs": [observed["id"], indicator["id"]],
        "object_marking_refs": [CLEAR],
    }
    return [public_ip, red_ip, observed, indicator, report]  # fmt: skip


@pytest.fixture
def hub(sqlite_node: Node) -> Node:
    node = with_partners(sqlite_node)
    outcomes = ingest.ingest(node, world(), submitter=node.home_party, path="import")
    assert all(o.ok for o in outcomes), outcomes
    return node


def test_a_partners_bundle_references_only_what_it_contains(hub: Node) -> None:
    bsi = parties.find(hub, "BSI")
    objects = orjson.loads(export.bundle_for(hub, bsi, preview=True))["objects"]
    held = {o["id"] for o in objects}
    observed = [o for o in objects if o["type"] == "observed-data"]
    assert len(observed) == 1 and DERIVATIVE_EXTENSION in observed[0]["extensions"]
    report = next(o for o in objects if o["type"] == "report")
    assert observed[0]["id"] in report["object_refs"]  # the derivative, not the original
    dangling = {
        (o["id"], r)
        for o in objects
        for r in references(o, authorship=False)
        if r not in held and not r.startswith("marking-definition--")
    }
    assert dangling == set()


def test_the_home_still_gets_the_originals(hub: Node) -> None:
    objects = orjson.loads(export.bundle_for(hub, hub.home_party, preview=True))["objects"]
    report = next(o for o in objects if o["type"] == "report")
    assert report["id"] == sid("report", 5)
    assert report["object_refs"] == [sid("observed-data", 3), sid("indicator", 4)]


def test_a_misp_export_holds_every_released_attribute(hub: Node) -> None:
    bsi = parties.find(hub, "BSI")
    events = misp.export_events(hub, bsi, preview=True)["response"]
    values = {
        a["value"]
        for e in events
        for a in [
            *e["Event"].get("Attribute", ()),
            *(x for o in e["Event"].get("Object", ()) for x in o.get("Attribute", ())),
        ]
    }
    assert "198.51.100.1" in values
    assert "198.51.100.2" not in values


def _cycle(red_source: bool) -> list[dict[str, Any]]:
    """A public report naming a public indicator and a relationship that names the report back
    (a cycle); the relationship's source is TLP:RED or public."""
    source = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", 11),
        "created": T,
        "modified": T,
        "pattern": "[ipv4-addr:value = '203.0.113.11']",
        "pattern_type": "stix",
        "valid_from": T,
        "object_marking_refs": [RED if red_source else CLEAR],
    }
    public = dict(source, id=sid("indicator", 12), object_marking_refs=[CLEAR])
    relationship = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": sid("relationship", 13),
        "created": T,
        "modified": T,
        "relationship_type": "related-to",
        "source_ref": source["id"],
        "target_ref": sid("report", 14),
        "object_marking_refs": [CLEAR],
    }
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": sid("report", 14),
        "created": T,
        "modified": T,
        "name": "a report in a cycle",
        "published": T,
        "object_refs": [relationship["id"], public["id"]],
        "object_marking_refs": [CLEAR],
    }
    return [source, public, relationship, report]


@pytest.mark.parametrize("red_source", [False, True])
def test_a_reference_cycle_releases_whole_or_names_nothing_withheld(
    sqlite_node: Node, red_source: bool
) -> None:
    """Objects that name each other go whole when each may go; when one of them is withheld
    for a reference of its own, the others do not name it (whichever is judged first)."""
    node = with_partners(sqlite_node)
    objs = _cycle(red_source)
    assert all(o.ok for o in ingest.ingest(node, objs, submitter=node.home_party, path="import"))
    bsi = parties.find(node, "BSI")
    objects = orjson.loads(export.bundle_for(node, bsi, preview=True))["objects"]
    got = {o["id"]: o for o in objects if o["type"] in ("report", "relationship", "indicator")}
    if not red_source:
        assert {o["id"] for o in objs} <= got.keys()
        assert all(DERIVATIVE_EXTENSION not in o.get("extensions", {}) for o in got.values())
        return
    assert sid("indicator", 11) not in got and sid("relationship", 13) not in got
    [report] = [o for o in got.values() if o["type"] == "report"]
    assert report["object_refs"] == [sid("indicator", 12)]
    assert sid("relationship", 13) not in orjson.dumps(objects).decode()


@pytest.mark.parametrize("note_first", [False, True])
def test_a_cycle_through_a_withheld_relationship_names_it_nowhere(
    sqlite_node: Node, note_first: bool
) -> None:
    """A note about a relationship whose source is TLP:RED, the relationship pointing back at
    the note, and a report of the note and a public indicator: the relationship is withheld, so
    the note (about nothing else) is withheld too and the report does not name it, in whichever
    order they are judged (the first one judged is met again in the cycle)."""
    node = with_partners(sqlite_node)
    source, public, relationship, report = _cycle(red_source=True)
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": sid("note", 15),
        "created": T,
        "modified": T,
        "content": "about the relationship",
        "object_refs": [relationship["id"]],
        "object_marking_refs": [CLEAR],
    }
    relationship["target_ref"] = note["id"]
    report["object_refs"] = [note["id"], public["id"]]
    objs = [source, public, relationship, note, report]
    assert all(o.ok for o in ingest.ingest(node, objs, submitter=node.home_party, path="import"))
    ids = [note["id"], report["id"], relationship["id"]]
    with node.db.read() as conn:
        held = store.latest(conn, ids)
    order = [held[i] for i in ids]
    if not note_first:
        order.reverse()
    decisions = {v.id: d for v, d in gate.judge(node, parties.find(node, "BSI"), order)}
    assert not decisions[relationship["id"]].released
    # The note's derivative would have nothing left: nothing is released.
    note_id = str(note["id"])
    assert gate.released_id(held[note_id], decisions[note_id]) is None
    assert decisions[report["id"]].withheld_refs == {note["id"]}
