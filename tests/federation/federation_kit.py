"""Helpers for federation tests: several nodes in one process, each with its own folder and
SQLite, talking real HTTP through ``httpx.ASGITransport`` (STYLE.md: the real HTTP stack
without sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from kizuna.core import agreements as core_agreements
from kizuna.http.app import create_app
from kizuna.services import agreements, parties, peers, sync, tokens
from kizuna.services.node import Node, init_node
from kizuna.storage.peers import PeerRecord
from support import FakeClock, SeqIds

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"

# name: (jurisdiction, kind, scheme, party id)
PARTIES = {
    "CERT-EU": ("EU", "csirt", "EU", "identity--e0000000-0000-4000-8000-000000000001"),
    "BSI": ("DE", "government", "DE", "identity--de000000-0000-4000-8000-000000000002"),
    "NISC": ("JP", "government", "JP", "identity--1a000000-0000-4000-8000-000000000003"),
    "Hanse Maritime": ("DE", "private", None, "identity--c0000000-0000-4000-8000-000000000004"),
}

Wrap = Callable[[str, str, httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


@dataclass
class Federation:
    """Nodes by their home party's name, and the HTTP wiring between them."""

    nodes: dict[str, Node]
    apps: dict[str, Any] = field(default_factory=dict)
    # (from, to) -> a transport wrapper a test may install to inject faults.
    wrappers: dict[tuple[str, str], Wrap] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://{name.lower().replace(' ', '-')}.test/"

    def transports(self, me: str) -> Callable[[PeerRecord], httpx.AsyncBaseTransport]:
        def make(record: PeerRecord) -> httpx.AsyncBaseTransport:
            target = next(n for n in self.nodes if self.url(n) == record.url)
            transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=self.apps[target])
            wrap = self.wrappers.get((me, target))
            return wrap(me, target, transport) if wrap else transport

        return make

    def sync(self, name: str, **kwargs: Any) -> list[sync.PeerResult]:
        return asyncio.run(
            sync.sync_all(
                self.nodes[name], transports=self.transports(name), backoff=0.01, **kwargs
            )
        )

    def sync_all(self, rounds: int = 2) -> None:
        for _ in range(rounds):
            for name in self.nodes:
                for result in self.sync(name):
                    assert result.error is None, (name, result)

    def agree(self, template: dict[str, Any]) -> str:
        """Draft an agreement on the first party's node, have every party sign it on its own
        node, and let the copies meet through sync."""
        first = self.nodes[template["parties"][0]]
        draft = agreements.from_template(first, template)
        agreements.add(first, draft)
        for name in template["parties"]:
            node = self.nodes[name]
            signed = core_agreements.sign_document(draft, node.home_party.id, node.private_key)
            agreements.add(node, signed)
        return str(draft["id"])


def build(tmp_path: Any, names: list[str], clock: FakeClock) -> Federation:
    nodes: dict[str, Node] = {}
    for name in names:
        jurisdiction, kind, scheme, pid = PARTIES[name]
        nodes[name] = init_node(
            tmp_path / name.replace(" ", "-"),
            party_name=name,
            jurisdiction=jurisdiction,
            kind=kind,
            scheme=scheme,
            party_id=pid,
            clock=clock,
            new_id=SeqIds(name),
        )
    fed = Federation(nodes)
    for name, node in nodes.items():
        for other, other_node in nodes.items():
            if other != name:
                jurisdiction, kind, scheme, pid = PARTIES[other]
                parties.add_party(
                    node,
                    other,
                    jurisdiction=jurisdiction,
                    kind=kind,
                    scheme=scheme,
                    party_id=pid,
                    public_keys=(other_node.public_key,),
                )
        fed.apps[name] = create_app(node)
    # Every node pulls from every other with a token that node issued to it.
    for name, node in nodes.items():
        for other, other_node in nodes.items():
            if other != name:
                token = tokens.create(other_node, name).value
                peers.add(node, fed.url(other), other, token)
    return fed


def indicator(n: int, marking: str, creator: str | None = None, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--f0000000-0000-4000-8000-{n:012d}",
        "created": "2026-05-01T00:00:00.000Z",
        "modified": "2026-05-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": "2026-05-01T00:00:00Z",
        "object_marking_refs": [marking],
        **extra,
    }
    if creator:
        obj["created_by_ref"] = creator
    return obj
