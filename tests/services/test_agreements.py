"""Agreements: templates, offline signing, import and merge, lifecycle, accession, the schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kizuna.core import agreements as core
from kizuna.core.parties import Party
from kizuna.core.signing import public_key_of
from kizuna.errors import AlreadyExists, Forbidden, InvalidInput
from kizuna.services import agreements, gate, ingest, parties
from kizuna.services.node import Node, new_private_key

EXAMPLES = resources.files("kizuna") / "data" / "agreements"
SCHEMA = json.loads((resources.files("kizuna") / "data" / "agreement.schema.json").read_text())
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def example(name: str) -> dict[str, Any]:
    with resources.as_file(EXAMPLES / name) as path:
        return agreements.load_document(Path(path))


@pytest.fixture
def keys() -> dict[str, bytes]:
    return {name: new_private_key() for name in ("NISC", "BSI", "ACSC", "Maritime ISAC")}


@pytest.fixture
def hub(sqlite_node: Node, keys: dict[str, bytes]) -> Node:
    """CERT-EU's node, knowing the other parties and their public keys."""
    attrs = {
        "NISC": ("JP", "government", "JP"),
        "BSI": ("DE", "government", "DE"),
        "ACSC": ("AU", "government", None),
        "Maritime ISAC": ("DE", "private", None),
    }
    for name, (jurisdiction, kind, scheme) in attrs.items():
        parties.add_party(
            sqlite_node,
            name,
            jurisdiction=jurisdiction,
            kind=kind,
            scheme=scheme,
            public_keys=(public_key_of(keys[name]),),
        )
    return sqlite_node


def signed_by_all(node: Node, document: dict[str, Any], keys: dict[str, bytes]) -> dict[str, Any]:
    for p in document["parties"]:
        key = node.private_key if p["id"] == node.home_party.id else keys[p["name"]]
        document = core.sign_document(document, p["id"], key)
    return document


@pytest.mark.parametrize(
    "name",
    [
        "eu-japan.yaml",
        "germany-japan.yaml",
        "partnership-v1.yaml",
        "partnership-v2.yaml",
        "partnership-v3.yaml",
    ],
)
def test_example_agreements_fill_in_and_match_the_schema(
    hub: Node, keys: dict[str, bytes], name: str
) -> None:
    draft = agreements.from_template(hub, example(name))
    jsonschema.validate(draft, SCHEMA)
    signed = signed_by_all(hub, draft, keys)
    jsonschema.validate(signed, SCHEMA)
    parsed = core.parse(signed)
    assert parsed.fully_signed


def test_japanese_rows_are_marked_unconfirmed(hub: Node) -> None:
    for name in ("germany-japan.yaml", "partnership-v1.yaml"):
        parsed = core.parse(agreements.from_template(hub, example(name)))
        assert any(row.level("JP") for row in parsed.equivalences)
        assert "unconfirmed" in parsed.classification_note.lower()


def test_an_agreement_is_active_only_when_every_party_signed(
    hub: Node, keys: dict[str, bytes]
) -> None:
    draft = agreements.from_template(hub, example("eu-japan.yaml"))
    stored = agreements.add(hub, draft)
    assert stored.state == "draft"
    after_home = agreements.sign(hub, stored.id)
    assert after_home.state == "draft"
    assert after_home.signed_by == {hub.home_party.id}
    nisc = parties.find(hub, "NISC")
    offline = agreements.sign_file_document(draft, keys["NISC"])  # NISC signs its own copy
    merged = agreements.add(hub, offline)  # signatures merge into the stored copy
    assert merged.state == "active"
    assert merged.signed_by == {hub.home_party.id, nisc.id}
    assert merged.inactive_reason(hub.now()) is None


def test_a_forged_signature_is_refused(hub: Node, keys: dict[str, bytes]) -> None:
    draft = agreements.from_template(hub, example("eu-japan.yaml"))
    signed = core.sign_document(draft, draft["parties"][1]["id"], keys["NISC"])
    forged = dict(signed, title="something else")  # content changed after signing
    with pytest.raises(InvalidInput, match="does not verify"):
        agreements.add(hub, forged)


