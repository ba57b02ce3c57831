"""Adversarial property (issue 12, agreements variant): whatever agreements a partner posts (new
versions of others' agreements, look-alike or unknown parties, partial signatures, wrong keys,
replayed signatures) over the API, as a peer's sync copy, or even through the operator's import,
no party's view (what the gate releases to it) and no registered party or key changes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from agreement_world import World, build, registry, views
from kizuna.core import agreements as core
from kizuna.core.signing import key_id, public_key_of, sign
from kizuna.errors import KizunaError
from kizuna.http.app import create_app
from kizuna.services import agreements, tokens
from kizuna.services.node import init_node, new_private_key
from support import FakeClock, SeqIds

INVENTED = "identity--e1e1e1e1-0000-4000-8000-0000000000{:02d}"
FRESH = "agreement--e1e1e1e1-0000-4000-8000-0000000000{:02d}"
NAMES = ["Evil", "BSI\u200b", "ВЅІ", "nisc", "Mallory", "CERT-ЕU", "Hanse"]


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, TestClient, Any]]:
    node = init_node(
        Path(tmp_path_factory.mktemp("arena")),
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        clock=FakeClock(),
        new_id=SeqIds("arena"),
    )
    world = build(node)
    token = tokens.create(node, world.party["Mallory"].id).value
    client = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})
    yield world, client, (views(node), registry(node))
    node.close()


member = st.one_of(
    st.sampled_from(["CERT-EU", "BSI", "NISC", "Mallory"]),
    st.tuples(st.integers(1, 3), st.sampled_from(NAMES)),  # an invented party
)


@st.composite
def attempts(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "target": draw(st.sampled_from(["a", "b", "fresh"])),
        "version": draw(st.integers(1, 3)),
        "members": draw(st.lists(member, min_size=2, max_size=5, unique=True)),
        "forged_keys": draw(st.sets(st.sampled_from(["CERT-EU", "BSI", "NISC", "Mallory"]))),
        "signers": draw(st.sets(st.integers(0, 4))),
        "replay": draw(st.booleans()),
        "channel": draw(st.sampled_from(["api", "sync", "operator"])),
        "fresh": draw(st.integers(1, 5)),
    }


def forge(world: World, attempt: dict[str, Any]) -> dict[str, Any]:
    node = world.node
    target = {"a": world.a, "b": world.b}.get(attempt["target"])
    base = world.document(world.a, 1)
    doc = {k: v for k, v in base.items() if k != "signatures"}
    doc["id"] = target or FRESH.format(attempt["fresh"])
    doc["version"] = attempt["version"]
    entries, private = [], {}
    for m in attempt["members"]:
        if isinstance(m, tuple):
            pid, name = INVENTED.format(m[0]), m[1]
            key = new_private_key()
        else:
            party = node.home_party if m == "CERT-EU" else world.party[m]
            pid, name = party.id, party.name
            # The intruder holds its own key only; for anyone else it makes one up.
            key = world.keys["Mallory"] if m == "Mallory" else new_private_key()
            if m == "Mallory" and m in attempt["forged_keys"]:
                key = new_private_key()
        listed = key if isinstance(m, tuple) or m in attempt["forged_keys"] else None
        public = public_key_of(listed) if listed else (
            node.public_key if m == "CERT-EU" else world.party[m].public_keys[0]
        )  # fmt: skip
        entries.append({**base["parties"][1], "id": pid, "name": name, "public_key": public})
        private[pid] = key
    doc["parties"] = entries
    if attempt["replay"]:
        doc["signatures"] = list(world.document(world.a, 1)["signatures"])
    payload = core.signing_payload(doc)
    signatures = {s["party"]: s for s in doc.get("signatures", ())}
    for i, entry in enumerate(entries):
        if i in attempt["signers"]:
            # Written by hand: with a made-up key where the listed key is not the intruder's.
            key = private[entry["id"]]
            signatures[entry["id"]] = {
                "party": entry["id"],
                "key_id": key_id(public_key_of(key)),
                "signature": sign(key, payload),
            }
    return {**doc, "signatures": list(signatures.values())}


@given(attempts())
def test_no_agreement_a_partner_forges_changes_any_view_or_the_registry(
    arena: tuple[World, TestClient, Any], attempt: dict[str, Any]
) -> None:
    world, client, (before_views, before_parties) = arena
    doc = forge(world, attempt)
    if attempt["channel"] == "api":
        response = client.post("/api/agreements", json=doc)
        assert response.status_code < 500, response.text
    else:
        submitter = world.party["Mallory"] if attempt["channel"] == "sync" else None
        with contextlib.suppress(KizunaError):  # a refusal is fine; a change is not
            agreements.add(world.node, doc, submitter=submitter, path=attempt["channel"])
    assert registry(world.node) == before_parties
    assert views(world.node) == before_views
