"""How agreement versions enter a node: activation needs trusted signatures; no party enters by
the way; look-alike names are refused (issue 12, "Agreements")."""

from __future__ import annotations

from typing import Any

import pytest

from agreement_world import World, build, next_version, registry, signed_by, views, views_ids
from kizuna.core import agreements as core
from kizuna.core.signing import public_key_of
from kizuna.errors import AlreadyExists, Forbidden, InvalidInput
from kizuna.services import agreements, parties, state
from kizuna.services.node import Node, new_private_key

INVENTED = "identity--e1e1e1e1-0000-4000-8000-000000000001"


@pytest.fixture
def world(sqlite_node: Node) -> World:
    return build(sqlite_node)


def mallory(world: World) -> tuple[str, str, str]:
    p = world.party["Mallory"]
    return (p.id, p.name, p.public_keys[0])


def self_signed(world: World, invented_name: str) -> dict[str, Any]:
    """The issue's version 2 of A: Mallory and a party it invented, signed by both."""
    invented_key = new_private_key()
    doc = next_version(
        world, [mallory(world), (INVENTED, invented_name, public_key_of(invented_key))]
    )
    doc = core.sign_document(doc, world.party["Mallory"].id, world.keys["Mallory"])
    return core.sign_document(doc, INVENTED, invented_key)


def governing_version(node: Node, agreement_id: str) -> int:
    return {a.id: a for a in state.current(node).agreements}[agreement_id].version


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("BSI\u200b", InvalidInput, "invisible characters"),
        ("ВЅІ", AlreadyExists, "looks like the name of the party 'BSI'"),
        ("bsi", AlreadyExists, "looks like the name of the party 'BSI'"),
    ],
    ids=["zero-width-space", "cyrillic", "case"],
)
def test_a_look_alike_party_in_an_agreement_is_refused_and_nothing_changes(
    world: World, name: str, error: type[Exception], words: str
) -> None:
    before_views, before_parties = views(world.node), registry(world.node)
    with pytest.raises(error, match=words):
        agreements.add(world.node, self_signed(world, name))
    assert registry(world.node) == before_parties
    assert views(world.node) == before_views
    assert [s.agreement.version for s in agreements.history(world.node, world.a)] == [1]


def test_a_self_signed_next_version_stays_a_draft_even_from_the_operator(world: World) -> None:
    before_views, before_parties = views(world.node), registry(world.node)
    stored = agreements.add(world.node, self_signed(world, "Evil Corp"))
    assert stored.version == 2 and stored.state == "draft"
    reason = stored.inactive_reason(world.node.now())
    assert reason is not None and "not signed yet" in reason
    assert governing_version(world.node, world.a) == 1
    # The real parties' releases go on; the intruder collects nothing under BSI's consent;
    # the invented party was not registered.
    assert views(world.node) == before_views
    assert registry(world.node) == before_parties
    with pytest.raises(Exception, match="no party"):
        parties.find(world.node, "Evil Corp")


def test_a_first_version_naming_an_unknown_party_is_refused_and_registers_nothing(
    world: World,
) -> None:
    before = registry(world.node)
    invented_key = new_private_key()
    doc = {
        **next_version(
            world, [mallory(world), (INVENTED, "Evil Corp", public_key_of(invented_key))], 1
        ),
        "id": "agreement--e1e1e1e1-0000-4000-8000-000000000002",
    }
    doc = core.sign_document(doc, INVENTED, invented_key)
    with pytest.raises(InvalidInput, match=r"does not know: Evil Corp .*kizuna party add"):
        agreements.add(world.node, doc)
    assert registry(world.node) == before


def test_a_known_partys_key_cannot_be_replaced_through_an_agreement(world: World) -> None:
    nisc = world.party["NISC"]
    impostor = new_private_key()
    doc = next_version(world, [mallory(world), (nisc.id, "NISC", public_key_of(impostor))])
    with pytest.raises(Forbidden, match="does not know for it"):
        agreements.add(world.node, core.sign_document(doc, nisc.id, impostor))
    assert parties.find(world.node, "NISC").public_keys == nisc.public_keys


