"""A small hand-made federation scenario whose outcome is written out by hand, not computed.

CERT-EU, BSI and NISC are all party to one agreement (TLP CLEAR to AMBER+STRICT; RED needs
listed recipients). What each originates, and who must end up holding it:

| originator | objects                                 | CERT-EU | BSI | NISC                 |
|------------|-----------------------------------------|---------|-----|----------------------|
| CERT-EU    | ``green``: TLP:GREEN indicators         | own     | yes | yes                  |
| CERT-EU    | ``strict``: TLP:AMBER+STRICT indicators | own     | yes | yes, from CERT-EU    |
| CERT-EU    | ``red``: TLP:RED indicators, BSI listed | own     | yes | never (RED: BSI only)|
| BSI        | ``bsi_green``: TLP:GREEN indicators     | yes     | own | yes                  |
| NISC       | ``nisc_green``: TLP:GREEN indicators    | yes     | yes | own                  |

AMBER+STRICT goes first hop only: NISC gets it from CERT-EU itself, never through BSI.

GREEN travels onward too (the agreement includes the originator), so a node may receive the
same object from two peers: it must still hold it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.core import agreements as core_agreements
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.taxii import Filters
from kizuna.services import agreements, explain, ingest, parties, peers
from kizuna.services.node import Node
from kizuna.storage import objects as store

STAMP = "2026-05-01T00:00:00.000Z"
NAMESPACE = uuid.UUID("6f1d1c1e-2f0a-4c5e-9d7b-0a9e8f7c6b5a")


def indicator(tag: str, n: int, creator: str, markings: Sequence[str]) -> dict[str, Any]:
    """A valid indicator with a deterministic id, created by ``creator``."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NAMESPACE, f'{tag}/{n}')}",
        "created": STAMP,
        "modified": STAMP,
        "created_by_ref": creator,
        "name": f"{tag} {n}",
        "pattern": f"[ipv4-addr:value = '10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2026-05-01T00:00:00Z",
        "object_marking_refs": list(markings),
    }


def publish(node: Node, objects: Sequence[dict[str, Any]], chunk: int = 2000) -> None:
    """The home party imports objects it originates (first-hop releases from then on)."""
    for i in range(0, len(objects), chunk):
        for outcome in ingest.ingest(
            node, list(objects[i : i + chunk]), submitter=node.home_party, path="import"
        ):
            assert outcome.status == "stored", outcome


def agree_everywhere(nodes: Mapping[str, Node], title: str = "all partners") -> str:
    """One agreement among all the nodes' home parties, signed by each, stored on each.

    Signing is local here (each party's key signs the same draft), so the agreement is active
    on every node before any sync runs; the sync tests then exercise objects, not drafts.
    """
    names = list(nodes)
    first = nodes[names[0]]
    template = {"title": title, "parties": names, "valid_from": "2026-01-01T00:00:00Z"}
    document = agreements.from_template(first, template)
    for node in nodes.values():
        document = core_agreements.sign_document(document, node.home_party.id, node.private_key)
    for node in nodes.values():
        agreements.add(node, document)
    return str(document["id"])


@dataclass
class Published:
    """The ids of what each party originated, by kind (see the module's table)."""

    green: list[str] = field(default_factory=list)
    strict: list[str] = field(default_factory=list)
    red: list[str] = field(default_factory=list)
    bsi_green: list[str] = field(default_factory=list)
    nisc_green: list[str] = field(default_factory=list)

    def expected(self, name: str) -> set[str]:
        """The indicators ``name``'s node must hold once the federation has converged."""
        everyone = {*self.green, *self.strict, *self.bsi_green, *self.nisc_green}
        if name in ("CERT-EU", "BSI"):
            return everyone | set(self.red)
        return everyone


def publish_scenario(
    nodes: Mapping[str, Node], green: int = 20, strict: int = 2, red: int = 2, others: int = 5
) -> Published:
    eu, bsi = nodes["CERT-EU"], nodes["BSI"]
    nisc = nodes.get("NISC")
    out = Published()
    tlp = TLP_MARKING_ID
    only_bsi = handling_marking(
        "marking-definition--7e0d9c6a-0b5e-4d2b-8a51-3d1f6c0f2a11",
        STAMP,
        eu.home_party.id,
        recipients=[bsi.home_party.id],
        name="BSI only",
    )
    objects = [only_bsi]
    for n in range(green):
        objects.append(indicator("eu-green", n, eu.home_party.id, [tlp["green"]]))
        out.green.append(objects[-1]["id"])
    for n in range(strict):
        objects.append(indicator("eu-strict", n, eu.home_party.id, [tlp["amber+strict"]]))
        out.strict.append(objects[-1]["id"])
    for n in range(red):
        objects.append(indicator("eu-red", n, eu.home_party.id, [tlp["red"], only_bsi["id"]]))
        out.red.append(objects[-1]["id"])
    publish(eu, objects)
    bsi_objects = [
        indicator("bsi-green", n, bsi.home_party.id, [tlp["green"]]) for n in range(others)
    ]
    publish(bsi, bsi_objects)
    out.bsi_green = [o["id"] for o in bsi_objects]
    if nisc is not None:
        nisc_objects = [
            indicator("nisc-green", n, nisc.home_party.id, [tlp["green"]]) for n in range(others)
        ]
        publish(nisc, nisc_objects)
        out.nisc_green = [o["id"] for o in nisc_objects]
    return out


def own(node: Node) -> set[str]:
    """The ids of objects the home party originated here."""
    with node.db.read() as conn:
        rows = store.scan(conn, Filters(), None, 10**9)
    return {r.id for r in rows if r.source == node.home_party.id}


def gate_prediction(nodes: Mapping[str, Node], name: str) -> set[str]:
    """What ``name``'s node holds at a fixed point of sync: its own objects and everything the
    gates of the peers it pulls from release to it now (``explain.preview``: nothing released)."""
    me = nodes[name]
    by_party = {node.home_party.id: node for node in nodes.values()}
    predicted = own(me)
    for record in peers.all_peers(me):
        peer = by_party[record.party_id]
        party = parties.find(peer, me.home_party.id)
        predicted |= {e.released_id for e in explain.preview(peer, party) if e.released_id}
    return predicted


def released_up_to(peer: Node, to: str, cursor: int | None) -> set[tuple[str, int]]:
    """The versions (id, modified) ``peer`` releases to ``to`` (not ``to``'s own objects)
    with a ``date_added`` at or before ``cursor``: what a puller at that cursor must hold."""
    if cursor is None:
        return set()
    party = parties.find(peer, to)
    return {
        (e.released_id, e.version.modified)
        for e in explain.preview(peer, party)
        if e.released_id and e.version.date_added <= cursor and e.version.source != party.id
    }
