"""Joint attribution across three nodes over real TAXII (in-process HTTP): CERT-EU opens a case
with BSI, both analyse on their own nodes, BSI signs the statement on its node; NISC, a partner
of both under the same agreement but no participant, holds nothing of the case, and receives
the published attribution only once the joint release time has passed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from federation_kit import Federation

from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import Filters
from kizuna.services import attribution, ingest
from kizuna.services.node import Node
from kizuna.storage import objects as store
from support import FakeClock

STAMP = "2026-05-01T00:00:00.000Z"
CAMPAIGN = "campaign--fed00000-0000-4000-8000-000000000001"
APT = "intrusion-set--fed00000-0000-4000-8000-000000000002"


def held(node: Node) -> dict[str, dict[str, Any]]:
    with node.db.read() as conn:
        rows = store.scan(conn, Filters(), None, 100_000)
    return {r.id: orjson.loads(r.content) for r in rows}


def test_a_joint_attribution_over_three_nodes(
    federation: Callable[[list[str]], Federation], clock: FakeClock
) -> None:
    fed = federation(["CERT-EU", "BSI", "NISC"])
    cert, bsi, nisc = (fed.nodes[n] for n in ("CERT-EU", "BSI", "NISC"))
    fed.agree({"title": "EU-DE-JP", "parties": ["CERT-EU", "BSI", "NISC"],
               "valid_from": "2026-01-01T00:00:00Z"})  # fmt: skip
    clear = [TLP_MARKING_ID["clear"]]
    subjects = [
        {"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN, "created": STAMP,
         "modified": STAMP, "name": "Paper Lantern", "object_marking_refs": clear},
        {"type": "intrusion-set", "spec_version": "2.1", "id": APT, "created": STAMP,
         "modified": STAMP, "name": "APT-X", "object_marking_refs": clear},
    ]  # fmt: skip
    ingest.ingest(cert, subjects, submitter=cert.home_party, path="import")
    case = attribution.open_case(cert, "Lantern inquiry", [CAMPAIGN], ["BSI"])
    h1 = attribution.add_hypothesis(cert, case, APT, name="APT-X")
    h2 = attribution.add_hypothesis(cert, case, None)
    e1 = attribution.add_evidence(cert, case, "B2", "infrastructure", [CAMPAIGN], "C2 reuse")
    attribution.rate(cert, case, e1, {h1: "C", h2: "I"})
    attribution.assess(cert, case, h1, "icd-203", "likely", "moderate", "C2 reuse")
    fed.sync_all()

    # BSI analyses on its own node: its own evidence, ratings and a dissenting assessment.
    assert case in held(bsi)
    e2 = attribution.add_evidence(bsi, case, "C3", "linguistic", summary="mixed-language lures")
    attribution.rate(bsi, case, e1, {h1: "I", h2: "C"}, "high")
    attribution.rate(bsi, case, e2, {h1: "N", h2: "C"})
    attribution.assess(bsi, case, h1, "phia", "unlikely", "low", "the C2 is rented infrastructure")
    fed.sync_all()

    for node in (cert, bsi):  # the same joint picture on both nodes, dissent kept
        v = attribution.view(node, case, node.home_party)
        [p1] = [h for h in v.joint.hypotheses if h.hypothesis.id == h1]
        assert p1.agreement == "diverge"
        assert p1.sides == {"against": (bsi.home_party.id,), "for": (cert.home_party.id,)}
        assert [d.evidence for d in p1.divergences] == [e1]
        assert set(v.content.evidence) == {e1, e2}

    # NISC, under the same agreement but no participant, holds nothing of the case.
    case_ids = {case, h1, h2, e1, e2}
    assert not case_ids & held(nisc).keys()
    assert not any(case in orjson.dumps(o).decode() for o in held(nisc).values())

    # The statement: CERT-EU drafts, signs; BSI signs a variant on its node; CERT-EU releases.
    release_at = format_timestamp(clock.us + 3600 * 1_000_000)
    sid = attribution.draft_statement(cert, case, "APT-X conducted Paper Lantern.", APT,
                                      CAMPAIGN, "icd-203", "likely", "moderate", ["BSI"],
                                      release_at)  # fmt: skip
    attribution.sign(cert, sid, "sign")
    fed.sync_all()
    attribution.sign(bsi, sid, "variant", "Germany attributes Paper Lantern to APT-X.")
    fed.sync_all()
    out = attribution.release(cert, sid)
    assert out.signatories == tuple(sorted([cert.home_party.id, bsi.home_party.id]))
    fed.sync_all()
    published = set(out.ids)
    assert published <= held(bsi).keys()  # the signatories hold it ahead of the joint time
    assert not (published | {sid}) & held(nisc).keys()

    clock.advance(2 * 3600)  # past the release time: the embargo ends on every node
    fed.sync_all()
    at_nisc = held(nisc)
    assert published <= at_nisc.keys()
    opinions = [o for o in at_nisc.values() if o["type"] == "opinion"]
    assert {o["created_by_ref"] for o in opinions} == {cert.home_party.id, bsi.home_party.id}
    assert sid not in at_nisc and not case_ids & at_nisc.keys()  # the draft and case never
