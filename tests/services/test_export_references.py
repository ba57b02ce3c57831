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
from kizuna.services import export, ingest, misp, parties
from kizuna.services.node import Node

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
