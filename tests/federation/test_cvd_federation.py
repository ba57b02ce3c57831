"""CVD across three real nodes over loopback (``kizuna serve`` subprocesses, ``kizuna sync``):
BSI opens a case co-coordinated by NISC under embargo and invites CERT-EU; NISC's node gets the
case and its whole history; CERT-EU gets nothing of it until it accepts; the vendor answers on
NISC's node and the answer reaches BSI and CERT-EU; every node folds the same case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from federation_kit import PARTIES
from live_nodes import LiveNode, build, cli
from scenario import agree_everywhere

from kizuna.core.cvd.case import Product, Vendor, Vulnerability
from kizuna.core.signing import public_key_of
from kizuna.errors import NotFound
from kizuna.services import cvd, parties, tokens
from kizuna.services.node import Node, new_private_key
from kizuna.storage import objects as store

pytestmark = pytest.mark.slow
CAST = {name: PARTIES[name] for name in ("BSI", "NISC", "CERT-EU")}
PSIRT = "identity--0e000000-0000-4000-8000-0000000000a1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[dict[str, LiveNode], dict[str, str]]]:
    made: dict[str, str] = {}

    def populate(nodes: dict[str, Node]) -> None:
        key = public_key_of(new_private_key())
        for node in nodes.values():
            parties.add_party(node, "Nippon PLC PSIRT", jurisdiction="JP", kind="private",
                              party_id=PSIRT, public_keys=(key,))  # fmt: skip
        agree_everywhere(nodes)
        bsi = nodes["BSI"]
        cid = cvd.create(
            bsi, title="NP-7 PLC remote code execution", reporter="BSI", coordinators=["NISC"],
            tlp="green",  # members only by the recipients list; GREEN lets co-coordinators relay
            vendors=[Vendor("Nippon PLC", party="Nippon PLC PSIRT")],
            vulnerabilities=[Vulnerability("Out-of-bounds write", cve="CVE-2026-40001",
                                           products=(Product("Nippon PLC", "NP-7 PLC",
                                                             version_range="vers:generic/<4.2"),))],
        )  # fmt: skip
        cvd.embargo_propose(bsi, cid, days=45, why="policy default")
        cvd.embargo_accept(bsi, cid, why="NISC agreed by phone")
        cvd.invite(bsi, cid, "Nippon PLC PSIRT")
        cvd.respond(bsi, cid, parties.find(bsi, PSIRT), True, "we reproduce it")
        cvd.invite(bsi, cid, "CERT-EU", "pre-notification under the EU-Japan agreement")
        made["case"] = cid
        made["cert-eu@bsi"] = tokens.create(bsi, "CERT-EU").value
        made["psirt@nisc"] = tokens.create(nodes["NISC"], PSIRT).value

    live = build(tmp_path, CAST, populate)
    for node in live.values():
        node.start()
    try:
        for node in live.values():
            node.wait_ready()
        yield live, made
    finally:
        for node in live.values():
            node.stop()


def sync(node: LiveNode) -> None:
    run = cli(node.home, "sync", "--timeout", "20")
    assert run.returncode == 0, run.stdout + run.stderr


def holds(node: LiveNode, object_id: str) -> bool:
    with node.opened() as n, n.db.read() as conn:
        return object_id in store.latest(conn, [object_id])


def folded(node: LiveNode, cid: str) -> dict[str, Any]:
    with node.opened() as n:
        return cvd.show(n, cid).to_dict()


def test_a_case_travels_to_its_participants_only(
    world: tuple[dict[str, LiveNode], dict[str, str]],
) -> None:
    live, made = world
    cid = made["case"]
    sync(live["NISC"])
    sync(live["CERT-EU"])
    # the co-coordinator's node holds the case and its history, folded the same
    assert folded(live["NISC"], cid) == folded(live["BSI"], cid)
    assert folded(live["NISC"], cid)["embargo"]["state"] == "active"
    # CERT-EU, invited but not yet signatory, holds nothing of the case
    assert not holds(live["CERT-EU"], cid)
    with live["CERT-EU"].opened() as n, pytest.raises(NotFound):
        cvd.show(n, cid)
    # CERT-EU accepts on BSI's node; the vendor answers on NISC's node
    as_cert_eu = {"Authorization": f"Bearer {made['cert-eu@bsi']}"}
    accept = httpx.post(f"{live['BSI'].url}api/cvd/cases/{cid}/accept", json={"why": "yes"},
                        headers=as_cert_eu, timeout=30)  # fmt: skip
    assert accept.status_code == 200, accept.text
    sync(live["NISC"])
    answer = {"vendor": "Nippon PLC", "vulnerability": "CVE-2026-40001", "status": "fixed",
              "why": "firmware 4.2 released"}  # fmt: skip
    as_psirt = {"Authorization": f"Bearer {made['psirt@nisc']}"}
    posted = httpx.post(f"{live['NISC'].url}api/cvd/cases/{cid}/vex", json=answer,
                        headers=as_psirt, timeout=30)  # fmt: skip
    assert posted.status_code == 201, posted.text
    for name in ("BSI", "CERT-EU", "NISC"):
        sync(live[name])
    views = {name: folded(live[name], cid) for name in live}
    for name, view in views.items():
        assert len(view["statuses"]) == 1, (name, view["statuses"], view["timeline"][-3:])
        [status] = view["statuses"]
        assert status["status"] == "fixed", name
        assert view["embargo"]["participants"][CAST["CERT-EU"][3]] == "signatory", name
    assert views["BSI"] == views["NISC"] == views["CERT-EU"]
    answer_event = [t for t in views["BSI"]["timeline"] if t["machine"] == "status"]
    assert answer_event[0]["actor"] == PSIRT and answer_event[0]["why"] == "firmware 4.2 released"
