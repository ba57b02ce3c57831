"""STIX 2.0 → 2.1 upgrade: ids, markings and relationships kept; every result validates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kizuna.core.stix.upgrade import is_stix20, upgrade, upgrade_all
from kizuna.core.stix.validate import validate
from shared_data import require_shared_data

AMBER_1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
STAMP = "2017-05-09T10:00:00.000Z"
OD = "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"


def observed_data(**extra: Any) -> dict[str, Any]:
    return {
        "type": "observed-data",
        "id": OD,
        "created": STAMP,
        "modified": STAMP,
        "first_observed": STAMP,
        "last_observed": STAMP,
        "number_observed": 1,
        "objects": {
            "0": {"type": "ipv4-addr", "value": "198.51.100.3"},
            "1": {"type": "ipv4-addr", "value": "203.0.113.1"},
            "2": {"type": "network-traffic", "src_ref": "0", "dst_ref": "1", "protocols": ["tcp"]},
            "3": {"type": "process", "pid": 7, "binary_ref": "4"},
            "4": {"type": "file", "name": "evil.exe"},
        },
        **extra,
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"type": "indicator", "created": STAMP}, True),
        ({"type": "indicator", "created": STAMP, "spec_version": "2.1"}, False),
        ({"type": "indicator", "created": STAMP, "spec_version": "2.0"}, True),
        ({"type": "ipv4-addr", "value": "1.2.3.4"}, False),  # 2.1 SCO: spec_version optional
    ],
    ids=["no-spec-version", "2.1", "2.0", "sco"],
)
def test_what_counts_as_stix_2_0(obj: dict[str, Any], expected: bool) -> None:
    assert is_stix20(obj) is expected


def test_labels_become_the_2_1_type_properties() -> None:
    indicator = {
        "type": "indicator",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": STAMP,
        "modified": STAMP,
        "labels": ["malicious-activity"],
        "pattern": "[file:hashes.'SHA-256' = '" + "a" * 64 + "']",
        "valid_from": STAMP,
        "object_marking_refs": [AMBER_1],
    }
    (up,) = upgrade(indicator)
    assert up["spec_version"] == "2.1" and up["pattern_type"] == "stix"
    assert up["indicator_types"] == ["malicious-activity"] and "labels" not in up
    assert up["valid_from"] == STAMP and up["object_marking_refs"] == [AMBER_1]
    validate(up)
    mid = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
    (malware,) = upgrade(
        {
            "type": "malware",
            "id": mid,
            "created": STAMP,
            "modified": STAMP,
            "name": "x",
            "labels": ["trojan"],
        }
    )
    assert malware["malware_types"] == ["trojan"] and malware["is_family"] is True
    validate(malware)
    iid = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c"
    (identity,) = upgrade(
        {"type": "identity", "id": iid, "created": STAMP, "modified": STAMP, "name": "ACME",
         "identity_class": "organization", "labels": ["x"]}
    )  # fmt: skip
    assert identity["identity_class"] == "organization" and identity["labels"] == ["x"]


def test_observed_data_objects_become_referenced_scos() -> None:
    od, *scos = upgrade(observed_data())
    assert "objects" not in od and len(od["object_refs"]) == 5
    by_id = {s["id"]: s for s in scos}
    assert list(by_id) == od["object_refs"]
    traffic = next(s for s in scos if s["type"] == "network-traffic")
    assert by_id[traffic["src_ref"]]["value"] == "198.51.100.3"
    process = next(s for s in scos if s["type"] == "process")
    assert by_id[process["image_ref"]]["name"] == "evil.exe" and "binary_ref" not in process
    for obj in [od, *scos]:
        validate(obj)
    # Unmarked: deterministic ids, the same wherever the observable appears.
    again = upgrade(observed_data(id="observed-data--0a4a3a2b-1c1d-4e4f-8a8b-9c9d0e0f1a1b"))
    assert {s["id"] for s in again[1:] if s["type"] == "ipv4-addr"} == {
        s["id"] for s in scos if s["type"] == "ipv4-addr"
    }


def test_marked_observed_data_passes_its_markings_to_its_scos() -> None:
    granular = [{"marking_ref": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
                 "selectors": ["objects.1.value", "number_observed"]}]  # fmt: skip
    od, *scos = upgrade(observed_data(object_marking_refs=[AMBER_1], granular_markings=granular))
    assert all(AMBER_1 in s["object_marking_refs"] for s in scos)
    red = [
        s
        for s in scos
        if "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" in s["object_marking_refs"]
    ]
    assert [s["value"] for s in red] == ["203.0.113.1"]  # the granular marking's target, whole
    assert od["granular_markings"] == [{**granular[0], "selectors": ["number_observed"]}]
    for obj in [od, *scos]:
        validate(obj)


@pytest.mark.parametrize(
    "name",
    ["test_event1", "test_event2", "test_events_collection", "test_objects_collection",
     "test_attributes_collection"],
)  # fmt: skip
def test_misp_stix_2_0_bundles_upgrade_like_their_2_1_twins(name: str) -> None:
    """misp-stix writes the same events as 2.0 and as 2.1: the upgraded 2.0 matches the 2.1."""
    folder = require_shared_data("misp", "misp-stix", "tests")
    b20 = json.loads((folder / f"{name}_stix20.json").read_text(encoding="utf-8"))
    b21 = json.loads((folder / f"{name}_stix21.json").read_text(encoding="utf-8"))
    up = list(upgrade_all(b20["objects"], b20.get("spec_version")))
    for obj in up:
        validate(obj)
    by_id = {o["id"]: o for o in up}
    assert {o["id"] for o in b20["objects"]} <= set(by_id)  # ids kept
    twins = {o["id"]: o for o in b21["objects"]}

    def observables(od: dict[str, Any], index: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((index[r]["type"], json.dumps(index[r].get("value", index[r].get("hashes"))))
                      for r in od["object_refs"] if r in index)  # fmt: skip

    compared = 0
    for oid, obj in by_id.items():
        twin = twins.get(oid)
        if twin is None:
            continue
        if obj["type"] == "observed-data":
            assert observables(obj, by_id) == observables(twin, twins)
        elif obj["type"] == "indicator":
            assert obj["pattern"] == twin["pattern"] and obj["pattern_type"] == "stix"
        elif obj["type"] == "relationship":
            assert (obj["source_ref"], obj["target_ref"]) == (
                twin["source_ref"],
                twin["target_ref"],
            )
        compared += 1
    assert compared
