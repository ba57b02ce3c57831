"""The CSAF writer: every document it writes passes the schema and the mandatory tests."""

from __future__ import annotations

import dataclasses
from typing import Literal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csaf_check import assert_valid, failures
from csaf_world import T1, T2, advisory
from kizuna.core.csaf import (
    Note,
    Product,
    ProductStatus,
    Remediation,
    Revision,
    Score,
    Tracking,
)
from kizuna.core.csaf.writer import dumps, write_advisory, write_vex
from kizuna.errors import InvalidCsaf


@pytest.mark.parametrize("write", [write_advisory, write_vex], ids=["advisory", "vex"])
@pytest.mark.parametrize("tlp", ["clear", "green", "amber", "amber+strict", "red"])
def test_documents_pass_schema_and_mandatory_tests(write: object, tlp: str) -> None:
    doc = write(advisory(tlp=tlp), generated=T2)  # type: ignore[operator]
    assert_valid(doc)
    assert orjson.loads(dumps(doc)) == doc


def test_the_document_carries_what_the_model_says() -> None:
    doc = write_vex(advisory(tlp="amber+strict"))
    meta = doc["document"]
    assert meta["category"] == "csaf_vex"
    assert meta["distribution"] == {
        "text": "TLP:AMBER+STRICT",
        "tlp": {"label": "AMBER", "url": "https://www.first.org/tlp/"},
    }
    assert meta["tracking"]["version"] == "2"
    assert meta["tracking"]["current_release_date"] == "2026-12-05T12:00:00Z"
    assert meta["tracking"]["initial_release_date"] == "2026-11-01T09:00:00Z"
    vuln = doc["vulnerabilities"][0]
    assert vuln["product_status"] == {
        "known_affected": ["PLC-1"],
        "fixed": ["PLC-2"],
        "known_not_affected": ["HMI-1"],
    }
    assert vuln["flags"] == [{"label": "vulnerable_code_not_present", "product_ids": ["HMI-1"]}]
    assert vuln["threats"][0]["category"] == "impact"
    v3 = vuln["scores"][0]["cvss_v3"]
    assert (v3["baseScore"], v3["baseSeverity"], v3["version"]) == (9.8, "CRITICAL", "3.1")
    assert "temporalScore" in v3 and "environmentalScore" not in v3
    assert vuln["scores"][1]["cvss_v2"]["baseScore"] == 7.5
    plc = doc["product_tree"]["branches"][0]["branches"][0]["branches"]
    assert [b["category"] for b in plc] == ["product_version_range", "product_version"]


def test_version_ranges_never_go_into_product_version_6_1_31() -> None:
    """VINCE's export fails 6.1.31; the writer puts a range in product_version_range."""
    doc = write_advisory(advisory())
    assert "6.1.31" not in failures(doc)
    # The validator does catch it when a range is (wrongly) written as a version.
    bad = write_advisory(advisory())
    branch = bad["product_tree"]["branches"][0]["branches"][0]["branches"][0]
    branch["category"], branch["name"] = "product_version", "prior to 2.3"
    assert "6.1.31" in failures(bad)


REFUSALS = [
    ("undefined-product", {"products": ()}, "6.1.27.4"),
    (
        "draft-v1",
        {"tracking": Tracking("X-1", (Revision("1", T1, "first"),), status="draft")},
        "6.1.17",
    ),
    ("no-summary-note", {"notes": (Note("legal_disclaimer", "none"),)}, "6.1.27.1"),
    ("no-external-ref", {"references": ()}, "6.1.27.2"),
    (
        "duplicate-product",
        {"products": (Product("P", "V", "N", version="1"), Product("P", "V", "N", version="2"))},
        "6.1.2",
    ),
]


@pytest.mark.parametrize(
    ("changes", "test"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refuses_models_that_would_break_a_mandatory_test(
    changes: dict[str, object], test: str
) -> None:
    with pytest.raises(InvalidCsaf, match=test.replace(".", r"\.")):
        write_advisory(advisory(**changes))


def test_vex_needs_remediation_for_affected_and_reason_for_not_affected() -> None:
    vuln = advisory().vulnerabilities[0]
    bare = dataclasses.replace(
        vuln,
        remediations=(),
        statuses=(
            ProductStatus("PLC-1", "known_affected"),
            ProductStatus("HMI-1", "known_not_affected"),
        ),
    )
    with pytest.raises(InvalidCsaf, match=r"6\.1\.27\.10.*|6\.1\.27\.9") as err:
        write_vex(advisory(vulnerabilities=(bare,)))
    assert "6.1.27.9" in str(err.value) and "6.1.27.10" in str(err.value)


def test_cvss4_and_bad_vectors_are_refused_by_name() -> None:
    vuln = advisory().vulnerabilities[0]
    for vector in ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "AV:X"):
        bad = dataclasses.replace(vuln, scores=(Score(vector, ("PLC-1",)),))
        with pytest.raises(InvalidCsaf, match="CVSS vector"):
            write_advisory(advisory(vulnerabilities=(bad,)))


_versions = st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,2}){0,2}", fullmatch=True)


@settings(max_examples=25)
@given(
    versions=st.lists(_versions, min_size=1, max_size=4, unique=True),
    upper=_versions,
    affected=st.booleans(),
)
def test_any_set_of_versions_and_ranges_writes_valid_documents(
    versions: list[str], upper: str, affected: bool
) -> None:
    versioned = [Product(f"P{i}", "Vendor", "Thing", version=v) for i, v in enumerate(versions)]
    ranged = Product("R", "Vendor", "Thing", version_range=f"vers:generic/<{upper}")
    products = (*versioned, ranged)
    ids = [p.product_id for p in products]
    status: Literal["known_affected", "fixed"] = "known_affected" if affected else "fixed"
    vuln = dataclasses.replace(
        advisory().vulnerabilities[0],
        scores=(),
        statuses=tuple(ProductStatus(i, status) for i in ids),
        remediations=(Remediation("vendor_fix", "Update", tuple(ids)),),
    )
    for write in (write_advisory, write_vex):
        assert_valid(write(advisory(products=products, vulnerabilities=(vuln,))))
