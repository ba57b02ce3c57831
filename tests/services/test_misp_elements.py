"""Every MISP element keeps its own distribution (issue 15): attributes, objects, object
attributes, event reports, analyst notes and opinions, sightings and galaxy clusters each map
to handling at least as strict as their own and their event's; a private element is cut, its
public neighbours still go.

The events are synthetic, built here, one element per distribution level (0-5) and a sharing
group, all inside one public ``tlp:clear`` event; they go through the real importer and the
real gate (``explain.preview``) of a node with four partners under an agreement.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from test_misp_gate import EVERYONE, PARTIES, bsi_uuid, with_partners

from kizuna.services import explain, importer, misp, parties
from kizuna.services.node import Node

TS = "1790000000"


@pytest.fixture
def hub(sqlite_node: Node) -> Node:
    """A node with four partners under an agreement (as in ``test_misp_gate``)."""
    return with_partners(sqlite_node)


ORG = {"name": "Some vendor", "uuid": "c0ffee00-0000-4000-8000-000000000001"}
# Who may receive an element of each distribution level inside an "all communities" event.
ALLOWED: dict[str, frozenset[str]] = {
    "0": frozenset(),
    "1": frozenset({"Maritime ISAC"}),
    "2": EVERYONE,
    "3": EVERYONE,
    "4": frozenset({"BSI"}),
    "5": EVERYONE,
}


def u(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kizuna-test/{label}"))


def sharing_group(node: Node) -> dict[str, Any]:
    return {
        "id": "7",
        "name": "BSI only",
        "SharingGroupOrg": [{"Organisation": {"uuid": bsi_uuid(node), "name": "Bundesamt"}}],
    }


def dist(level: str, node: Node, inherit: bool = True) -> dict[str, Any]:
    # Analyst data, sightings and galaxy clusters have no "inherit" (5): PyMISP refuses it.
    out: dict[str, Any] = {"distribution": level if inherit or level != "5" else "3"}
    if level == "4":
        out["sharing_group_id"] = "7"
        out["SharingGroup"] = sharing_group(node)
    return out


def attribute(label: str, level: str, node: Node, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": u(label),
        "type": "domain",
        "category": "Network activity",
        "value": value,
        "to_ids": True,
        "timestamp": TS,
        **dist(level, node),
        **extra,
    }


def note(label: str, level: str, node: Node) -> dict[str, Any]:
    return {
        "uuid": u(label),
        "note_type_name": "Note",
        "note": f"analyst note {label}",
        "authors": "analyst@example.org",
        "created": "2026-11-01 10:00:00",
        "modified": "2026-11-01 10:00:00",
        **dist(level, node, inherit=False),
    }


def opinion(label: str, level: str, node: Node) -> dict[str, Any]:
    return {
        "uuid": u(label),
        "note_type_name": "Opinion",
        "opinion": "10",
        "comment": f"opinion {label}",
        "authors": "analyst@example.org",
        "created": "2026-11-01 10:00:00",
        "modified": "2026-11-01 10:00:00",
        **dist(level, node, inherit=False),
    }


def sighting(label: str, level: str, node: Node) -> dict[str, Any]:
    return {
        "uuid": u(label),
        "type": "0",
        "date_sighting": TS,
        "source": f"sensor {label}",
        "Organisation": ORG,
        **dist(level, node, inherit=False),
    }


def cluster(label: str, level: str, node: Node) -> dict[str, Any]:
    return {
        "uuid": u(label),
        "type": "threat-actor",
        "value": f"Actor {label}",
        "tag_name": f'misp-galaxy:threat-actor="Actor {label}"',
        "description": f"actor {label}",
        "meta": {},
        **dist(level, node, inherit=False),
    }


LEVELS = ("0", "1", "2", "3", "4", "5")


def rich_event(node: Node) -> tuple[dict[str, Any], dict[str, frozenset[str]]]:
    """A public event with one element of every kind at every distribution level, and for
    each element uuid who may receive what is made of it."""
    allowed: dict[str, frozenset[str]] = {}
    attributes = []
    reports = []
    notes = []
    for level in LEVELS:
        a = attribute(f"attr-{level}", level, node, f"a{level}.example")
        a["Sighting"] = [sighting(f"sight-{level}", level, node)]
        a["Note"] = [note(f"attr-note-{level}", level, node)]
        a["Opinion"] = [opinion(f"attr-opinion-{level}", level, node)]
        attributes.append(a)
        allowed[u(f"attr-{level}")] = ALLOWED[level]
        # The element's own level, and no wider than the attribute it hangs on (level 5).
        for kind in ("sight", "attr-note", "attr-opinion"):
            allowed[u(f"{kind}-{level}")] = ALLOWED[level]
        reports.append(
            {
                "uuid": u(f"report-{level}"),
                "name": f"report {level}",
                "content": f"report at level {level}",
                "timestamp": TS,
                **dist(level, node),
            }
        )
        allowed[u(f"report-{level}")] = ALLOWED[level]
        notes.append(note(f"event-note-{level}", level, node))
        allowed[u(f"event-note-{level}")] = ALLOWED[level]
    # A MISP object whose attributes have every level: each private one is cut from what
    # partners get, the public ones still go.
    obj = {
        "uuid": u("object"),
        "name": "domain-ip",
        "meta-category": "network",
        "template_uuid": "43b3b146-77eb-4931-b4cc-b66c60f28734",
        "timestamp": TS,
        "distribution": "5",
        "Attribute": [
            {
                "uuid": u(f"obj-attr-{level}"),
                "type": "domain",
                "object_relation": "domain",
                "category": "Network activity",
                "value": f"o{level}.example",
                "to_ids": True,
                "timestamp": TS,
                **dist(level, node),
            }
            for level in LEVELS
        ],
    }
    galaxy = {
        "uuid": "7cdff317-a673-4474-84ec-4f1754947823",
        "name": "Threat Actor",
        "type": "threat-actor",
        "GalaxyCluster": [cluster(f"cluster-{level}", level, node) for level in LEVELS],
    }
    for level in LEVELS:
        allowed[u(f"cluster-{level}")] = ALLOWED[level]
    # An object attribute stricter than its object is cut out: its own object, its own level.
    for level in ("0", "1", "2", "4"):
        allowed[u(f"obj-attr-{level}")] = ALLOWED[level]
    event = {
        "uuid": u("event"),
        "info": "every element at every level",
        "date": "2026-11-01",
        "timestamp": TS,
        "distribution": "3",
        "Orgc": ORG,
        "Org": ORG,
        "Tag": [{"name": "tlp:clear"}],
        "Attribute": attributes,
        "Object": [obj],
        "EventReport": reports,
        "Note": notes,
        "Galaxy": [galaxy],
    }
    return event, allowed


def received(node: Node, event: dict[str, Any], tmp_path: Path) -> dict[str, set[str]]:
    """Import the event; per party, the STIX ids it would receive."""
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"Event": event}), encoding="utf-8")
    report = importer.import_paths(node, [path])
    assert not report.failures, report.failures
    return {
        name: {e.version.id for e in explain.preview(node, parties.find(node, name))}
        for name in PARTIES
    }


def uuid_of(stix_id: str) -> str:
    return stix_id.split("--", 1)[1]


def test_misp_stix_makes_an_object_of_every_element(hub: Node) -> None:
    """The reference converter, run directly, turns each element into its own STIX object:
    what the test below checks is not vacuous."""
    event, allowed = rich_event(hub)
    converted = misp.convert(event, "test", misp.directory(hub))
    made = {uuid_of(o["id"]) for o in converted.objects}
    assert {k for k in allowed if not k.startswith(u("obj-attr"))} <= made


def test_each_element_reaches_no_more_than_its_own_distribution(hub: Node, tmp_path: Path) -> None:
    event, allowed = rich_event(hub)
    got = received(hub, event, tmp_path)
    leaks = sorted(
        (name, stix_id)
        for name, ids in got.items()
        for stix_id in ids
        if uuid_of(stix_id) in allowed and name not in allowed[uuid_of(stix_id)]
    )
    assert leaks == []
    # ...and every element goes where its level allows (nothing public held back).
    missing = sorted(
        (name, element)
        for element, names in allowed.items()
        for name in names
        if element not in {uuid_of(i) for i in got[name]}
    )
    assert missing == []


def test_a_private_object_attribute_is_cut_not_the_public_ones(hub: Node, tmp_path: Path) -> None:
    event, _ = rich_event(hub)
    got = received(hub, event, tmp_path)
    for name in PARTIES:
        indicators = [i for i in got[name] if i.startswith("indicator--")]
        mine = [i for i in indicators if uuid_of(i) == u("object")]
        # The object's indicator goes to everyone, without what they may not see.
        assert mine, name
    from kizuna.storage import objects as store

    with hub.db.read() as conn:
        stored = store.latest(conn, {f"indicator--{u('object')}"})
    pattern = json.loads(next(iter(stored.values())).content)["pattern"]
    # What the object's own handling covers stays in it; the stricter ones were cut (each
    # goes, as its own object, only where its level allows: the test above).
    for level in ("3", "5"):
        assert f"o{level}.example" in pattern
    for level in ("0", "1", "2", "4"):
        assert f"o{level}.example" not in pattern