def test_a_key_the_node_does_not_know_is_refused(hub: Node) -> None:
    draft = agreements.from_template(hub, example("eu-japan.yaml"))
    impostor = new_private_key()
    draft["parties"][1]["public_key"] = public_key_of(impostor)
    with pytest.raises(Forbidden, match="does not know"):
        agreements.add(hub, draft)


def test_changed_content_needs_a_new_version(hub: Node) -> None:
    draft = agreements.from_template(hub, example("eu-japan.yaml"))
    agreements.add(hub, draft)
    with pytest.raises(AlreadyExists, match="new version"):
        agreements.add(hub, dict(draft, title="changed"))


def test_unknown_template_fields_are_refused(hub: Node) -> None:
    with pytest.raises(InvalidInput, match="unknown agreement fields: tlp_alowed"):
        agreements.from_template(hub, dict(example("eu-japan.yaml"), tlp_alowed=["red"]))


def _released_to(node: Node, recipient: Party, objects: list[dict[str, Any]]) -> set[str]:
    ingest.ingest(node, objects, submitter=node.home_party, path="import")
    from kizuna.core.taxii import Filters
    from kizuna.storage import objects as store

    with node.db.read() as conn:
        rows = store.scan(conn, Filters(ids=tuple(o["id"] for o in objects)), None, 100)
    return {r.id for r in gate.release(node, recipient, rows).released}


def green_indicator(n: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[domain-name:value = 'bad.example']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [GREEN],
    }


def test_lifecycle_suspend_resume_terminate_governs_releases(
    hub: Node, keys: dict[str, bytes]
) -> None:
    draft = agreements.from_template(hub, example("eu-japan.yaml"))
    active = agreements.add(hub, signed_by_all(hub, draft, keys))
    nisc = parties.find(hub, "NISC")
    assert _released_to(hub, nisc, [green_indicator(1)]) == {green_indicator(1)["id"]}
    agreements.transition(hub, active.id, "suspend")
    assert _released_to(hub, nisc, [green_indicator(2)]) == set()
    agreements.transition(hub, active.id, "resume")
    assert _released_to(hub, nisc, [green_indicator(3)]) == {green_indicator(3)["id"]}
    agreements.transition(hub, active.id, "terminate")
    assert _released_to(hub, nisc, [green_indicator(4)]) == set()
    with pytest.raises(InvalidInput, match="cannot resume"):
        agreements.transition(hub, active.id, "resume")


def test_accession_is_a_new_version_and_keeps_history(hub: Node, keys: dict[str, bytes]) -> None:
    v1 = agreements.add(
        hub, signed_by_all(hub, agreements.from_template(hub, example("partnership-v1.yaml")), keys)
    )
    acsc = parties.find(hub, "ACSC")
    assert not v1.includes(acsc.id)
    v2_draft = agreements.from_template(hub, example("partnership-v2.yaml"))
    agreements.add(hub, v2_draft)  # not yet signed by all: version 1 still governs
    from kizuna.services import state

    governing = {a.id: a for a in state.current(hub).agreements}[v1.id]
    assert governing.version == 1
    assert _released_to(hub, acsc, [green_indicator(10)]) == set()
    agreements.add(hub, signed_by_all(hub, v2_draft, keys))
    governing = {a.id: a for a in state.current(hub).agreements}[v1.id]
    assert governing.version == 2
    assert _released_to(hub, acsc, [green_indicator(11)]) == {green_indicator(11)["id"]}
    assert [s.agreement.version for s in agreements.history(hub, v1.id)] == [1, 2]
    with pytest.raises(AlreadyExists, match="is history"):
        agreements.add(
            hub, agreements.from_template(hub, {**example("partnership-v1.yaml"), "title": "late"})
        )
