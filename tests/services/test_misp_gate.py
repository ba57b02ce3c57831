"""MISP handling through the gate: per distribution level and per classification taxonomy, what
each party would receive (``explain.preview``) is never wider than what the MISP event allowed."""

from __future__ import annotations

import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from kizuna.core import agreements as core
from kizuna.core.signing import public_key_of
from kizuna.services import agreements, explain, importer, parties
from kizuna.services.node import Node, new_private_key

EXAMPLES = resources.files("kizuna") / "data" / "agreements"
# Name: (jurisdiction, kind, scheme, client). All five are in partnership-v3 (max rank 2).
PARTIES = {
    "BSI": ("DE", "government", "DE", False),
    "NISC": ("JP", "government", "JP", False),
    "ACSC": ("AU", "government", None, False),
    "Maritime ISAC": ("DE", "private", None, True),
}
EVERYONE = frozenset(PARTIES)


@pytest.fixture
def hub(sqlite_node: Node) -> Node:
    """CERT-EU's node with four partners under the v3 partnership, signed by everyone."""
    return with_partners(sqlite_node)


def with_partners(sqlite_node: Node) -> Node:
    """``sqlite_node`` with the four partners of ``PARTIES`` under the v3 partnership."""
    keys = {name: new_private_key() for name in PARTIES}
    for name, (jurisdiction, kind, scheme, client) in PARTIES.items():
        parties.add_party(
            sqlite_node,
            name,
            jurisdiction=jurisdiction,
            kind=kind,
            scheme=scheme,
            client=client,
            public_keys=(public_key_of(keys[name]),),
        )
    with resources.as_file(EXAMPLES / "partnership-v3.yaml") as path:
        draft = agreements.from_template(sqlite_node, agreements.load_document(Path(path)))
    for p in draft["parties"]:
        key = sqlite_node.private_key if p["id"] == sqlite_node.home_party.id else keys[p["name"]]
        draft = core.sign_document(draft, p["id"], key)
    assert agreements.add(sqlite_node, draft).state == "active"
    return sqlite_node


def misp_event(distribution: int, *tags: str, sharing_group: Any = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "info": "gate test",
        "date": "2026-11-01",
        "timestamp": "1790000000",
        "distribution": str(distribution),
        "Orgc": {"name": "Some vendor", "uuid": "c0ffee00-0000-4000-8000-000000000001"},
        "Org": {"name": "Some vendor", "uuid": "c0ffee00-0000-4000-8000-000000000001"},
        "Tag": [{"name": t} for t in tags],
        "Attribute": [
            {
                "uuid": str(uuid.uuid4()),
                "type": "domain",
                "category": "Network activity",
                "value": "evil.example",
                "to_ids": True,
                "timestamp": "1790000000",
                "distribution": "5",
            },
            {
                "uuid": str(uuid.uuid4()),
                "type": "ip-dst",
                "category": "Network activity",
                "value": "198.51.100.7",
                "to_ids": False,
                "timestamp": "1790000000",
                "distribution": "5",
            },
        ],
    }
    if sharing_group is not None:
        event["SharingGroup"] = sharing_group
        event["sharing_group_id"] = sharing_group.get("id", "1")
    return event


def receivers(node: Node, event: dict[str, Any], tmp_path: Path) -> dict[str, frozenset[str]]:
    """Import the event; for each party, the event's objects it would receive."""
    path = tmp_path / f"{event['uuid']}.json"
    path.write_text(json.dumps({"Event": event}), encoding="utf-8")
    report = importer.import_paths(node, [path])
    assert not report.failures, report.failures
    mine = {a["uuid"] for a in event["Attribute"]} | {event["uuid"]}
    out = {}
    for name in PARTIES:
        party = parties.find(node, name)
        got = {e.version.id for e in explain.preview(node, party)}
        out[name] = frozenset(i for i in got if i.split("--", 1)[1] in mine)
    return out


def who(received: dict[str, frozenset[str]]) -> frozenset[str]:
    return frozenset(name for name, ids in received.items() if ids)


def bsi_uuid(node: Node) -> str:
    return parties.find(node, "BSI").id.split("--", 1)[1]


