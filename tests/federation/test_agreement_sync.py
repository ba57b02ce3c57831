"""Agreements that arrive by sync from a hostile peer: a version counts only when signed with keys
this node trusts, and no party or key enters by the way (issue 12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
from federation_kit import GREEN, PARTIES, Federation, indicator

from kizuna.core import agreements as core
from kizuna.core.signing import public_key_of
from kizuna.services import agreements as agreement_service
from kizuna.services import explain, ingest, parties, state
from kizuna.services.node import Node, new_private_key

INVENTED = "identity--e1e1e1e1-0000-4000-8000-000000000001"


class HostileAgreements(httpx.AsyncBaseTransport):
    """A peer whose node was changed to serve agreement documents of its operator's making."""

    def __init__(self, inner: httpx.AsyncBaseTransport, documents: list[dict[str, Any]]) -> None:
        self.inner = inner
        self.documents = documents

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/agreements":
            body = orjson.dumps([{"document": d} for d in self.documents])
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def entry(name: str, public_key: str, party_id: str | None = None) -> dict[str, Any]:
    jurisdiction, kind, scheme, pid = PARTIES.get(name, ("DE", "government", None, INVENTED))
    out = {
        "id": party_id or pid,
        "name": name,
        "jurisdiction": jurisdiction,
        "kind": kind,
        "public_key": public_key,
    }
    if scheme:
        out["scheme"] = scheme
    return out


def forgeries(fed: Federation, agreement_id: str) -> list[dict[str, Any]]:
    """What the hostile peer serves: versions of the CERT-EU–BSI agreement of its own making."""
    hub, hostile = fed.nodes["CERT-EU"], fed.nodes["Hanse Maritime"]
    held = agreement_service.get(hub, agreement_id).agreement.document
    base = {k: v for k, v in held.items() if k != "signatures"}
    invented = new_private_key()
    me = entry("Hanse Maritime", hostile.public_key)
    home = entry("CERT-EU", hub.public_key)
    impostor = new_private_key()

    def sign(doc: dict[str, Any], *keys: tuple[str, bytes]) -> dict[str, Any]:
        for party_id, key in keys:
            doc = core.sign_document(doc, party_id, key)
        return doc

    ours = (me["id"], hostile.private_key)
    fake = (INVENTED, invented)
    docs = []
    for name in ("Evil", "BSI\u200b", "ВЅІ"):
        doc = {**base, "version": 2, "parties": [home, me, entry(name, public_key_of(invented))]}
        docs.append(sign(doc, ours, fake))
    # BSI listed with a key of the intruder's making, and signing with it.
    bsi = entry("BSI", public_key_of(impostor))
    docs.append(
        sign({**base, "version": 2, "parties": [home, me, bsi]}, ours, (bsi["id"], impostor))
    )
    # A new agreement naming an unknown party.
    new = {**base, "id": "agreement--e1e1e1e1-0000-4000-8000-000000000002", "version": 1}
    docs.append(
        sign({**new, "parties": [home, me, entry("Evil", public_key_of(invented))]}, ours, fake)
    )
    return docs


def views(node: Node) -> dict[str, set[str]]:
    return {
        p.name: {e.version.id for e in explain.preview(node, p)}
        for p in parties.all_parties(node)
        if not p.is_home
    }


def registry(node: Node) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(p.id, p.name, p.public_keys) for p in parties.all_parties(node)]


def test_forged_versions_from_a_peer_change_nothing(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI", "Hanse Maritime"])
    hub = fed.nodes["CERT-EU"]
    agreement = fed.agree(
        {"title": "EU–DE", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"}
    )
    green = indicator(1, GREEN, hub.home_party.id)
    ingest.ingest(hub, [green], submitter=hub.home_party, path="import")
    fed.sync_all()
    before_views, before_parties = views(hub), registry(hub)
    assert green["id"] in before_views["BSI"] and green["id"] not in before_views["Hanse Maritime"]

    documents = forgeries(fed, agreement)
    fed.wrappers[("CERT-EU", "Hanse Maritime")] = lambda _me, _to, inner: HostileAgreements(
        inner, documents
    )
    for result in fed.sync("CERT-EU"):
        assert result.agreements == 0, result

    assert registry(hub) == before_parties
    assert views(hub) == before_views
    governing = {a.id: a for a in state.current(hub).agreements}
    assert governing[agreement].version == 1
    assert [s.agreement.version for s in agreement_service.history(hub, agreement)] == [1]


def test_a_peer_relays_real_signatures_of_an_agreement_it_is_in(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI"])
    hub, bsi = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    agreement = fed.agree(
        {"title": "EU–DE", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"}
    )
    fed.sync_all()
    # Version 2, drafted and signed at BSI, arrives by sync and waits for CERT-EU's signature.
    v2 = {
        **{k: v for k, v in agreement_service.get(bsi, agreement).agreement.document.items()
           if k != "signatures"},
        "version": 2,
        "title": "EU–DE, amended",
    }  # fmt: skip
    agreement_service.add(bsi, core.sign_document(v2, bsi.home_party.id, bsi.private_key))
    fed.sync_all()
    assert agreement_service.get(hub, agreement).agreement.version == 2
    assert agreement_service.get(hub, agreement).agreement.state == "draft"
    agreement_service.sign(hub, agreement)
    fed.sync_all()
    assert agreement_service.get(bsi, agreement).agreement.state == "active"
