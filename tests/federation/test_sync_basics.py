"""Sync between nodes in one process: seals travel, agreements meet, consents and receipts flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from federation_kit import AMBER, GREEN, STRICT, Federation, indicator

from kizuna.core.seals import SEAL_TYPE
from kizuna.core.taxii import Filters
from kizuna.services import consents, explain, ingest, ledger, parties
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage import seals as seal_store


def held(node: Node) -> dict[str, dict[str, Any]]:
    with node.db.read() as conn:
        rows = store.scan(conn, Filters(), None, 100_000)
    return {r.id: orjson.loads(r.content) for r in rows}


def handling(node: Node, object_id: str) -> str:
    with node.db.read() as conn:
        return store.latest(conn, [object_id])[object_id].handling


def test_objects_travel_sealed_and_agreements_meet(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI"])
    a, b = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    agreement = fed.agree(
        {"title": "EU–DE", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"}
    )
    fed.sync_all()
    from kizuna.services import agreements

    assert agreements.get(b, agreement).agreement.state == "active"
    assert agreements.get(a, agreement).agreement.fully_signed

    green = indicator(1, GREEN, a.home_party.id)
    ingest.ingest(a, [green], submitter=a.home_party, path="import")
    fed.sync_all()
    assert held(b)[green["id"]] == green
    with b.db.read() as conn:
        found = seal_store.find(
            conn, [(green["id"], store.latest(conn, [green["id"]])[green["id"]].modified)]
        )
    [s] = next(iter(found.values()))
    assert s.signer == a.home_party.id
    assert '"quarantine"' not in handling(b, green["id"])
    # B holds a seal object for it? No: seals live beside objects, not among them.
    assert not any(k.startswith(SEAL_TYPE) for k in held(b))


def test_amber_strict_stops_at_its_first_recipient_until_the_originator_consents(
    federation: Callable[[list[str]], Federation],
) -> None:
    fed = federation(["CERT-EU", "BSI", "NISC"])
    a, b, c = (fed.nodes[n] for n in ("CERT-EU", "BSI", "NISC"))
    fed.agree(
        {
            "title": "EU–DE",
            "parties": ["CERT-EU", "BSI"],
            "valid_from": "2026-01-01T00:00:00Z",
            "receipts_owed": True,
        }
    )
    fed.agree(
        {
            "title": "DE–JP",
            "parties": ["BSI", "NISC"],
            "valid_from": "2026-01-01T00:00:00Z",
            "receipts_owed": True,
        }
    )
    fed.sync_all()
    strict = indicator(2, STRICT, a.home_party.id)
    ingest.ingest(a, [strict], submitter=a.home_party, path="import")
    fed.sync_all()
    assert strict["id"] in held(b)
    assert strict["id"] not in held(c)
    nisc = parties.find(b, "NISC")
    refusal = explain.explain(b, strict["id"], nisc)[-1].decision.refusal
    assert refusal is not None and refusal.rule == 5

    consents.grant(a, expires_us=a.now() + 86_400_000_000, objects=[strict["id"]], parties=["NISC"])
    fed.sync_all(rounds=3)
    assert held(c)[strict["id"]] == strict
    # B released it onward under an agreement owing receipts: CERT-EU learns where it went.
    receipts = ledger.receipts(a, strict["id"])
    assert [(r["created_by_ref"], r["recipient_ref"]) for r in receipts] == [
        (b.home_party.id, c.home_party.id)
    ]


def test_amber_goes_onward_only_to_clients(federation: Callable[[list[str]], Federation]) -> None:
    fed = federation(["CERT-EU", "BSI", "Hanse Maritime"])
    a, b, h = (fed.nodes[n] for n in ("CERT-EU", "BSI", "Hanse Maritime"))
    fed.agree(
        {"title": "EU–DE", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"}
    )
    fed.agree(
        {
            "title": "DE–industry",
            "parties": ["BSI", "Hanse Maritime"],
            "valid_from": "2026-01-01T00:00:00Z",
        }
    )
    fed.sync_all()
    amber = indicator(3, AMBER, a.home_party.id)
    ingest.ingest(a, [amber], submitter=a.home_party, path="import")
    fed.sync_all()
    assert amber["id"] not in held(h)
    parties.update_party(b, "Hanse Maritime", client=True)
    fed.sync_all()
    assert amber["id"] in held(h)


def test_a_tampered_object_is_quarantined(federation: Callable[[list[str]], Federation]) -> None:
    fed = federation(["CERT-EU", "BSI", "NISC"])
    a, b, c = (fed.nodes[n] for n in ("CERT-EU", "BSI", "NISC"))
    fed.agree(
        {
            "title": "all",
            "parties": ["CERT-EU", "BSI", "NISC"],
            "valid_from": "2026-01-01T00:00:00Z",
        }
    )
    fed.sync_all()
    green = indicator(4, GREEN, a.home_party.id)
    ingest.ingest(a, [green], submitter=a.home_party, path="import")

    import httpx

    class Tamper(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            changed = body.replace(b"198.51.100.4", b"198.51.100.99")
            return httpx.Response(response.status_code, headers=response.headers, content=changed)

    fed.wrappers[("BSI", "CERT-EU")] = lambda _me, _to, inner: Tamper(inner)
    fed.sync("BSI")
    assert '"quarantine"' in handling(b, green["id"])
    nisc = parties.find(b, "NISC")
    refusal = explain.explain(b, green["id"], nisc)[-1].decision.refusal
    assert refusal is not None and "quarantined" in refusal.sentence
    fed.sync("NISC")
    assert held(c).get(green["id"], {}).get("pattern") != "[ipv4-addr:value = '198.51.100.99']"


def test_a_sighting_on_another_node_comes_back_to_the_originator(
    federation: Callable[[list[str]], Federation],
) -> None:
    from kizuna.services import correlation

    fed = federation(["CERT-EU", "BSI"])
    a, b = fed.nodes["CERT-EU"], fed.nodes["BSI"]
    fed.agree(
        {"title": "EU–DE", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"}
    )
    fed.sync_all()
    ind = indicator(5, GREEN, a.home_party.id)
    ingest.ingest(a, [ind], submitter=a.home_party, path="import")
    fed.sync_all()
    matches, _ = correlation.match_values(b, [ind["pattern"].split("'")[1]])
    assert [m.indicator_id for m in matches] == [ind["id"]]
    fed.sync("CERT-EU")
    sightings = [o for o in held(a).values() if o["type"] == "sighting"]
    assert [(s["sighting_of_ref"], s["where_sighted_refs"]) for s in sightings] == [
        (ind["id"], [b.home_party.id])
    ]
