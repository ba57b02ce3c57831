"""Sample STIX 2.1 objects for the validator tests: valid ones, and broken ones with the reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest

Obj = dict[str, Any]

IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
IND = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
MALWARE = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
EXT_DEF = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
T0 = "2016-04-06T20:03:48.000Z"
T1 = "2016-04-07T20:03:48.000Z"
SHA256 = "4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877"
SDO_COMMON = {"spec_version": "2.1", "created": T0, "modified": T0}

VALID: dict[str, Obj] = {
    "indicator": {
        "type": "indicator",
        "id": IND,
        **SDO_COMMON,
        "created_by_ref": IDENTITY,
        "name": "Poison Ivy",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[file:hashes.'SHA-256' = '{SHA256}']",
        "pattern_type": "stix",
        "valid_from": "2016-01-01T00:00:00Z",
        "valid_until": "2017-01-01T00:00:00Z",
        "object_marking_refs": [TLP_GREEN],
        "labels": ["x"],
        "confidence": 80,
        "lang": "en",
        "revoked": False,
        "external_references": [{"source_name": "capec", "external_id": "CAPEC-163"}],
    },
    "relationship": {
        "type": "relationship",
        "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
        **SDO_COMMON,
        "relationship_type": "indicates",
        "source_ref": IND,
        "target_ref": MALWARE,
        "start_time": T0,
        "stop_time": T1,
    },
    "sighting": {
        "type": "sighting",
        "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
        **SDO_COMMON,
        "sighting_of_ref": IND,
        "where_sighted_refs": [IDENTITY],
        "observed_data_refs": ["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"],
        "count": 2,
        "first_seen": T0,
        "last_seen": T0,
    },
    "malware": {
        "type": "malware",
        "id": MALWARE,
        **SDO_COMMON,
        "name": "Poison Ivy",
        "is_family": True,
        "first_seen": T0,
        "last_seen": T1,
    },
    "observed-data": {
        "type": "observed-data",
        "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
        **SDO_COMMON,
        "first_observed": T0,
        "last_observed": T1,
        "number_observed": 50,
        "object_refs": ["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"],
    },
    "report": {
        "type": "report",
        "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        **SDO_COMMON,
        "name": "The Black Vine Cyberespionage Group",
        "published": T0,
        "object_refs": [IND],
    },
    "location": {
        "type": "location",
        "id": "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
        **SDO_COMMON,
        "latitude": 48.8566,
        "longitude": 2.3522,
        "precision": 1000.0,
    },
    "grouping": {
        "type": "grouping",
        "id": "grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        **SDO_COMMON,
        "context": "suspicious-activity",
        "object_refs": [IND],
    },
    "marking-tlp1": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_GREEN,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:GREEN",
        "definition": {"tlp": "green"},
    },
    "marking-statement": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--62fd3f9b-15f3-4ebc-802c-91fce9536bcf",
        "created": "2017-06-01T00:00:00Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2017, ACME"},
    },
    "marking-tlp2": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "created": "2022-10-01T00:00:00Z",
        "name": "TLP:AMBER",
        "extensions": {EXT_DEF: {"extension_type": "property-extension", "tlp_2_0": "amber"}},
    },
    "language-content": {
        "type": "language-content",
        "id": "language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d",
        **SDO_COMMON,
        "object_ref": IND,
        "object_modified": T0,
        "contents": {"de": {"name": "Giftefeu"}},
    },
    "extension-definition": {
        "type": "extension-definition",
        "id": EXT_DEF,
        **SDO_COMMON,
        "created_by_ref": IDENTITY,
        "name": "TLP 2.0",
        "schema": "https://example.com/tlp2.json",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    },
    "ipv4-addr": {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
        "value": "198.51.100.3",
    },
    "file": {
        "type": "file",
        "id": "file--ba8965d8-e4ec-5f9c-a4df-1c460994ca58",
        "hashes": {"MD5": "a92e5b2bae0b4b3a3d81c85610b95cd4", "x_custom": "anything"},
        "name": "a92e5b2bae.exe",
        "extensions": {"ntfs-ext": {"sid": "1234567"}},
    },
    "network-traffic": {
        "type": "network-traffic",
        "id": "network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d",
        "src_ref": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
        "protocols": ["tcp"],
        "start": T0,
        "end": T1,
    },
    "process": {
        "type": "process",
        "id": "process--d2ec5aab-808d-4492-890a-3c1a1e3cb06e",
        "pid": 1221,
        "image_ref": "file--ba8965d8-e4ec-5f9c-a4df-1c460994ca58",
    },
    "custom-sdo": {
        "type": "x-mitre-tactic",
        "id": "x-mitre-tactic--daa4cbb1-b4f4-4723-a824-7f1efd6e0592",
        **SDO_COMMON,
        "name": "Collection",
        "x_mitre_shortname": "collection",
        "x_mitre_modified_by_ref": IDENTITY,
    },
    "new-sdo-by-extension": {
        "type": "my-favorite-sdo",
        "id": "my-favorite-sdo--ac97aae4-83f1-46ca-a351-7aeb76678189",
        **SDO_COMMON,
        "some_property": ["anything", 1],
        "extensions": {
            "extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62": {
                "extension_type": "new-sdo"
            }
        },
    },
    "custom-sco-no-spec-version": {
        "type": "x-acme-widget",
        "id": "x-acme-widget--ac97aae4-83f1-46ca-a351-7aeb76678189",
        "value": 3,
    },
    "custom-property-upper-case": {
        "type": "identity",
        "id": IDENTITY,
        **SDO_COMMON,
        "name": "ACME",
        "X_ACME_Score": 3,
    },
    "granular-markings": {
        "type": "indicator",
        "id": IND,
        **SDO_COMMON,
        "pattern": "[ipv4-addr:value = '198.51.100.3']",
        "pattern_type": "stix",
        "valid_from": T0,
        "description": "d",
        "external_references": [{"source_name": "s", "url": "https://example.com"}],
        "granular_markings": [
            {"selectors": ["description", "external_references.[0].url"], "marking_ref": TLP_GREEN},
            {"selectors": ["pattern"], "lang": "en"},
        ],
    },
}


def changed(base: str, /, **changes: Any) -> Obj:
    """A copy of VALID[base] with ``changes`` applied; a value of DROP removes the property."""
    obj = copy.deepcopy(VALID[base])
    for key, value in changes.items():
        if value is DROP:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


DROP = object()


def _with_int_key(obj: Obj) -> dict[object, Any]:
    """A copy of ``obj`` with a property name JSON cannot hold (an int)."""
    odd: dict[object, Any] = {key: value for key, value in obj.items()}
    odd[7] = "x"
    return odd


REL = VALID["relationship"]["id"]


# (object, a fragment of the message validate must refuse it with), with a pytest id each.
INVALID = [
    # Shape and type.
    pytest.param([], "a STIX object must be a JSON object, not an array", id="list"),
    pytest.param("x", "a STIX object must be a JSON object, not a string", id="string"),
    pytest.param(changed("indicator", type=DROP), 'required property "type"', id="no-type"),
    pytest.param(changed("indicator", type="ab"), "3 to 250", id="type-short"),
    pytest.param(changed("indicator", type="x--y"), "single hyphens", id="type-hyphens"),
    pytest.param(changed("indicator", type="X-Foo"), "single hyphens", id="type-upper"),
    pytest.param(changed("indicator", type=7), "must be a string", id="type-int"),
    pytest.param(changed("indicator", type="bundle"), "a bundle (§8)", id="bundle"),
    # Identifier.
    pytest.param(changed("indicator", id=DROP), 'required property "id"', id="no-id"),
    pytest.param(changed("indicator", id="indicator--1"), "is not a UUID", id="bad-uuid"),
    pytest.param(changed("indicator", id=MALWARE), 'must start with "indicator--"', id="id-type"),
    # Common properties (§3.2).
    pytest.param(changed("indicator", created=DROP), '"created" is missing', id="no-created"),
    pytest.param(changed("indicator", modified=DROP), '"modified" is missing', id="no-modified"),
    pytest.param(
        changed("indicator", modified="2016-04-05T20:03:48.000Z"),
        "must not be earlier than created",
        id="modified-before-created",
    ),
    pytest.param(
        changed("indicator", created="2016-04-06T20:03:48Z", modified=DROP),
        "at least millisecond precision",
        id="created-seconds",
    ),
    pytest.param(
        changed("indicator", created="2016-02-30T00:00:00.000Z"),
        "day 30 does not exist",
        id="created-feb-30",
    ),
    pytest.param(changed("indicator", created=20160406), "timestamp string", id="created-int"),
    pytest.param(
        changed("indicator", created_by_ref=MALWARE),
        "must be the id of an object of type identity",
        id="creator-not-identity",
    ),
    pytest.param(
        changed("indicator", object_marking_refs=[IDENTITY]),
        "marking-definition",
        id="marking-not-marking",
    ),
    pytest.param(
        changed("indicator", object_marking_refs=TLP_GREEN),
        "must be a list of identifiers",
        id="markings-not-list",
    ),
    pytest.param(changed("indicator", revoked="no"), "true or false", id="revoked-string"),
    pytest.param(changed("indicator", labels=["a", 1]), "list of strings", id="labels-int"),
    pytest.param(changed("indicator", labels="a"), "list of strings", id="labels-string"),
    pytest.param(changed("indicator", confidence=101), "0 to 100", id="confidence-101"),
    pytest.param(changed("indicator", confidence=-1), "0 to 100", id="confidence-negative"),
    pytest.param(changed("indicator", confidence=True), "0 to 100", id="confidence-bool"),
    pytest.param(changed("indicator", confidence=50.0), "0 to 100", id="confidence-float"),
    pytest.param(changed("indicator", lang=["en"]), '"lang" must be a string', id="lang"),
    pytest.param(
        changed("indicator", external_references=[{"url": "https://x"}]),
        '"source_name"',
        id="extref-no-source",
    ),
    pytest.param(
        changed("indicator", external_references=[{"source_name": "x"}]),
        "needs one of description, url or external_id",
        id="extref-only-source",
    ),
    pytest.param(
        changed(
            "indicator",
            external_references=[{"source_name": "x", "url": "u", "hashes": {"MD5": "1"}}],
        ),
        "not a valid MD5 hash",
        id="extref-bad-hash",
    ),
    pytest.param(changed("indicator", labels=[]), "empty list", id="empty-list"),
    pytest.param(changed("indicator", description=None), "is null", id="null"),
    # Property names (§3.1).
    pytest.param(changed("indicator", ab=1), "property name 'ab'", id="name-short"),
    pytest.param(changed("indicator", **{"x-foo": 1}), "'x-foo'", id="name-hyphen"),
    pytest.param(changed("indicator", **{"x_" * 126: 1}), "3 to 250", id="name-long"),
    pytest.param(changed("indicator", severity="high"), "reserved", id="name-reserved"),
    pytest.param(_with_int_key(VALID["indicator"]), "property name 7", id="name-int"),
    pytest.param(changed("file", hashes={5: "x"}), "must be a string", id="hash-name-int"),
    pytest.param(
        changed("file", extensions={5: {"a": 1}}), "keys must be strings", id="ext-key-int"
    ),
    # References (§2.9).
    pytest.param(changed("indicator", x_foo_ref="nope"), "x_foo_ref", id="custom-ref"),
    pytest.param(changed("indicator", x_foo_refs=["nope"]), "x_foo_refs", id="custom-refs"),
    pytest.param(changed("indicator", x_foo_refs=IND), "list of identifiers", id="refs-str"),
    # Indicator (§4.7).
    pytest.param(
        changed("indicator", pattern_type=DROP),
        f'{IND} : required property "pattern_type" is missing',
        id="no-pattern-type",
    ),
    pytest.param(changed("indicator", pattern=DROP), '"pattern" is missing', id="no-pattern"),
    pytest.param(
        changed("indicator", valid_from=DROP), '"valid_from" is missing', id="no-valid-from"
    ),
    pytest.param(changed("indicator", pattern=["x"]), '"pattern" must be a string', id="p"),
    pytest.param(
        changed("indicator", valid_until="2016-01-01T00:00:00Z"),
        '"valid_until" must be later than "valid_from"',
        id="valid-until-equal",
    ),
    pytest.param(
        changed("indicator", valid_from="2016-01-01T00:00:60Z"),
        "leap seconds",
        id="valid-from-leap-second",
    ),
    # Relationship and sighting (§5).
    pytest.param(
        changed("relationship", source_ref=DROP), '"source_ref" is missing', id="no-source"
    ),
    pytest.param(changed("relationship", target_ref="malware"), "target_ref", id="bad-target"),
    pytest.param(
        changed("relationship", target_ref=REL), "must point at an SDO or SCO", id="rel-rel"
    ),
    pytest.param(changed("relationship", relationship_type="Uses"), "a-z, 0-9", id="rel-type"),
    pytest.param(changed("relationship", stop_time=T0), "must be later than", id="stop-is-start"),
    pytest.param(
        changed("sighting", sighting_of_ref=DROP), '"sighting_of_ref"', id="no-sighting-of"
    ),
    pytest.param(
        changed("sighting", sighting_of_ref=TLP_GREEN), "must point at an SDO", id="sight-mark"
    ),
    pytest.param(changed("sighting", where_sighted_refs=[IND]), "identity or location", id="where"),
    pytest.param(changed("sighting", count=-1), "0 to 999999999", id="count"),
    pytest.param(
        changed("sighting", last_seen="2016-04-06T20:03:47.999Z"),
        "must not be earlier than",
        id="seen-order",
    ),
    # Other SDOs (§4).
    pytest.param(changed("malware", is_family="yes"), "true or false", id="is-family"),
    pytest.param(changed("malware", name=DROP), '"name" is missing', id="family-no-name"),
    pytest.param(changed("observed-data", number_observed=0), "1 to 999999999", id="observed-0"),
    pytest.param(changed("observed-data", object_refs=DROP), "needs one of", id="observed-nothing"),
    pytest.param(
        changed("observed-data", objects={"0": {"type": "ipv4-addr"}}),
        "must not be present with",
        id="observed-both",
    ),
    pytest.param(changed("report", published=DROP), '"published" is missing', id="report"),
    pytest.param(changed("grouping", context=DROP), '"context" is missing', id="grouping"),
    pytest.param(changed("location", latitude=91), "-90 to 90", id="latitude"),
    pytest.param(changed("location", longitude=DROP), "needs its pair", id="no-longitude"),
    pytest.param(
        changed("location", latitude=DROP, longitude=DROP, precision=DROP),
        "needs one of region, country",
        id="location-empty",
    ),
    # Meta objects (§7).
    pytest.param(
        changed("marking-tlp1", definition=DROP), '"definition" is missing', id="tlp1-half"
    ),
    pytest.param(
        changed("marking-tlp2", extensions=DROP), '"definition_type" and', id="marking-empty"
    ),
    pytest.param(
        changed("marking-tlp1", object_marking_refs=[TLP_GREEN]), "own id", id="marking-self"
    ),
    pytest.param(
        changed("marking-tlp1", id="marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        "not one of the four TLP 1.0",
        id="tlp1-fake-id",
    ),
    pytest.param(
        changed("marking-tlp1", definition={"tlp": "red"}), '{"tlp": "green"}', id="tlp1-colour"
    ),
    pytest.param(
        changed("marking-tlp1", created="2017-01-20T00:00:00.001Z"),
        "must be 2017-01-20T00:00:00.000Z",
        id="tlp1-created",
    ),
    pytest.param(changed("marking-tlp1", name="TLP:RED"), '"TLP:GREEN"', id="tlp1-name"),
    pytest.param(
        changed("marking-statement", definition={"text": "x"}),
        'needs "statement"',
        id="statement-text",
    ),
    pytest.param(changed("language-content", contents=DROP), '"contents" is missing', id="lc"),
    pytest.param(
        changed("extension-definition", created_by_ref=DROP),
        '"created_by_ref" is missing',
        id="extdef-creator",
    ),
    pytest.param(
        changed("extension-definition", extension_types=["new-thing"]),
        "must list some of",
        id="extdef-types",
    ),
    # Extensions (§7.3).
    pytest.param(changed("file", extensions={}), "non-empty dictionary", id="ext-empty"),
    pytest.param(
        changed("file", extensions={"ntfs-ext": "x"}), "non-empty dictionary", id="ext-str"
    ),
    pytest.param(
        changed("file", extensions={"extension-definition--1": {"extension_type": "new-sco"}}),
        "is not a UUID",
        id="ext-bad-id",
    ),
    pytest.param(
        changed("file", extensions={EXT_DEF: {"extension_type": "new-thing"}}),
        "extension_type",
        id="ext-type",
    ),
    pytest.param(changed("file", extensions={"x_acme": {"a": 1}}), "end in -ext", id="ext-name"),
    # Granular markings (§7.2.3).
    pytest.param(
        changed("granular-markings", granular_markings=[{"selectors": ["description"]}]),
        'exactly one of "marking_ref" or "lang"',
        id="gm-neither",
    ),
    pytest.param(
        changed(
            "granular-markings",
            granular_markings=[
                {"selectors": ["description"], "lang": "en", "marking_ref": TLP_GREEN}
            ],
        ),
        'exactly one of "marking_ref" or "lang"',
        id="gm-both",
    ),
    pytest.param(
        changed("granular-markings", granular_markings=[{"selectors": [], "lang": "en"}]),
        "non-empty list",
        id="gm-no-selectors",
    ),
    pytest.param(
        changed("granular-markings", granular_markings=[{"selectors": ["name"], "lang": "en"}]),
        "not a property here",
        id="gm-missing-property",
    ),
    pytest.param(
        changed(
            "granular-markings",
            granular_markings=[{"selectors": ["external_references.[3]"], "lang": "en"}],
        ),
        "out of range",
        id="gm-index",
    ),
    pytest.param(
        changed(
            "granular-markings",
            granular_markings=[{"selectors": ["description"], "marking_ref": IDENTITY}],
        ),
        "marking-definition",
        id="gm-ref-type",
    ),
    # SCOs (§6).
    pytest.param(changed("ipv4-addr", value=DROP), '"value" is missing', id="ipv4-no-value"),
    pytest.param(changed("file", hashes=DROP, name=DROP), "needs one of hashes, name", id="f"),
    pytest.param(
        changed("file", hashes={"SHA-256": "abc"}), "not a valid SHA-256 hash", id="sha256"
    ),
    pytest.param(changed("file", hashes={"a": "b"}), "hash name 'a'", id="hash-name"),
    pytest.param(
        changed("file", parent_directory_ref=IND), "of type directory", id="parent-dir-type"
    ),
    pytest.param(changed("file", defanged="no"), "true or false", id="defanged"),
    pytest.param(
        changed("network-traffic", is_active=True), 'when "is_active" is true', id="active"
    ),
    pytest.param(
        changed("network-traffic", end="2016-04-06T20:03:47.000Z"),
        '"end" must not be earlier than "start"',
        id="traffic-order",
    ),
    pytest.param(changed("network-traffic", dst_port=65536), "0 to 65535", id="port"),
    pytest.param(
        changed("network-traffic", src_ref=DROP), "needs one of src_ref, dst_ref", id="ends"
    ),
    pytest.param(
        changed("process", id="process--d2ec5aab-808d-5492-890a-3c1a1e3cb06e"),
        "must hold a UUIDv4",
        id="process-uuid5",
    ),
]
