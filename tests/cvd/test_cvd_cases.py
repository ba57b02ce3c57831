"""CVD cases through the gate: states with who/when/why, embargo, statements, non-participants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from cvd_world import VECTOR, World, build, open_case

from kizuna.core.cvd.case import CVD_EXTENSION
from kizuna.errors import InvalidInput, NotFound
from kizuna.services import cvd, gate
from kizuna.services.node import Node
from kizuna.storage import objects as store
from kizuna.storage.objects import StoredVersion


@pytest.fixture
def w(make_node: Callable[..., Node]) -> World:
    return build(make_node("BSI", jurisdiction="DE", kind="government", scheme="DE"))


def case_versions(node: Node, case_id: str) -> list[StoredVersion]:
    with node.db.read() as conn:
        return [store.latest(conn, [case_id])[case_id], *store.referencing(conn, case_id)]


def test_a_case_records_everything_and_folds_the_same_for_a_coordinator(w: World) -> None:
    cid = open_case(w)
    cvd.report(w.node, cid, "valid", "reproduced on a test bench")
    cvd.report(w.node, cid, "accepted", "in scope")
    cvd.case_status(w.node, cid, "vendor-aware", "PSIRT acknowledged")
    cvd.vendor_status(
        w.node, cid, "Nippon PLC", "CVE-2026-40001", "known_affected", why="confirmed"
    )
    score = cvd.cvss(w.node, cid, "CVE-2026-40001", VECTOR)
    assert score == {"version": "3.1", "vector": VECTOR, "base_score": 9.8, "severity": "Critical"}
    st = cvd.show(w.node, cid)
    assert st.report == "accepted" and st.flags == {"vendor-aware"}
    assert [(t.machine, t.why) for t in st.timeline][:3] == [
        ("report", "BSI found it while testing a water utility's PLCs"),
        ("report", "reproduced on a test bench"),
        ("report", "in scope"),
    ]
    assert all(t.actor and t.at for t in st.timeline)
    d = st.to_dict()
    assert d["case_state"] == "Vfdpxa"
    assert d["vendors"][1]["pgp_fingerprint"] == "0123456789ABCDEF0123456789ABCDEF01234567"
    assert d["vulnerabilities"][0]["ids"] == {"cve": "CVE-2026-40001", "jvn": "JVNVU#90000001",
                                              "cwe": "CWE-787"}  # fmt: skip
    seen = cvd.show(w.node, cid, w.party["NISC"])  # a co-coordinator, through the gate
    assert seen.to_dict() == d


@pytest.mark.parametrize(
    ("act", "words"),
    [
        (lambda n, c: cvd.report(n, c, "accepted", "x"), "received cannot become accepted"),
        (lambda n, c: cvd.case_status(n, c, "fix-deployed", "x"), "needs fix-ready"),
        (lambda n, c: cvd.embargo_accept(n, c), "state none cannot accept"),
        (lambda n, c: cvd.vendor_status(n, c, "Nippon PLC", "CVE-2026-40001",
                                        "known_not_affected"), "needs a VEX justification"),
        (lambda n, c: cvd.vendor_status(n, c, "Acme", "CVE-2026-40001", "fixed"),
         "no vendor of this case"),
        (lambda n, c: cvd.cvss(n, c, "CVE-2026-40001", "CVSS:3.1/AV:X"), "CVSS vector"),
        (lambda n, c: cvd.embargo_propose(n, c, days=200), "at most 90 days"),
    ],
)  # fmt: skip
def test_a_wrong_transition_is_refused_and_stores_nothing(
    w: World, act: Callable[..., Any], words: str
) -> None:
    cid = open_case(w)
    before = [(v.id, v.modified) for v in case_versions(w.node, cid)]
    with pytest.raises(InvalidInput, match=words):
        act(w.node, cid)
    assert [(v.id, v.modified) for v in case_versions(w.node, cid)] == before


def test_a_closed_report_stays_closed(w: World) -> None:
    cid = open_case(w)
    cvd.report(w.node, cid, "closed", "duplicate of JVNVU#1")
    with pytest.raises(InvalidInput, match="closed cannot become valid; it can become nothing"):
        cvd.report(w.node, cid, "valid", "x")


def test_the_embargo_follows_vultron_and_the_gate_enforces_it(w: World) -> None:
    cid = open_case(w)
    mallory, psirt, cert_eu = w.party["Mallory"], w.party["Nippon PLC PSIRT"], w.party["CERT-EU"]
    cvd.embargo_propose(w.node, cid, why="policy default")  # 45 days from the agreement
    st = cvd.show(w.node, cid)
    assert st.embargo == "proposed" and st.proposed_until
    cvd.embargo_accept(w.node, cid, why="NISC agreed")
    st = cvd.show(w.node, cid)
    assert st.embargo == "active" and st.embargo_until
    # every home object of the case carries the embargo, and Mallory is refused by rule 2
    for v in case_versions(w.node, cid):
        h = cvd.handling_of(w.node, v.id)
        assert h.embargo is not None and mallory.id not in h.embargo.participants
    for _, d in gate.judge(w.node, mallory, case_versions(w.node, cid)):
        assert not d.released
        assert any(r.rule == 2 and not r.passed for r in d.verdicts), d
    # an invited vendor sees only its invitation until it accepts
    note = cvd.invite(w.node, cid, "Nippon PLC PSIRT", "please confirm")
    with pytest.raises(NotFound):
        cvd.show(w.node, cid, psirt)
    with w.node.db.read() as conn:
        inv = store.latest(conn, [note])[note]
    [(_, d)] = gate.judge(w.node, psirt, [inv])
    assert d.released
    [(_, d)] = gate.judge(w.node, mallory, [inv])
    assert not d.released
    cvd.respond(w.node, cid, psirt, accept=True, why="we reproduce it")
    assert cvd.show(w.node, cid, psirt).participants[psirt.id] == "signatory"
    # a party never invited cannot accept: the same answer as for no case at all
    with pytest.raises(NotFound, match="no CVD case"):
        cvd.respond(w.node, cid, mallory, accept=True)
    with pytest.raises(NotFound, match="no CVD case"):
        cvd.show(w.node, cid, cert_eu)
    assert cvd.list_cases(w.node, mallory) == []
    # early exit: exploit public ends the embargo at once and tells every participant
    told = cvd.case_status(w.node, cid, "exploit-public", "PoC on a public repository")
    assert {"BSI", "NISC", "Nippon PLC PSIRT"} <= set(told) and "Mallory" not in told
    st = cvd.show(w.node, cid)
    assert st.embargo == "exited" and "exploit-public" in st.flags
    assert st.timeline[-1].detail["reason"] == "exploit-public"
    for v in case_versions(w.node, cid):
        if v.source == w.node.home_party.id:
            assert cvd.handling_of(w.node, v.id).embargo is None
    # still only for the case's members after the embargo
    assert all(not d.released for _, d in gate.judge(w.node, mallory, case_versions(w.node, cid)))


def test_statements_are_drafted_approved_then_shared(w: World) -> None:
    cid = open_case(w)
    nisc = w.party["NISC"]
    sid = cvd.statement(w.node, cid, "Nippon PLC", "Firmware 4.2 fixes it.", "CVE-2026-40001")
    assert all(s["id"] != sid for s in cvd.show(w.node, cid, nisc).statements)
    cvd.statement_move(w.node, cid, sid, "approved")
    assert all(s["id"] != sid for s in cvd.show(w.node, cid, nisc).statements)
    with pytest.raises(InvalidInput, match="approved cannot become approved"):
        cvd.statement_move(w.node, cid, sid, "approved")
    cvd.statement_move(w.node, cid, sid, "shared")
    [s] = cvd.show(w.node, cid, nisc).statements
    assert s["state"] == "shared" and s["text"] == "Firmware 4.2 fixes it."


def test_ssvc_decision_is_stored_with_inputs_and_table_version(w: World) -> None:
    cid = open_case(w)
    d = cvd.ssvc(w.node, cid, "cisa", {"exploitation": "active", "automatable": "yes",
                                       "technical-impact": "total",
                                       "mission-and-well-being-impact": "high"})  # fmt: skip
    assert d["outcome"] == "act" and d["table_version"] == "2.0.3"
    [stored] = cvd.show(w.node, cid).ssvc
    assert stored["inputs"]["exploitation"] == "active"
    assert stored["decision_points"]["exploitation"] == "Exploitation v1.1.0"
    with pytest.raises(InvalidInput, match="exploitation 'maybe' is not one of"):
        cvd.ssvc(w.node, cid, "cisa", {"exploitation": "maybe", "automatable": "yes",
                                       "technical-impact": "total",
                                       "mission-and-well-being-impact": "high"})  # fmt: skip


def test_case_objects_are_plain_stix_with_the_extension(w: World) -> None:
    cid = open_case(w)
    case, *rest = case_versions(w.node, cid)
    assert orjson.loads(case.content)["object_refs"] == [
        v.id for v in rest if v.type == "vulnerability"
    ]
    for v in rest:
        obj = orjson.loads(v.content)
        assert obj["spec_version"] == "2.1" and cid in v.refs.split(" ")
        assert CVD_EXTENSION in obj["extensions"]
