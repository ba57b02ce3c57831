"""The trust framework's JSON API: who may explain, preview and audit, and what they learn."""

from __future__ import annotations

from collections.abc import Callable

from kizuna.core.taxii import RELEASED
from kizuna.services import ingest
from kizuna.services.node import Node
from support import Member

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
OBJECTS = f"/taxii2/root/collections/{RELEASED}/objects/"


def indicator(n: int, marking: str) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--0c0c0c0c-0000-4000-8000-{n:012d}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n}']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
        "object_marking_refs": [marking],
    }


def test_explain_preview_audit(sqlite_node: Node, member: Callable[..., Member]) -> None:
    home = member("CERT-EU")
    bsi = member("BSI")
    clear, amber = indicator(1, CLEAR), indicator(2, AMBER)
    ingest.ingest(sqlite_node, [clear, amber], submitter=sqlite_node.home_party, path="import")

    explained = home.client.get("/api/explain", params={"object": amber["id"], "to": "BSI"}).json()
    assert explained[-1]["outcome"] == "withhold"
    assert explained[-1]["refused_by"]["rule"] == 4
    assert explained[-1]["refused_by"]["code"] == "rule-4-agreement"

    preview = home.client.get("/api/preview", params={"to": "BSI"}).json()
    ids = {p["id"] for p in preview}
    assert clear["id"] in ids and amber["id"] not in ids

    # A partner may neither preview another's view nor explain objects that are not its own.
    assert bsi.client.get("/api/preview", params={"to": "BSI"}).status_code == 403
    assert (
        bsi.client.get("/api/explain", params={"object": amber["id"], "to": "BSI"}).status_code
        == 404
    )

    # Nothing is in the ledger until the partner actually reads.
    assert home.client.get("/api/audit", params={"object": clear["id"]}).json() == []
    read = bsi.client.get(OBJECTS, headers={"Accept": "application/taxii+json;version=2.1"})
    assert read.status_code == 200
    assert amber["id"] not in read.text and clear["id"] in read.text
    entries = home.client.get("/api/audit", params={"object": clear["id"]}).json()
    assert [(e["recipient"], e["rules"]) for e in entries] == [(bsi.party.id, [3])]
    # Reading again records nothing new: the ledger is per release of a version, not per read.
    bsi.client.get(OBJECTS)
    assert len(home.client.get("/api/audit", params={"object": clear["id"]}).json()) == 1

    verified = home.client.get("/api/audit/verify").json()
    assert verified["intact"] and verified["entries"] >= 1
    assert bsi.client.get("/api/audit/verify").status_code == 403


def test_an_originator_explains_and_audits_its_own_objects(
    sqlite_node: Node, member: Callable[..., Member]
) -> None:
    bsi = member("BSI")
    nisc = member("NISC", "JP", "government", "JP")
    own = indicator(3, CLEAR)
    post = bsi.client.post(
        "/taxii2/root/collections/0d2d5b8e-6a0c-5e7b-9f5c-6b1c1d1f0a01/objects/",
        json={"objects": [{**own, "created_by_ref": bsi.party.id}]},
        headers={
            "Content-Type": "application/taxii+json;version=2.1",
            "Accept": "application/taxii+json;version=2.1",
        },
    )
    assert post.status_code == 202 and post.json()["success_count"] == 1
    explained = bsi.client.get("/api/explain", params={"object": own["id"], "to": "NISC"}).json()
    assert explained[-1]["outcome"] == "release"
    nisc.client.get(OBJECTS)
    entries = bsi.client.get("/api/audit", params={"object": own["id"]}).json()
    assert {e["recipient"] for e in entries} == {nisc.party.id}
    assert bsi.client.get("/api/audit").status_code == 403  # the whole ledger is the home's


def test_a_consents_recipient_does_not_learn_of_it(
    sqlite_node: Node, member: Callable[..., Member]
) -> None:
    """A consent lists objects its recipient may not see yet: only its originator lists it."""
    from kizuna.services import consents

    home = member("CERT-EU")
    bsi = member("BSI")
    withheld = indicator(9, AMBER)
    ingest.ingest(sqlite_node, [withheld], submitter=sqlite_node.home_party, path="import")
    consents.grant(
        sqlite_node,
        expires_us=sqlite_node.now() + 10**10,
        objects=[withheld["id"]],
        parties=["BSI"],
    )
    assert [c["objects"] for c in home.client.get("/api/consents").json()] == [[withheld["id"]]]
    listed = bsi.client.get("/api/consents")
    assert listed.json() == [] and withheld["id"] not in listed.text