DISTRIBUTION_CASES = {
    # level: who may receive it (first-hop releases by CERT-EU, the source of record)
    0: frozenset(),  # your organisation only: nothing leaves
    1: frozenset({"Maritime ISAC"}),  # this community: the home party's clients
    2: EVERYONE,  # connected communities: one hop to partners under an agreement
    3: EVERYONE,  # all communities
    4: frozenset({"BSI"}),  # the sharing group's members that are parties
}


@pytest.mark.parametrize("level", sorted(DISTRIBUTION_CASES), ids=lambda n: f"distribution-{n}")
def test_each_distribution_level_reaches_no_more_than_misp_allowed(
    hub: Node, tmp_path: Path, level: int
) -> None:
    sharing_group = {
        "id": "3",
        "name": "DE/EU",
        "SharingGroupOrg": [
            {"Organisation": {"uuid": bsi_uuid(hub), "name": "Bundesamt"}},
            {"Organisation": {"uuid": str(uuid.uuid4()), "name": "Not a party"}},
        ],
    }
    got = receivers(
        hub, misp_event(level, sharing_group=sharing_group if level == 4 else None), tmp_path
    )
    assert who(got) == DISTRIBUTION_CASES[level]
    widest = receivers(hub, misp_event(3), tmp_path)
    assert who(got) <= who(widest)
    for name, ids in got.items():
        # Nothing an event reveals goes anywhere its own container does not go.
        assert not ids or any(i.startswith(("grouping--", "report--")) for i in ids), name


def test_a_sharing_group_of_strangers_keeps_the_event_home(hub: Node, tmp_path: Path) -> None:
    strangers = {"id": "9", "SharingGroupOrg": [{"Organisation": {"uuid": str(uuid.uuid4())}}]}
    assert who(receivers(hub, misp_event(4, sharing_group=strangers), tmp_path)) == frozenset()


def test_an_attribute_narrower_than_its_event_stays_home(hub: Node, tmp_path: Path) -> None:
    event = misp_event(3, "tlp:green")
    event["Attribute"][0]["distribution"] = "0"
    got = receivers(hub, event, tmp_path)
    narrow = event["Attribute"][0]["uuid"]
    for ids in got.values():
        assert not any(narrow in i for i in ids)
    assert who(got) == EVERYONE  # the rest of the event still goes


CLASSIFICATION_CASES = [
    # tag, who may receive it under partnership-v3 (max rank 2; rank 1 has no JP level)
    ('de-vs:Einstufung="VS-NfD"', frozenset({"BSI"})),
    ('de-vs:Einstufung="VS-VERTRAULICH"', frozenset({"BSI", "NISC"})),
    ('de-vs:Einstufung="GEHEIM"', frozenset()),  # rank 3 > the agreement's maximum
    ('de-vs:Einstufung="STRENG GEHEIM"', frozenset()),
    ("euci:R-UE/EU-R", frozenset({"BSI"})),
    ("euci:C-UE/EU-C", frozenset({"BSI", "NISC"})),
    ("euci:S-UE/EU-S", frozenset()),
    ("euci:TS-UE/EU-TS", frozenset()),
    ('nato:classification="NR"', frozenset({"BSI"})),
    ('nato:classification="NC"', frozenset({"BSI", "NISC"})),
    ('nato:classification="NS"', frozenset()),
    ('nato:classification="CTS"', frozenset()),
    ('nato:classification="NC-A"', frozenset()),  # ATOMAL: no agreement names it
]


@pytest.mark.parametrize(
    ("tag", "allowed"), CLASSIFICATION_CASES, ids=[t for t, _ in CLASSIFICATION_CASES]
)
def test_each_classification_reaches_no_more_than_cleared_parties(
    hub: Node, tmp_path: Path, tag: str, allowed: frozenset[str]
) -> None:
    got = who(receivers(hub, misp_event(3, tag), tmp_path))
    assert got <= allowed  # never wider
    assert got == allowed
    # ...and never wider than the same event unclassified.
    assert got <= who(receivers(hub, misp_event(3), tmp_path))


def test_tlp_red_reaches_nobody_unlisted(hub: Node, tmp_path: Path) -> None:
    assert who(receivers(hub, misp_event(3, "tlp:red"), tmp_path)) == frozenset()