def test_an_accession_admits_its_new_party_only_once_every_existing_party_signed(
    world: World,
) -> None:
    node = world.node
    acsc_key = new_private_key()
    v1 = world.document(world.a, 1)
    doc = {
        **next_version(world, [], 2),
        "parties": [
            *v1["parties"],
            {**v1["parties"][1], "id": INVENTED, "name": "ACSC", "jurisdiction": "AU",
             "public_key": public_key_of(acsc_key)},
        ],
    }  # fmt: skip
    doc = core.sign_document(doc, INVENTED, acsc_key)
    partial = agreements.add(node, signed_by(node, doc, {"BSI": world.keys["BSI"]}))
    assert partial.state == "draft" and governing_version(node, world.a) == 1
    with pytest.raises(Exception, match="no party"):
        parties.find(node, "ACSC")  # not registered while a party of version 1 has not signed
    whole = agreements.add(node, signed_by(node, doc, world.keys))
    assert whole.state == "active" and governing_version(node, world.a) == 2
    acsc = parties.find(node, "ACSC")
    assert acsc.id == INVENTED and acsc.public_keys == (public_key_of(acsc_key),)
    assert world.y["id"] in views_ids(node)["ACSC"]  # BSI's consent names A: ACSC is in it now


def test_a_party_leaving_must_sign_the_version_that_drops_it(world: World) -> None:
    node = world.node
    v1 = world.document(world.a, 1)
    without_nisc = {
        **next_version(world, [], 2),
        "parties": [p for p in v1["parties"] if p["name"] != "NISC"],
    }
    keys = {"BSI": world.keys["BSI"]}
    stored = agreements.add(node, signed_by(node, without_nisc, keys))
    assert stored.state == "draft"
    assert "NISC" not in [p.name for p in stored.parties]
    assert world.party["NISC"].id in (stored.inactive_reason(node.now()) or "")
    assert world.y["id"] in views_ids(node)["NISC"]
    leaving = core.sign_document(
        stored.document, world.party["NISC"].id, world.keys["NISC"], leaving=True
    )
    assert agreements.add(node, leaving).state == "active"
    assert world.y["id"] not in views_ids(node)["NISC"]


def test_a_signature_of_a_stranger_is_refused(world: World) -> None:
    doc = world.document(world.a, 1)
    stranger = core.sign_document(
        doc, world.party["Mallory"].id, world.keys["Mallory"], leaving=True
    )
    with pytest.raises(InvalidInput, match="neither to it nor to the version it replaces"):
        agreements.add(world.node, stranger)


def test_the_cli_paths_report_why_a_version_is_not_in_force(world: World) -> None:
    stored = agreements.add(world.node, self_signed(world, "Evil Corp"))
    line = stored.inactive_reason(world.node.now()) or ""
    assert world.party["BSI"].id in line and world.party["NISC"].id in line


@pytest.mark.parametrize(
    ("name", "words"),
    [("BSI\u200b", "invisible"), ("ＢＳＩ", "looks like"), ("B S I", "looks like")],
    ids=["zwsp", "fullwidth", "spaced"],
)
def test_party_add_normalises_and_refuses_look_alikes(world: World, name: str, words: str) -> None:
    with pytest.raises((InvalidInput, AlreadyExists), match=words):
        parties.add_party(world.node, name, jurisdiction="DE", kind="government")


def test_party_add_stores_the_normal_form(world: World) -> None:
    added = parties.add_party(
        world.node, "  Hanse\u00a0 Maritime ", jurisdiction="DE", kind="private"
    )
    assert added.name == "Hanse Maritime"
    assert parties.find(world.node, "ＨＡＮＳＥ maritime").id == added.id
