"""The trust framework's JSON API: who may explain, preview and audit, and what they learn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import RELEASED
from kizuna.services import ingest
from kizuna.services import ledger as ledger_service
from kizuna.services.node import Node
from support import Member

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
OBJECTS = f"/taxii2/root/collections/{RELEASED}/objects/"


def indicator(n: int, marking: str) -> dict[str, Any]:
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
    assert verified["vouched_up_to"] is None
    assert verified["unvouched_entries"] == verified["entries"]
    cp = ledger_service.checkpoint(sqlite_node)
    assert cp is not None
    verified = home.client.get("/api/audit/verify").json()
    assert verified["vouched_up_to"] == {"entry": cp.seq, "signed": format_timestamp(cp.time_us)}
    assert verified["unvouched_entries"] == 0
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


def test_the_homes_export_for_a_party_is_a_preview_a_partys_own_is_a_release(
    sqlite_node: Node, member: Callable[..., Member]
) -> None:
    from kizuna.services import ledger

    home, bsi = member("CERT-EU"), member("BSI")
    released = indicator(11, CLEAR)
    ingest.ingest(sqlite_node, [released], submitter=sqlite_node.home_party, path="import")
    preview = home.client.get("/api/export", params={"to": "BSI"})
    assert preview.status_code == 200 and preview.headers["Kizuna-Export"] == "preview"
    assert released["id"] in preview.text
    assert ledger.show(sqlite_node) == []  # nothing reached BSI
    own = bsi.client.get("/api/export")
    assert own.status_code == 200 and own.headers["Kizuna-Export"] == "release"
    to_bsi = {e.object_id for e in ledger.show(sqlite_node) if e.recipient == bsi.party.id}
    assert released["id"] in to_bsi


def test_a_party_may_consent_only_to_objects_it_originated(
    sqlite_node: Node, member: Callable[..., Member]
) -> None:
    from kizuna.core.consents import consent_object, sign_consent
    from kizuna.core.signing import public_key_of
    from kizuna.core.stix.timestamps import format_timestamp
    from kizuna.services import parties
    from kizuna.services.node import new_private_key

    bsi = member("BSI")
    key = new_private_key()
    parties.update_party(sqlite_node, "BSI", add_keys=(public_key_of(key),))
    others = indicator(12, AMBER)  # the home party's object
    ingest.ingest(sqlite_node, [others], submitter=sqlite_node.home_party, path="import")
    now = sqlite_node.now()
    body = consent_object(
        "x-kizuna-consent--0c0c0c0c-0000-4000-8000-0000000000c2",
        bsi.party.id,
        format_timestamp(now),
        format_timestamp(now + 10**10),
        objects=[others["id"], "indicator--0c0c0c0c-0000-4000-8000-0000000000ff"],
        parties=[bsi.party.id],
    )
    posted = bsi.client.post("/api/consents", json=sign_consent(body, key))
    assert posted.status_code == 403, posted.text
    problem = posted.json()
    assert "consent-not-by-originator" in posted.text
    # The same words for an object held under another originator and one not held at all.
    assert "indicator--0c0c0c0c-0000-4000-8000-0000000000ff" in str(problem)
    assert bsi.client.get("/api/consents").json() == []
