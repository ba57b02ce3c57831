"""The agreements JSON API against a partner: one answer for agreements it is not in, held or
not; no version it is not named in; a post that changes nothing it may not change (issue 12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agreement_world import World, build, next_version, registry, signed_by, views
from kizuna.core import agreements as core
from kizuna.core.signing import public_key_of
from kizuna.http.app import create_app
from kizuna.services import agreements, tokens
from kizuna.services.node import Node, new_private_key

ABSENT = "agreement--abababab-0000-4000-8000-000000000009"
INVENTED = "identity--e1e1e1e1-0000-4000-8000-000000000001"


@pytest.fixture
def world(sqlite_node: Node) -> World:
    return build(sqlite_node)


def client(world: World, name: str) -> TestClient:
    party = world.node.home_party if name == "CERT-EU" else world.party[name]
    token = tokens.create(world.node, party.id).value
    return TestClient(create_app(world.node), headers={"Authorization": f"Bearer {token}"})


def answer(response: Any, held: str) -> tuple[int, bytes]:
    """Status and body, with the id asked about put in place of ``held``."""
    return response.status_code, response.content.replace(held.encode(), ABSENT.encode())


def self_signed(world: World, agreement_id: str) -> dict[str, Any]:
    key = new_private_key()
    m = world.party["Mallory"]
    doc = next_version(
        world, [(m.id, m.name, m.public_keys[0]), (INVENTED, "Evil", public_key_of(key))]
    )
    doc = {**doc, "id": agreement_id}
    return core.sign_document(core.sign_document(doc, m.id, world.keys["Mallory"]), INVENTED, key)


def test_a_non_member_gets_the_answer_of_an_agreement_that_does_not_exist(world: World) -> None:
    mallory = client(world, "Mallory")
    unsigned = {k: v for k, v in world.document(world.a).items() if k != "signatures"}
    routes: list[Callable[[str], Any]] = [
        lambda aid: mallory.get(f"/api/agreements/{aid}"),
        lambda aid: mallory.post(f"/api/agreements/{aid}/suspend"),
        lambda aid: mallory.post(f"/api/agreements/{aid}/no-such-action"),
        lambda aid: mallory.post("/api/agreements", json={**unsigned, "id": aid}),
        lambda aid: mallory.post("/api/agreements", json=self_signed(world, aid)),
    ]
    for route in routes:
        held, absent = route(world.a), route(ABSENT)
        assert held.status_code in (403, 404)
        assert answer(held, world.a) == answer(absent, ABSENT), held.text
    listed = mallory.get("/api/agreements").json()
    assert [a["id"] for a in listed] == [world.b]
    # The malformed id gets that answer too.
    odd = mallory.get("/api/agreements/not-an-id")
    assert answer(odd, "'not-an-id'") == answer(
        mallory.get(f"/api/agreements/{ABSENT}"), f"'{ABSENT}'"
    )


def test_an_intruders_posts_change_no_view_and_register_no_party(world: World) -> None:
    mallory = client(world, "Mallory")
    before_views, before_parties = views(world.node), registry(world.node)
    for name in ("Evil", "BSI\u200b", "ВЅІ"):
        doc = self_signed(world, world.a)
        doc["parties"][1]["name"] = name
        response = mallory.post("/api/agreements", json=doc)
        assert response.status_code in (400, 404, 409), response.text
        assert registry(world.node) == before_parties
    assert views(world.node) == before_views
    assert [s.agreement.version for s in agreements.history(world.node, world.a)] == [1]


def test_a_party_reads_only_the_versions_that_name_it(world: World) -> None:
    node = world.node
    # The operator imports a version 2 of A that would admit Mallory; not signed by all yet.
    m = world.party["Mallory"]
    v1 = world.document(world.a, 1)
    v2 = {
        **next_version(world, [], 2),
        "parties": [*v1["parties"], {**v1["parties"][1], "id": m.id, "name": m.name,
                                     "public_key": m.public_keys[0]}],
    }  # fmt: skip
    stored = agreements.add(node, signed_by(node, v2, {"BSI": world.keys["BSI"]}))
    assert stored.state == "draft"
    mallory = client(world, "Mallory")
    versions = mallory.get(f"/api/agreements/{world.a}")
    assert versions.status_code == 200
    assert [v["version"] for v in versions.json()] == [2]  # never version 1
    assert {a["id"]: a["version"] for a in mallory.get("/api/agreements").json()}[world.a] == 2
    # It may add its own signature to the version that names it: still a draft.
    mine = core.sign_document(v2, m.id, world.keys["Mallory"])
    posted = mallory.post("/api/agreements", json=mine)
    assert posted.status_code == 200, posted.text
    assert posted.json()["state"] == "draft" and m.id in posted.json()["signed_by"]
    nisc = client(world, "NISC")
    assert [v["version"] for v in nisc.get(f"/api/agreements/{world.a}").json()] == [1, 2]
    home = client(world, "CERT-EU")
    assert [v["version"] for v in home.get(f"/api/agreements/{world.a}").json()] == [1, 2]


def test_a_member_posts_its_signature_and_the_version_becomes_active(world: World) -> None:
    node = world.node
    v2 = {**world.document(world.a, 1), "version": 2, "title": "a, amended"}
    v2.pop("signatures")
    agreements.add(node, signed_by(node, v2, {"BSI": world.keys["BSI"]}))
    nisc = client(world, "NISC")
    posted = nisc.post(
        "/api/agreements",
        json=core.sign_document(v2, world.party["NISC"].id, world.keys["NISC"]),
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["state"] == "active" and posted.json()["in_force"]
