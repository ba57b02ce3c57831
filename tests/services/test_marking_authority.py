"""A partner cannot change the gate's inputs through markings, identities or authorship
(DESIGN.md "Who may change the gate's inputs"; issue 12, section 1).

A marking-definition governs only the objects of its own source of record (or any object, from
the home party); the well-known definitions are fixed by the node; an object's author identity
never lends it its handling; what a party posts under a creator that is no party leaves the node
sealed as received from that party.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from kizuna.core import seals
from kizuna.core.markings import TLP_EXTENSION, TLP_MARKING_ID
from kizuna.core.parties import Party
from kizuna.services import explain, export, ingest, parties
from kizuna.services.node import Node

NS = uuid.UUID("6b1f0a52-3c1e-4f7a-9d0b-2a4c6e8f1a3b")
CREATED = "2026-11-01T00:00:00.000Z"


def sid(stix_type: str, seed: str) -> str:
    return f"{stix_type}--{uuid.uuid5(NS, seed)}"


def indicator(seed: str, markings: list[str], creator: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", seed),
        "created": CREATED,
        "modified": CREATED,
        "pattern": f"[domain-name:value = '{seed}.example']",
        "pattern_type": "stix",
        "valid_from": CREATED,
        "object_marking_refs": markings,
    }
    if creator:
        obj["created_by_ref"] = creator
    return obj


def clear_definition(marking_id: str, creator: str | None = None) -> dict[str, Any]:
    """A definition that says TLP:CLEAR (through the TLP 2.0 extension)."""
    md: dict[str, Any] = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": CREATED,
        "name": "TLP:CLEAR",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "clear"}},
    }
    if creator:
        md["created_by_ref"] = creator
    return md


@pytest.fixture
def world(sqlite_node: Node) -> tuple[Node, Party, Party, Party]:
    """A hub with an originator (BSI), a hostile partner (NISC) and a third party (ACSC)."""
    made = [
        parties.add_party(sqlite_node, n, jurisdiction=j, kind="government", scheme=s)
        for n, j, s in (("BSI", "DE", "DE"), ("NISC", "JP", "JP"), ("ACSC", "AU", None))
    ]
    return sqlite_node, made[0], made[1], made[2]


def post(node: Node, party: Party, *objects: dict[str, Any]) -> list[ingest.Outcome]:
    return ingest.ingest(node, list(objects), submitter=party, path="taxii")


def received(node: Node, party: Party) -> set[str]:
    return {e.version.id for e in explain.preview(node, party)}


def test_a_partner_defining_another_partys_pending_marking_releases_nothing(
    world: tuple[Node, Party, Party, Party],
) -> None:
    node, bsi, nisc, acsc = world
    marking = sid("marking-definition", "bsi-handling")
    held = indicator("held", [marking])
    assert post(node, bsi, held)[0].status == "stored"
    assert held["id"] not in received(node, acsc)  # the marking is unknown: fail closed
    # NISC posts BSI's marking as TLP:CLEAR, under its own name and under none.
    assert post(node, nisc, clear_definition(marking, nisc.id))[0].status == "stored"
    assert held["id"] not in received(node, acsc)
    assert held["id"] not in received(node, nisc)
    assert held["id"] in received(node, bsi)
    # NISC's own object under that definition reads it as NISC meant it.
    mine = indicator("nisc-own", [marking])
    post(node, nisc, mine)
    assert mine["id"] in received(node, acsc)


def test_a_definition_resolves_its_own_sources_pending_objects(
    world: tuple[Node, Party, Party, Party],
) -> None:
    node, bsi, _, acsc = world
    marking = sid("marking-definition", "bsi-later")
    held = indicator("later", [marking])
    post(node, bsi, held)
    assert held["id"] not in received(node, acsc)
    assert post(node, bsi, clear_definition(marking))[0].status == "stored"
    assert held["id"] in received(node, acsc)


def test_the_home_partys_definition_governs_any_object(
    world: tuple[Node, Party, Party, Party],
) -> None:
    node, bsi, _, acsc = world
    marking = sid("marking-definition", "home-defines")
    held = indicator("home", [marking])
    post(node, bsi, held)
    out = ingest.ingest(node, [clear_definition(marking)], submitter=node.home_party, path="api")
    assert out[0].status == "stored"
    assert held["id"] in received(node, acsc)


@pytest.mark.parametrize("label", ["red", "amber+strict", "clear"])
def test_a_well_known_tlp_definition_cannot_be_redefined(
    world: tuple[Node, Party, Party, Party], label: str
) -> None:
    node, _, nisc, acsc = world
    forged = clear_definition(TLP_MARKING_ID[label])
    forged["extensions"][TLP_EXTENSION]["tlp_2_0"] = "clear" if label != "clear" else "red"
    [outcome] = post(node, nisc, forged)
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error.code == "fixed-definition"
    assert f"TLP:{label.upper()}" in outcome.error.message
    assert forged["id"] not in received(node, acsc)
    assert forged["id"] not in {e.version.id for e in explain.preview(node, node.home_party)}


def test_an_exact_copy_of_a_well_known_definition_is_taken(
    world: tuple[Node, Party, Party, Party],
) -> None:
    node, _, nisc, _ = world
    copy = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKING_ID["red"],
        "created": "2022-10-01T00:00:00Z",
        "name": "TLP:RED",
        "extensions": {
            TLP_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": "red",
            }
        },
    }
    assert post(node, nisc, copy)[0].ok


def test_kizunas_own_extension_definitions_are_fixed(
    world: tuple[Node, Party, Party, Party],
) -> None:
    node, _, nisc, _ = world
    forged = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": "extension-definition--d40eaef1-df2c-4d1d-95b7-b07b7f39a099",
        "created": CREATED,
        "modified": "2026-12-31T00:00:00.000Z",
        "created_by_ref": nisc.id,
        "name": "kizuna handling",
        "schema": "anything",
        "version": "9.0.0",
        "extension_types": ["property-extension"],
    }
    [outcome] = post(node, nisc, forged)
    assert outcome.error is not None and outcome.error.code == "fixed-definition"


def test_an_author_identity_withheld_does_not_withhold_what_it_wrote(
    world: tuple[Node, Party, Party, Party],
) -> None:
    node, bsi, _, acsc = world
    vendor: dict[str, Any] = {
        "type": "identity",
        "spec_version": "2.1",
        "id": sid("identity", "vendor"),
        "created": CREATED,
        "modified": CREATED,
        "name": "A vendor",
        "object_marking_refs": [TLP_MARKING_ID["red"]],
    }
    written = indicator("by-vendor", [TLP_MARKING_ID["clear"]], vendor["id"])
    post(node, bsi, vendor, written)
    got = received(node, acsc)
    assert vendor["id"] not in got
    assert written["id"] in got


def test_a_post_under_a_creator_that_is_no_party_is_sealed_as_received_from_its_sender(
    world: tuple[Node, Party, Party, Party],
) -> None:
    node, _, nisc, acsc = world
    written = indicator("relayed", [TLP_MARKING_ID["clear"]], sid("identity", "not-a-party"))
    post(node, nisc, written)
    [release] = [r for r in export.releases(node, acsc) if r.id == written["id"]]
    assert release.seal is not None
    seal = seals.parse(orjson.loads(release.seal))
    assert seal.signer == node.home_party.id
    assert seal.received_from == nisc.id
    seals.verify(seal, written, node.home_party.public_keys)
    # The statement is signed: the same seal without it does not verify.
    bare = seals.Seal(**{**seal.__dict__, "received_from": None})
    with pytest.raises(seals.InvalidSeal):
        seals.verify(bare, written, node.home_party.public_keys)
