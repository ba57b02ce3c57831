"""The world of issue 12's agreement attack, shared by the services, http and federation tests.

CERT-EU's hub holds agreement A between CERT-EU, BSI and NISC, and agreement B between CERT-EU
and Mallory (an ordinary partner, who becomes the intruder). It holds BSI's TLP:AMBER indicator
Y (imported: an onward release), and BSI's signed consent to release Y to the parties of A. So
NISC receives Y, Mallory does not. Mallory's aim: a "next version" of A that names itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kizuna.core import agreements as core
from kizuna.core.parties import Party
from kizuna.core.signing import public_key_of
from kizuna.services import agreements, consents, explain, ingest, parties
from kizuna.services.node import Node, new_private_key

AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
PARTNERS = {
    "BSI": ("DE", "government", "DE"),
    "NISC": ("JP", "government", "JP"),
    "Mallory": ("NL", "private", None),
}


@dataclass
class World:
    node: Node
    keys: dict[str, bytes]  # private keys of the partners (the test plays each of them)
    party: dict[str, Party]
    a: str  # CERT-EU, BSI, NISC
    b: str  # CERT-EU, Mallory
    y: dict[str, Any]  # BSI's AMBER indicator

    def document(self, agreement_id: str, version: int | None = None) -> dict[str, Any]:
        return dict(agreements.get(self.node, agreement_id, version).agreement.document)


def signed_by(node: Node, document: dict[str, Any], keys: dict[str, bytes]) -> dict[str, Any]:
    """``document`` signed by each of its parties whose key is in ``keys`` (home: node's key)."""
    for p in document["parties"]:
        if p["id"] == node.home_party.id:
            document = core.sign_document(document, p["id"], node.private_key)
        elif p["name"] in keys:
            document = core.sign_document(document, p["id"], keys[p["name"]])
    return document


def build(node: Node) -> World:
    keys = {name: new_private_key() for name in PARTNERS}
    party = {
        name: parties.add_party(
            node,
            name,
            jurisdiction=j,
            kind=k,
            scheme=s,
            public_keys=(public_key_of(keys[name]),),
        )
        for name, (j, k, s) in PARTNERS.items()
    }
    ids = {}
    for name, members in (("a", ["CERT-EU", "BSI", "NISC"]), ("b", ["CERT-EU", "Mallory"])):
        draft = agreements.from_template(
            node, {"title": name, "parties": members, "valid_from": "2026-01-01T00:00:00Z"}
        )
        assert agreements.add(node, signed_by(node, draft, keys)).state == "active"
        ids[name] = str(draft["id"])
    y: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0b0b0b0b-0000-4000-8000-000000000001",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "created_by_ref": party["BSI"].id,
        "pattern": "[ipv4-addr:value = '192.0.2.77']",
        "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
        "object_marking_refs": [AMBER],
    }
    [outcome] = ingest.ingest(node, [y], submitter=node.home_party, path="import")
    assert outcome.status == "stored", outcome
    consents.grant(
        node,
        expires_us=node.now() + 365 * 86_400_000_000,
        objects=[y["id"]],
        agreements=[ids["a"]],
        originator="BSI",
        private_key=keys["BSI"],
    )
    world = World(node, keys, party, ids["a"], ids["b"], y)
    seen = views_ids(node)
    assert y["id"] in seen["NISC"] and y["id"] not in seen["Mallory"], seen
    return world


def views(node: Node) -> dict[str, frozenset[tuple[str, str | None, str | None]]]:
    """What the gate releases to each party but home: (object, released id, agreement)."""
    return {
        p.name: frozenset(
            (e.version.id, e.released_id, e.decision.agreement) for e in explain.preview(node, p)
        )
        for p in parties.all_parties(node)
        if not p.is_home
    }


def views_ids(node: Node) -> dict[str, set[str]]:
    return {name: {i for i, _, _ in v} for name, v in views(node).items()}


def registry(node: Node) -> list[tuple[str, str, tuple[str, ...]]]:
    """The registered parties and their keys."""
    return [(p.id, p.name, p.public_keys) for p in parties.all_parties(node)]


def next_version(
    world: World, members: list[tuple[str, str, str]], version: int = 2
) -> dict[str, Any]:
    """A version of A naming ``members`` (id, name, public key), unsigned."""
    base = world.document(world.a, 1)
    template = base["parties"][0]
    return {
        **{k: v for k, v in base.items() if k != "signatures"},
        "version": version,
        "parties": [
            {**template, "id": i, "name": n, "public_key": k, "jurisdiction": "DE"}
            for i, n, k in members
        ],
    }
