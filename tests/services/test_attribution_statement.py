"""The coordinated statement: drafts for the invited, signed decisions, and a release that the
gate keeps from everyone else until the joint release time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from view_world import HOUR, World, build

from kizuna.core.attribution import case as wire
from kizuna.core.attribution import statement as stmt
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import InvalidInput
from kizuna.services import attribution, gate, parties
from kizuna.storage import objects as store

CAMPAIGN = "campaign--c0000000-0000-4000-8000-000000000011"
APT = "intrusion-set--c0000000-0000-4000-8000-000000000012"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[World, Party]]:
    w = build(tmp_path / "node", None)
    w.clock.us += 3 * HOUR
    stamp = w.stamp()
    clear = [TLP_MARKING_ID["clear"]]
    w.store(
        [
            {"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN, "created": stamp,
             "modified": stamp, "name": "Operation Paper Lantern", "object_marking_refs": clear},
            {"type": "intrusion-set", "spec_version": "2.1", "id": APT, "created": stamp,
             "modified": stamp, "name": "APT-X", "object_marking_refs": clear},
        ]
    )  # fmt: skip
    isac = parties.add_party(w.node, "Maritime ISAC", jurisdiction="DE", kind="private")
    yield w, isac
    w.node.close()


def _partner_decides(w: World, party: Party, sid: str, decision: str, variant: str = "") -> None:
    """What BSI's or NISC's node would send: its decision (signed with its own key) under its
    own marking, and its public opinion under its own embargo."""
    obj = next(o for o in _held(w, [sid]))
    d = stmt.Draft.from_stix(obj)
    x = stmt.decide(d, party.id, decision, w.keys[party.name], variant)
    stamp = w.stamp()
    key = sid[6:14]  # a marking of this partner for this statement
    only = handling_marking(
        f"marking-definition--{party.id[10:18]}-0000-4000-8000-{key}00a1", stamp, party.id,
        recipients=list(d.invited),
    )  # fmt: skip
    embargo = handling_marking(
        f"marking-definition--{party.id[10:18]}-0000-4000-8000-{key}00a2", stamp, party.id,
        embargo_until=d.release_at, embargo_participants=list(d.invited),
    )  # fmt: skip
    out = [only, embargo, stmt.decision_stix(d, x, stamp, stamp, [TLP_MARKING_ID["amber"],
                                                                  only["id"]])]  # fmt: skip
    if x.signs:
        out.append(stmt.published_opinion(d, x, stamp, [TLP_MARKING_ID["clear"], embargo["id"]]))
    w.store(out, submitter=party)


def _held(w: World, ids: list[str]) -> list[dict[str, Any]]:
    with w.node.db.read() as conn:
        return [orjson.loads(v.content) for v in store.latest(conn, ids).values()]


def _statement(w: World, release_in: int = HOUR) -> tuple[str, str]:
    cid = attribution.open_case(w.node, "Lantern", [CAMPAIGN], ["BSI", "NISC"])
    sid = attribution.draft_statement(
        w.node, cid, "APT-X conducted Operation Paper Lantern.", APT, CAMPAIGN, "phia",
        "highly likely", "high", ["BSI", "NISC"], format_timestamp(w.clock.us + release_in),
    )  # fmt: skip
    return cid, sid


def _published(w: World, sid: str) -> list[Any]:
    with w.node.db.read() as conn:
        rel = stmt.Draft.from_stix(_held(w, [sid])[0]).relationship_id()
        return [*store.latest(conn, [rel]).values(), *store.referencing(conn, rel)]


def test_two_sign_one_abstains_and_the_release_carries_each_signature(
    world: tuple[World, Party],
) -> None:
    w, _ = world
    _, sid = _statement(w)
    attribution.sign(w.node, sid, "sign")
    _partner_decides(w, w.bsi, sid, "variant", "Germany attributes Paper Lantern to APT-X.")
    _partner_decides(w, w.nisc, sid, "abstain")
    out = attribution.release(w.node, sid)
    assert out.signatories == tuple(sorted([w.node.home_party.id, w.bsi.id]))
    assert out.abstained == (w.nisc.id,) and out.undecided == ()
    rel, note = sorted(_held(w, list(out.ids)), key=lambda o: o["type"] != "relationship")
    assert (rel["relationship_type"], rel["source_ref"], rel["target_ref"]) == (
        "attributed-to",
        CAMPAIGN,
        APT,
    )
    assert rel["confidence"] == 85  # high confidence: STIX None/Low/Med/High 85
    sigs = note["extensions"][wire.ATTRIBUTION_EXTENSION]["signatures"]
    assert {s["party"]: s["decision"] for s in sigs} == {
        w.node.home_party.id: "sign",
        w.bsi.id: "variant",
    }
    d = stmt.Draft.from_stix(_held(w, [sid])[0])
    for s in sigs:
        key = w.node.public_key if s["party"] == w.node.home_party.id else w.bsi.public_keys[0]
        x = stmt.Decision(s["party"], s["decision"], s["text"] if s["decision"] == "variant"
                          else "", s["signature"])  # fmt: skip
        assert stmt.verified(d, x, [key])
    # each signatory's own opinion on the relationship is among the published objects
    opinions = [v for v in _published(w, sid) if v.type == "opinion"]
    assert {v.source for v in opinions} == {w.node.home_party.id, w.bsi.id}


def test_the_draft_goes_to_the_invited_only_and_a_forged_signature_is_refused(
    world: tuple[World, Party],
) -> None:
    w, isac = world
    cid = attribution.open_case(w.node, "Lantern", [CAMPAIGN], ["BSI", "NISC"])
    later = format_timestamp(w.clock.us + HOUR)
    sid = attribution.draft_statement(
        w.node, cid, "text", APT, CAMPAIGN, "icd-203", "likely", "moderate", ["BSI"], later
    )
    with w.node.db.read() as conn:
        [v] = store.latest(conn, [sid]).values()
    decided = {p.name: d.released for p in (w.bsi, w.nisc, isac)
               for _, d in gate.judge(w.node, p, [v])}  # fmt: skip
    assert decided == {"BSI": True, "NISC": False, "Maritime ISAC": False}
    with pytest.raises(InvalidInput, match="only participants of the case"):
        attribution.draft_statement(w.node, cid, "t", APT, CAMPAIGN, "phia", "likely", "low",
                                    ["Maritime ISAC"], "2027-01-01T00:00:00Z")  # fmt: skip
    with pytest.raises(InvalidInput, match="expected sign, variant or abstain"):
        attribution.sign(w.node, sid, "maybe")
    # BSI's decision signed with a key that is not BSI's
    d = stmt.Draft.from_stix(_held(w, [sid])[0])
    forged = stmt.decide(d, w.bsi.id, "sign", w.keys["NISC"])
    stamp = w.stamp()
    only = handling_marking("marking-definition--f0000000-0000-4000-8000-0000000000f1", stamp,
                            w.bsi.id, recipients=list(d.invited))  # fmt: skip
    w.store([only, stmt.decision_stix(d, forged, stamp, stamp, [only["id"]])], submitter=w.bsi)
    with pytest.raises(InvalidInput, match="does not verify"):
        attribution.release(w.node, sid)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(release_in=st.integers(1, 48), at=st.lists(st.integers(-2, 50), min_size=1, max_size=4))
def test_nothing_of_the_statement_leaves_before_the_release_time(
    world: tuple[World, Party], release_in: int, at: list[int]
) -> None:
    w, isac = world
    _, sid = _statement(w, release_in * HOUR)
    attribution.sign(w.node, sid, "sign")
    _partner_decides(w, w.bsi, sid, "sign")
    released = attribution.release(w.node, sid)
    products = _published(w, sid)
    assert len(products) == 4  # relationship, note, two signatories' opinions
    start = w.clock.us
    release_us = start + release_in * HOUR
    for hours in at:
        now = start + hours * HOUR
        ctx = gate.context(w.node, now_us=now)
        for party in (isac, w.nisc, w.bsi):
            got = [d.released for _, d in gate.judge(w.node, party, products, ctx)]
            if party.id in released.signatories or party.id == w.nisc.id:
                # invited: embargo participants, who hold it in advance for the joint release
                assert all(got), (party.name, hours)
                continue
            assert any(got) == (now >= release_us), (party.name, hours, release_in)
            assert all(got) == (now >= release_us)
    # the draft and the decisions never reach the public, before or after
    with w.node.db.read() as conn:
        private = [*store.latest(conn, [sid]).values(), *store.referencing(conn, sid)]
    late = gate.context(w.node, now_us=release_us + HOUR)
    assert not any(
        d.released
        for _, d in gate.judge(w.node, isac, [v for v in private if v.type != "relationship"], late)
    )


def test_the_statement_over_http(world: tuple[World, Party]) -> None:
    from fastapi.testclient import TestClient

    from kizuna.http.app import create_app
    from kizuna.services import tokens

    w, _ = world
    app = create_app(w.node)
    token = tokens.create(w.node, w.node.home_party.id).value
    home = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    bsi = TestClient(app, headers={"Authorization": f"Bearer {tokens.create(w.node, 'BSI').value}"})
    cid = attribution.open_case(w.node, "Lantern", [CAMPAIGN], ["BSI"])
    body = {"text": "APT-X did it.", "actor": APT, "subject": CAMPAIGN, "scale": "icd-203",
            "likelihood": "likely", "confidence": "moderate", "invited": ["BSI"],
            "release_at": format_timestamp(w.clock.us + HOUR)}  # fmt: skip
    r = home.post(f"/api/attribution/cases/{cid}/statements", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert bsi.post(f"/api/attribution/statements/{sid}/release").status_code == 403
    bad = home.post(f"/api/attribution/statements/{sid}/decision", json={"decision": "variant"})
    assert bad.status_code == 400 and "variant needs its text" in bad.text
    r = home.post(f"/api/attribution/statements/{sid}/decision", json={"decision": "sign"})
    assert r.status_code == 201, r.text
    r = home.post(f"/api/attribution/statements/{sid}/release")
    assert r.status_code == 200 and r.json()["signatories"] == [w.node.home_party.id]
    assert r.json()["undecided"] == [w.bsi.id]
    late = {**body, "release_at": "tomorrow"}
    bad = home.post(f"/api/attribution/cases/{cid}/statements", json=late)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid-time"
