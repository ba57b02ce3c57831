"""Every STIX object in the shared real-world data sets validates, bar the known broken ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.stix.validate import check_sco_id, validate
from kizuna.errors import InvalidStix, UnsupportedSpecVersion
from shared_data import require_shared_data

DATA_SETS = [
    "dogesec-feeds2stix",
    "mitre-attack-stix-data",
    "mitre-cti-capec-2.1",
    "oasis-cti-documentation",
    "oasis-cti-python-stix2",
    "oasis-cti-stix-common-objects",
    "oasis-cti-stix-validator",
    "oasis-cti-stix2-json-schemas",
]
VALIDATOR_EXAMPLES = "oasis-cti-stix-validator/stix2validator/test/v21/test_examples"
STIX2_DATA = "oasis-cti-python-stix2/stix2/test/v21/stix2_data"
SCO_EXAMPLES = "oasis-cti-python-stix2/sco-examples-bundle.json"
ATTACK_ICS_18 = "mitre-attack-stix-data/ics-attack/ics-attack-18.1.json"

# Objects the data sets get wrong, each with the reason kizuna must give: (file, id) -> reason.
UPSTREAM_FAULTS: dict[tuple[str, str], tuple[type[InvalidStix], str]] = {
    # The OASIS validator's deliberately broken examples.
    (
        f"{VALIDATOR_EXAMPLES}/invalid_identity.json",
        "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f",
    ): (
        InvalidStix,
        'required property "modified" is missing',
    ),
    (
        f"{VALIDATOR_EXAMPLES}/invalid_timestamp.json",
        "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f",
    ): (
        InvalidStix,
        'property "modified" (2015-08-08T15:50:10.983Z) must not be earlier than created',
    ),
    # stix2's test store keeps one STIX 2.0 bundle (bundle spec_version "2.0", none on objects).
    (
        f"{STIX2_DATA}/malware/malware--b42378e0-f147-496f-992a-26a49705395b/20170531213215263882.json",
        "malware--b42378e0-f147-496f-992a-26a49705395b",
    ): (UnsupportedSpecVersion, 'has no "spec_version", so it is STIX 2.0'),
    # The spec's SCO examples abbreviate payloads as "VBORw0KGgoAAAANSUhEUgAAADI== ...".
    **{
        (SCO_EXAMPLES, f"artifact--{uuid}"): (
            InvalidStix,
            'property "payload_bin" must be a base64-encoded string',
        )
        for uuid in (
            "ca17bcf8-9846-5ab4-8662-75c1bf6e63ee",
            "6f437177-6e48-5cf8-9d9e-872a2bddd641",
            "4cce66f8-6eaa-53cb-85d5-3a85fca3a6c5",
        )
    },
    # ATT&CK ICS v18.1 writes an empty string where a reference is due (§2.9: *_ref is an id).
    **{
        (ATTACK_ICS_18, f"x-mitre-data-component--{uuid}"): (
            InvalidStix,
            "property \"x_mitre_data_source_ref\" '' is not a STIX identifier",
        )
        for uuid in (
            "2b3bfe19-d59a-460d-93bb-2f546adc2d2c",
            "3d20385b-24ef-40e1-9f56-f39750379077",
            "4dcd8ba3-2075-4f8b-941e-39884ffaac08",
            "7b375092-3a61-448d-900a-77c9a4bde4dc",
            "da85d358-741a-410d-9433-20d6269a6170",
        )
    },
}
# A list of objects in ATT&CK's 3.3.0 draft format, not STIX 2.1: most objects lack spec_version,
# the rest have timestamps without milliseconds.
NOT_STIX_2_1 = {"mitre-attack-stix-data/util/sample_3.3.0_stix-detection-strategy.json"}
# Files that are not JSON at all (the validator's parse-error examples, one of its test schemas).
NOT_JSON = {
    f"{VALIDATOR_EXAMPLES}/invalid_braces.json",
    f"{VALIDATOR_EXAMPLES}/invalid_comma.json",
    "oasis-cti-stix-validator/stix2validator/test/v21/test_schemas/x-foo-bar.json",
}


def _objects(doc: Any) -> list[Any]:
    """The STIX objects a JSON document holds: a bundle's, a list's, or the document itself."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return []
    if doc.get("type") == "bundle":
        return list(doc.get("objects", []))
    kind, oid = doc.get("type"), doc.get("id")
    if isinstance(kind, str) and isinstance(oid, str) and oid.startswith(f"{kind}--"):
        return [doc]
    return []  # a JSON schema, an index, ...


def _documents(root: Path, stix: Path) -> Iterator[tuple[str, Any]]:
    for path in sorted(root.rglob("*.json")):
        name = path.relative_to(stix).as_posix()
        text = path.read_text(encoding="utf-8")
        if name in NOT_JSON:
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
            continue
        yield name, json.loads(text)


def test_the_list_of_data_sets_is_complete() -> None:
    stix = require_shared_data("stix")
    assert sorted(p.name for p in stix.iterdir() if p.is_dir()) == DATA_SETS


@pytest.mark.parametrize("data_set", DATA_SETS)
def test_every_object_of_a_data_set_validates(data_set: str) -> None:
    root = require_shared_data("stix", data_set)
    stix = root.parent
    refused: dict[tuple[str, str], InvalidStix] = {}
    count = 0
    for name, doc in _documents(root, stix):
        for obj in _objects(doc):
            count += 1
            try:
                validate(obj)
            except InvalidStix as refusal:
                refused[(name, obj.get("id", "?"))] = refusal
            if name in NOT_STIX_2_1:
                assert (name, obj.get("id", "?")) in refused, obj
    assert count > 0
    expected = {key for key in UPSTREAM_FAULTS if key[0].startswith(f"{data_set}/")}
    assert set(refused) - {k for k in refused if k[0] in NOT_STIX_2_1} == expected
    for key, exc in refused.items():
        if key[0] in NOT_STIX_2_1:
            assert isinstance(exc, UnsupportedSpecVersion) or "millisecond precision" in str(exc)
            continue
        kind, reason = UPSTREAM_FAULTS[key]
        assert type(exc) is kind
        assert reason in str(exc)
        assert str(exc).startswith(f"{key[1]} : ")


def test_the_validators_broken_examples_are_refused_for_the_right_reason() -> None:
    examples = require_shared_data("stix", VALIDATOR_EXAMPLES)
    for name in ("invalid_braces.json", "invalid_comma.json"):  # refused before validate
        with pytest.raises(json.JSONDecodeError):
            json.loads((examples / name).read_text(encoding="utf-8"))
    for name, reason in [
        ("invalid_identity.json", 'required property "modified" is missing'),
        ("invalid_timestamp.json", "must not be earlier than created"),
    ]:
        obj = json.loads((examples / name).read_text(encoding="utf-8"))
        with pytest.raises(InvalidStix, match=reason) as caught:
            validate(obj)
        assert type(caught.value) is InvalidStix


def test_sco_examples_are_warned_of_their_ids() -> None:
    path = require_shared_data("stix", SCO_EXAMPLES)
    scos = json.loads(path.read_text(encoding="utf-8"))
    warned = 0
    for obj in scos:
        warning = check_sco_id(obj)
        if warning is not None:
            warned += 1
            assert warning.startswith(f"{obj['id']} : the id SHOULD be the deterministic ")
    # The examples were written by hand (many with UUIDv4 ids): nearly every id differs.
    assert warned > 70
