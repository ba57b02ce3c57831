"""Attribution cases through the gate: only participants, evidence withheld counted not shown,
and a non-participant never learns a case exists (service, property and HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from view_world import HOUR, World, build

from kizuna.core.attribution import case as wire
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.taxii import RELEASED
from kizuna.errors import InvalidInput, NotFound
from kizuna.http.app import create_app
from kizuna.services import attribution, gate, tokens
from kizuna.storage import objects as store

CAMPAIGN = "campaign--c0000000-0000-4000-8000-000000000001"
APT = "intrusion-set--c0000000-0000-4000-8000-000000000002"


@pytest.fixture
def world(tmp_path: Path, database_url: str | None) -> Iterator[World]:
    w = build(tmp_path / "node", database_url)
    w.clock.us += 3 * HOUR  # both agreements (CERT-EU-BSI, CERT-EU-NISC) in force
    stamp = w.stamp()
    w.store(
        [
            {"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN, "created": stamp,
             "modified": stamp, "name": "Operation Paper Lantern",
             "object_marking_refs": [TLP_MARKING_ID["green"]]},
            {"type": "intrusion-set", "spec_version": "2.1", "id": APT, "created": stamp,
             "modified": stamp, "name": "APT-X", "object_marking_refs": [TLP_MARKING_ID["green"]]},
        ]
    )  # fmt: skip
    yield w
    w.node.close()


def _case(w: World, participants: list[str]) -> dict[str, str]:
    node = w.node
    cid = attribution.open_case(node, "Lantern inquiry", [CAMPAIGN], participants)
    h1 = attribution.add_hypothesis(node, cid, APT, name="APT-X")
    h2 = attribution.add_hypothesis(node, cid, None)
    e1 = attribution.add_evidence(node, cid, "B2", "infrastructure", [CAMPAIGN], "C2 reuse")
    attribution.rate(node, cid, e1, {h1: "C", h2: "I"}, "high")
    attribution.assess(node, cid, h1, "icd-203", "likely", "moderate", "C2 reuse")
    return {"case": cid, "h1": h1, "h2": h2, "e1": e1}


def _case_versions(w: World, cid: str) -> list[Any]:
    with w.node.db.read() as conn:
        return [*store.latest(conn, [cid]).values(), *store.referencing(conn, cid)]


def test_the_home_party_sees_its_analysis(world: World) -> None:
    ids = _case(world, ["BSI"])
    v = attribution.view(world.node, ids["case"], world.node.home_party)
    h1 = next(h for h in v.joint.hypotheses if h.hypothesis.id == ids["h1"])
    assert h1.hypothesis.actor == APT and h1.agreement == "one view"
    home = next(p for p in h1.partners if p.partner == world.node.home_party.id)
    # B2 -> high credibility (sqrt2), relevance high (sqrt2): H2 rated I scores -2, H1 0
    assert home.score == 0 and home.rank == 1
    assert home.assessment is not None and home.assessment.term.words == "likely"


def test_a_participant_sees_the_case_a_non_participant_never(world: World) -> None:
    ids = _case(world, ["BSI"])
    versions = _case_versions(world, ids["case"])
    assert len(versions) == 6  # case, 2 hypotheses, evidence, ratings, assessment
    assert all(d.released for _, d in gate.judge(world.node, world.bsi, versions))
    assert not any(d.released for _, d in gate.judge(world.node, world.nisc, versions))
    assert attribution.view(world.node, ids["case"], world.bsi).joint.hypotheses
    with pytest.raises(NotFound) as seen:
        attribution.view(world.node, ids["case"], world.nisc)
    with pytest.raises(NotFound) as unknown:
        attribution.view(world.node, "grouping--00000000-0000-4000-8000-000000000000", world.nisc)
    assert seen.value.code == unknown.value.code == "no-such-case"
    assert attribution.cases(world.node, world.nisc) == []
    assert [c["id"] for c in attribution.cases(world.node, world.bsi)] == [ids["case"]]


def test_evidence_a_participant_may_not_see_is_counted_never_shown(world: World) -> None:
    ids = _case(world, ["BSI", "NISC"])
    # BSI brings an item it shares with CERT-EU only (its own marking, its own ratings).
    stamp = world.stamp()
    only = handling_marking(
        "marking-definition--b5100000-0000-4000-8000-000000000001", stamp, world.bsi.id,
        recipients=[world.node.home_party.id, world.bsi.id],
    )  # fmt: skip
    secret = "note--b5100000-0000-4000-8000-000000000002"
    marks = [TLP_MARKING_ID["amber"], only["id"]]
    ev = {"type": "note", "spec_version": "2.1", "id": secret, "created": stamp, "modified": stamp,
          "created_by_ref": world.bsi.id, "abstract": "evidence", "content": "a BSI source",
          "object_refs": [ids["case"]], "object_marking_refs": marks,
          "extensions": {wire.ATTRIBUTION_EXTENSION: {
              "extension_type": "property-extension", "role": "evidence",
              "kind": "human-source-exists", "reliability": "B", "credibility": 2}}}  # fmt: skip
    row = wire.ratings(ids["case"], world.bsi.id, secret, {ids["h1"]: "CC",
                                   ids["h2"]: "II"}, "high", stamp, stamp, marks)  # fmt: skip
    world.store([only, ev, row], submitter=world.bsi)
    home = attribution.view(world.node, ids["case"], world.node.home_party)
    assert secret in home.content.evidence and home.joint.withheld_held_by == 0
    nisc = attribution.view(world.node, ids["case"], world.nisc)
    assert nisc.joint.withheld_held_by == 1  # "held by 1 partner"
    assert secret not in repr(nisc) and "a BSI source" not in repr(nisc)
    # BSI's only contribution is what NISC may not see: it has no column in NISC's picture
    assert all(p.partner != world.bsi.id for p in nisc.joint.hypotheses[0].partners)


def test_bad_input_is_named_and_nothing_is_stored(world: World) -> None:
    ids = _case(world, ["BSI"])
    before = len(_case_versions(world, ids["case"]))
    with pytest.raises(InvalidInput, match="Admiralty"):
        attribution.add_evidence(world.node, ids["case"], "Z9", "technical")
    with pytest.raises(InvalidInput, match="no hypothesis of this case"):
        attribution.rate(world.node, ids["case"], ids["e1"], {ids["e1"]: "C"})
    with pytest.raises(InvalidInput, match="not a phia likelihood term"):
        attribution.assess(world.node, ids["case"], ids["h1"], "phia", "very likely", "low", "r")
    with pytest.raises(InvalidInput, match="a case is about"):
        attribution.open_case(world.node, "x", [APT.replace("intrusion-set", "malware")], [])
    assert len(_case_versions(world, ids["case"])) == before


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    participants=st.sets(st.sampled_from(["BSI", "NISC"])),
    tlp=st.sampled_from(["green", "amber", "amber+strict", "red"]),
)
def test_no_case_object_reaches_a_non_participant(
    world: World, participants: set[str], tlp: str
) -> None:
    node = world.node
    cid = attribution.open_case(node, "p", [CAMPAIGN], sorted(participants), tlp)
    h = attribution.add_hypothesis(node, cid, APT, false_flag=True, name="APT-X")
    e = attribution.add_evidence(node, cid, "C3", "linguistic")
    attribution.rate(node, cid, e, {h: "N"})
    attribution.assess(node, cid, h, "phia", "realistic possibility", "low", "thin")
    versions = _case_versions(world, cid)
    for party in (world.bsi, world.nisc):
        released = gate.release(node, party, versions).released
        if party.name not in participants:
            assert released == []
            with pytest.raises(NotFound):
                attribution.view(node, cid, party)
        else:
            assert len(released) == len(versions)


def test_over_http_a_non_participant_cannot_tell_a_case_exists(world: World) -> None:
    ids = _case(world, ["BSI"])
    app = create_app(world.node)

    def client(name: str) -> TestClient:
        token = tokens.create(world.node, name).value
        return TestClient(app, headers={"Authorization": f"Bearer {token}"})

    bsi, nisc = client("BSI"), client("NISC")
    ok = bsi.get(f"/api/attribution/cases/{ids['case']}")
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["case"]["id"] == ids["case"]
    assert [h["hypothesis"]["id"] for h in body["hypotheses"]] == sorted([ids["h1"], ids["h2"]])
    held = nisc.get(f"/api/attribution/cases/{ids['case']}")
    absent = nisc.get("/api/attribution/cases/grouping--00000000-0000-4000-8000-000000000000")
    assert held.status_code == absent.status_code == 404
    h, a = held.json()["error"], absent.json()["error"]
    assert h["code"] == a["code"] == "no-such-case"
    assert h["message"].replace(ids["case"], "X") == a["message"].replace(
        "grouping--00000000-0000-4000-8000-000000000000", "X"
    )
    assert nisc.get("/api/attribution/cases").json() == []
    # Nor through TAXII: nothing of the case in what NISC reads.
    taxii = nisc.get(
        f"/taxii2/root/collections/{RELEASED}/objects/",
        headers={"Accept": "application/taxii+json;version=2.1"},
    )
    assert taxii.status_code == 200
    assert ids["case"] not in taxii.text and ids["e1"] not in taxii.text
    # the participants' marking goes to every party (handling vocabulary) but names no case
    # (kizuna's attribution extension-definition is vocabulary every node holds from its start)
    objects = [o for o in taxii.json()["objects"] if o["type"] != "extension-definition"]
    low = orjson.dumps(objects).decode().lower()
    assert "attribution" not in low and "lantern inquiry" not in low
    assert orjson.loads(bsi.get("/api/attribution/cases").content)[0]["id"] == ids["case"]


def test_the_home_party_builds_a_case_over_http_and_bad_input_is_named(world: World) -> None:
    app = create_app(world.node)
    token = tokens.create(world.node, world.node.home_party.id).value
    home = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    r = home.post(
        "/api/attribution/cases",
        json={"name": "Lantern", "about": [CAMPAIGN], "participants": ["BSI"]},
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    base = f"/api/attribution/cases/{cid}"
    h = home.post(f"{base}/hypotheses", json={"actor": APT, "name": "APT-X"}).json()["id"]
    flag = home.post(f"{base}/hypotheses", json={"actor": APT, "false_flag": True}).json()["id"]
    e = home.post(f"{base}/evidence", json={"grade": "A1", "kind": "technical"}).json()["id"]
    r = home.post(f"{base}/ratings", json={"evidence": e, "ratings": {h: "C", flag: "II"}})
    assert r.status_code == 201, r.text
    r = home.post(
        f"{base}/assessments",
        json={"hypothesis": h, "scale": "phia", "likelihood": "highly likely",
              "confidence": "high", "rationale": "same toolchain"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    bad = home.post(f"{base}/evidence", json={"grade": "Q9", "kind": "technical"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid-grade"
    bad = home.post(f"{base}/ratings", json={"evidence": e, "ratings": {h: "maybe"}})
    assert bad.status_code == 400 and "CC, C, N, I, II, NA" in bad.json()["error"]["message"]
    bad = home.post(f"{base}/assessments", json={"hypothesis": h})
    assert bad.status_code == 400 and "scale" in bad.json()["error"]["message"]
    got = home.get(base).json()
    [h1] = [x for x in got["hypotheses"] if x["hypothesis"]["id"] == h]
    [mine] = h1["partners"]
    assert mine["assessment"]["range"] == [80, 90] and mine["ach"]["rank"] == 1
    # The false flag: II on an A1 item, weight sqrt2 (high credibility, medium relevance)
    [ff] = [x for x in got["hypotheses"] if x["hypothesis"]["id"] == flag]
    assert ff["partners"][0]["ach"]["weighted"] == pytest.approx(-2 * 2**0.5)
    assert ff["hypothesis"]["label"] == "false flag posing as " + APT
    spec = home.get("/api/openapi.json").json()
    assert "requestBody" in spec["paths"]["/api/attribution/cases/{case_id}/ratings"]["post"]
