"""The CVD JSON API: a non-participant never learns that a case exists (no id, count or title),
over HTTP, for reads and acts alike, while participants work the case."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cvd_world import World, build, open_case
from fastapi.testclient import TestClient

from kizuna.core.taxii import RELEASED
from kizuna.http.app import create_app
from kizuna.services import cvd, tokens
from kizuna.services.node import Node

TITLE = "NP-7 PLC remote code execution"
UNKNOWN = "grouping--00000000-0000-4000-8000-000000000000"


@pytest.fixture
def w(make_node: Callable[..., Node]) -> World:
    return build(make_node("BSI", jurisdiction="DE", kind="government", scheme="DE"))


def client(w: World, name: str | None) -> TestClient:
    party = w.node.home_party if name is None else w.party[name]
    token = tokens.create(w.node, party.id).value
    return TestClient(create_app(w.node), headers={"Authorization": f"Bearer {token}"})


def leaks(body: bytes, cid: str) -> bool:
    text = body.decode()
    return cid in text or TITLE in text or cid.split("--")[1] in text


def test_a_non_participant_learns_nothing_over_http(w: World) -> None:
    cid = open_case(w)
    cvd.embargo_propose(w.node, cid, days=30)
    cvd.embargo_accept(w.node, cid)
    mallory, nisc = client(w, "Mallory"), client(w, "NISC")
    assert mallory.get("/api/cvd/cases").json() == []
    hidden, absent = mallory.get(f"/api/cvd/cases/{cid}"), mallory.get(f"/api/cvd/cases/{UNKNOWN}")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["error"]["code"] == absent.json()["error"]["code"] == "no-such-case"
    assert hidden.text.replace(cid, "X") == absent.text.replace(UNKNOWN, "X")
    for path, body in (("accept", {}), ("status", {"state": "valid", "why": "x"}),
                       ("embargo/exit", {"why": "x"}), ("invite", {"party": "Mallory"}),
                       ("vex", {"vendor": "Nippon PLC", "vulnerability": "CVE-2026-40001",
                                "status": "fixed"})):  # fmt: skip
        r, r0 = (mallory.post(f"/api/cvd/cases/{c}/{path}", json=body) for c in (cid, UNKNOWN))
        assert r.status_code == r0.status_code == 404, (path, r.text)
        assert r.text.replace(cid, "X") == r0.text.replace(UNKNOWN, "X")
    taxii = mallory.get(f"/taxii2/root/collections/{RELEASED}/objects/")
    assert taxii.status_code == 200 and not leaks(taxii.content, cid)
    manifest = mallory.get(f"/taxii2/root/collections/{RELEASED}/manifest/")
    assert not leaks(manifest.content, cid)
    # a co-coordinator sees it all
    seen = nisc.get(f"/api/cvd/cases/{cid}")
    assert seen.status_code == 200 and seen.json()["title"] == TITLE
    assert [c["id"] for c in nisc.get("/api/cvd/cases").json()] == [cid]
    # after the embargo ends early, still nothing for a non-member
    home = client(w, None)
    ended = home.post(f"/api/cvd/cases/{cid}/embargo/exit",
                      json={"reason": "attacks-observed", "why": "seen at a utility"})  # fmt: skip
    assert ended.status_code == 200 and "NISC" in ended.json()["told"]
    assert mallory.get("/api/cvd/cases").json() == []
    assert not leaks(mallory.get(f"/taxii2/root/collections/{RELEASED}/objects/").content, cid)


def test_an_invited_vendor_accepts_and_answers_for_itself(w: World) -> None:
    cid = open_case(w)
    home, psirt, mallory = client(w, None), client(w, "Nippon PLC PSIRT"), client(w, "Mallory")
    assert (
        home.post(f"/api/cvd/cases/{cid}/invite", json={"party": "Nippon PLC PSIRT"}).status_code
        == 201
    )
    assert psirt.get(f"/api/cvd/cases/{cid}").status_code == 404
    assert (
        psirt.post(f"/api/cvd/cases/{cid}/accept", json={"why": "we will fix"}).status_code == 200
    )
    assert psirt.get(f"/api/cvd/cases/{cid}").json()["title"] == TITLE
    answer = {"vendor": "Nippon PLC", "vulnerability": "CVE-2026-40001", "status": "fixed",
              "why": "firmware 4.2"}  # fmt: skip
    assert psirt.post(f"/api/cvd/cases/{cid}/vex", json=answer).status_code == 201
    other = dict(answer, vendor="Other PLC Co")
    assert psirt.post(f"/api/cvd/cases/{cid}/vex", json=other).status_code == 403
    assert (
        psirt.post(f"/api/cvd/cases/{cid}/status", json={"state": "valid", "why": "x"}).status_code
        == 403
    )
    [status] = home.get(f"/api/cvd/cases/{cid}").json()["statuses"]
    assert status["status"] == "fixed"
    assert mallory.post(f"/api/cvd/cases/{cid}/accept", json={}).status_code == 404


def test_bad_input_is_a_clear_400_and_the_api_is_documented(w: World) -> None:
    home = client(w, None)
    r = home.post("/api/cvd/cases", json={"title": "x", "reporter": "BSI"})
    assert r.status_code == 400 and "vulnerabilities" in r.text
    bad = {"title": "x", "reporter": "BSI", "vulnerabilities": [{"title": "v", "cve": "CVE-1"}]}
    r = home.post("/api/cvd/cases", json=bad)
    assert r.status_code == 400 and "is not a CVE id" in r.text
    cid = open_case(w)
    r = home.post(f"/api/cvd/cases/{cid}/status", json={"state": "accepted", "why": "x"})
    assert r.status_code == 400 and "received cannot become accepted" in r.text
    r = home.post(f"/api/cvd/cases/{cid}/advisory", content=b"{not json")
    assert r.status_code == 400
    paths = home.get("/api/openapi.json").json()["paths"]
    assert {"/api/cvd/cases", "/api/cvd/cases/{case_id}/embargo/exit",
            "/api/cvd/cases/{case_id}/advisory"} <= set(paths)  # fmt: skip
    assert "requestBody" in paths["/api/cvd/cases"]["post"]
