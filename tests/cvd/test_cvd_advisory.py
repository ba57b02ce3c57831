"""A case becomes a CSAF 2.0 advisory and a VEX document that pass the validator (schema and
every mandatory test), through csaf's writer; never while the embargo is active."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cvd_world import VECTOR, World, build, open_case

from csaf_check import assert_valid
from kizuna.errors import InvalidInput
from kizuna.services import cvd
from kizuna.services.node import Node


@pytest.fixture
def w(make_node: Callable[..., Node]) -> World:
    return build(make_node("BSI", jurisdiction="DE", kind="government", scheme="DE"))


def ready_case(w: World) -> str:
    cid = open_case(w)
    cvd.report(w.node, cid, "valid", "reproduced")
    cvd.case_status(w.node, cid, "vendor-aware", "PSIRT told")
    cvd.vendor_status(w.node, cid, "Nippon PLC", "CVE-2026-40001", "known_affected")
    cvd.vendor_status(w.node, cid, "Other PLC Co", "CVE-2026-40001", "known_not_affected",
                      justification="vulnerable_code_not_present")  # fmt: skip
    cvd.cvss(w.node, cid, "CVE-2026-40001", VECTOR)
    cvd.cvss(w.node, cid, "CVE-2026-40001",
             "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")  # fmt: skip
    sid = cvd.statement(w.node, cid, "Nippon PLC", "Update the NP-7 firmware to 4.2.")
    cvd.statement_move(w.node, cid, sid, "approved")
    cvd.statement_move(w.node, cid, sid, "shared")
    cvd.ssvc(w.node, cid, "coordinator-publication",
             {"supplier-involvement": "fix ready", "exploitation": "none",
              "public-value-added": "precedence"})  # fmt: skip
    return cid


def test_the_advisory_and_the_vex_pass_the_csaf_validator(w: World) -> None:
    cid = ready_case(w)
    doc = cvd.advisory(w.node, cid)
    assert_valid(doc)
    assert doc["document"]["category"] == "csaf_security_advisory"
    assert doc["document"]["distribution"]["tlp"]["label"] == "WHITE"
    [v] = doc["vulnerabilities"]
    assert v["cve"] == "CVE-2026-40001" and v["cwe"] == {"id": "CWE-787",
                                                         "name": "Out-of-bounds Write"}  # fmt: skip
    assert v["scores"][0]["cvss_v3"]["baseScore"] == 9.8
    assert any("CVSS:4.0/" in n["text"] for n in v["notes"])
    assert v["remediations"][0]["details"] == "Update the NP-7 firmware to 4.2."
    assert {i["system_name"] for i in v["ids"]} == {"JVN"}
    vex = cvd.advisory(w.node, cid, vex=True)
    assert_valid(vex)
    assert vex["document"]["category"] == "csaf_vex"
    # status is per (vendor, vulnerability): both NP-7 products; Other PLC Co lists none
    assert vex["vulnerabilities"][0]["product_status"] == {
        "known_affected": ["CVD-PRODUCT-1", "CVD-PRODUCT-2"]
    }
    again = cvd.advisory(w.node, cid, summary="Fix for 4.1 branch")
    assert [r["number"] for r in again["document"]["tracking"]["revision_history"]] == ["1", "2"]
    assert_valid(again)


def test_no_final_advisory_under_embargo_but_a_draft_for_the_members(w: World) -> None:
    cid = ready_case(w)
    cvd.embargo_propose(w.node, cid, days=30)
    cvd.embargo_accept(w.node, cid)
    with pytest.raises(InvalidInput, match="embargo is active until"):
        cvd.advisory(w.node, cid)
    draft = cvd.advisory(w.node, cid, draft=True)
    assert draft["document"]["tracking"]["status"] == "draft"
    assert draft["document"]["distribution"]["tlp"]["label"] == "AMBER"
    assert_valid(draft)
    assert cvd.show(w.node, cid).advisories == []
