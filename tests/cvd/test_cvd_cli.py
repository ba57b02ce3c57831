"""``kizuna cvd`` end to end on a node: create, invite, embargo, status, statement, advisory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cvd_world import VECTOR, World, build

from csaf_check import assert_valid
from kizuna.cli.main import cli
from kizuna.services.node import Node


@pytest.fixture
def w(make_node: Callable[..., Node]) -> World:
    return build(make_node("BSI", jurisdiction="DE", kind="government", scheme="DE"))


def kz(w: World, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(w.node.home), "cvd", *args])


def ok(w: World, *args: str) -> str:
    r = kz(w, *args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def test_a_case_from_report_to_advisory(w: World, tmp_path: Path) -> None:
    cid = ok(w, "case", "create", "--title", "NP-7 PLC RCE", "--reporter", "BSI",
             "--coordinator", "NISC", "--vendor", "name=Nippon PLC;party=Nippon PLC PSIRT",
             "--vulnerability", "Out-of-bounds write", "--cve", "CVE-2026-40001",
             "--jvn", "JVNVU#90000001", "--cwe", "CWE-787",
             "--product", "vendor=Nippon PLC;name=NP-7 PLC;range=vers:generic/<4.2",
             "--why", "found in a water utility")  # fmt: skip
    assert cid.startswith("grouping--")
    ok(w, "status", cid, "valid", "--why", "reproduced")
    ok(w, "invite", cid, "Nippon PLC PSIRT", "--why", "please look at NP-7")
    ok(w, "embargo", "propose", cid, "--why", "policy default")
    ok(w, "embargo", "accept", cid, "--why", "NISC agrees")
    ok(w, "embargo", "accept", cid, "--as", "Nippon PLC PSIRT", "--why", "by e-mail")
    ok(w, "status", cid, "vendor-aware", "--why", "PSIRT acknowledged")
    ok(w, "vex", cid, "Nippon PLC", "CVE-2026-40001", "known_affected")
    assert ok(w, "cvss", cid, "CVE-2026-40001", VECTOR).startswith("9.8 Critical")
    assert ok(w, "ssvc", cid, "coordinator-triage", "report-public=no", "supplier-contacted=yes",
              "report-credibility=credible", "supplier-cardinality=one",
              "supplier-engagement=active", "utility=super effective",
              "public-safety-impact=significant").startswith("track ")  # fmt: skip
    sid = ok(w, "statement", cid, "Nippon PLC", "Update to firmware 4.2.")
    ok(w, "statement", cid, "--approve", sid)
    ok(w, "statement", cid, "--share", sid)
    out = tmp_path / "adv.json"
    refused = kz(w, "advisory", cid, "--out", str(out))
    assert refused.exit_code == 1 and "embargo is active until" in refused.output
    assert not out.exists()
    told = ok(w, "embargo", "exit", cid, "--reason", "exploit-public", "--why", "PoC published")
    assert "told: BSI, NISC, Nippon PLC PSIRT" in told
    ok(w, "advisory", cid, "--out", str(out))
    assert_valid(json.loads(out.read_bytes()))
    shown = json.loads(ok(w, "case", "show", cid, "--json"))
    assert shown["embargo"]["state"] == "exited" and shown["case_state"] == "Vfdpxa".replace(
        "x", "X"
    )
    text = " ".join(ok(w, "case", "show", cid).split())
    assert "embargo: exited" in text and "participant Nippon PLC PSIRT: signatory" in text
    assert cid in ok(w, "case", "list")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("case", "show", "grouping--00000000-0000-4000-8000-000000000000"), "no CVD case"),
        (("case", "create", "--title", "x", "--reporter", "BSI", "--vulnerability", "v",
          "--cve", "CVE-26-1"), "'CVE-26-1' is not a CVE id"),
        (("case", "create", "--title", "x", "--reporter", "BSI", "--vulnerability", "v",
          "--product", "vendor=A"), "needs vendor= and name="),
        (("case", "create", "--title", "x", "--reporter", "BSI", "--vulnerability", "v",
          "--vendor", "name=A;email=nope"), "'nope' is not an e-mail address"),
    ],
)  # fmt: skip
def test_errors_are_one_clear_line(w: World, args: tuple[str, ...], words: str) -> None:
    r = kz(w, *args)
    assert r.exit_code == 1 and words in r.output and "Traceback" not in r.output
