"""A CVD world: BSI's node, one active agreement that includes everyone (so only the case's own
handling keeps a non-participant out), and a case about a Japanese vendor's PLC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kizuna.core import agreements as core
from kizuna.core.cvd.case import Product, Vendor, Vulnerability
from kizuna.core.parties import Party
from kizuna.core.signing import public_key_of
from kizuna.services import agreements, cvd, parties
from kizuna.services.node import Node, new_private_key

PARTNERS = {
    "NISC": ("JP", "government", "JP"),
    "CERT-EU": ("EU", "csirt", "EU"),
    "Nippon PLC PSIRT": ("JP", "private", None),
    "Mallory": ("NL", "private", None),
}
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


@dataclass
class World:
    node: Node
    party: dict[str, Party]
    agreement: str


def build(node: Node, *, disclosure: bool = True) -> World:
    keys = {name: new_private_key() for name in PARTNERS}
    party = {
        name: parties.add_party(node, name, jurisdiction=j, kind=k, scheme=s,
                                public_keys=(public_key_of(keys[name]),))
        for name, (j, k, s) in PARTNERS.items()
    }  # fmt: skip
    template: dict[str, Any] = {
        "title": "CVD partnership (test)",
        "parties": ["BSI", *PARTNERS],
        "valid_from": "2026-01-01T00:00:00Z",
    }
    if disclosure:
        template["disclosure"] = {
            "version": 1,
            "default_embargo_days": 45,
            "max_embargo_days": 90,
            "pre_notify": [{"party": "CERT-EU", "days_before": 7}],
            "early_release": ["attacks-observed", "exploit-public"],
            "publisher": "coordinator",
        }
    doc = agreements.from_template(node, template)
    for p in doc["parties"]:
        key = node.private_key if p["id"] == node.home_party.id else keys[p["name"]]
        doc = core.sign_document(doc, p["id"], key)
    assert agreements.add(node, doc).state == "active"
    return World(node, party, str(doc["id"]))


def plc_vulnerability() -> Vulnerability:
    return Vulnerability(
        "Out-of-bounds write in the PLC's Modbus handler",
        cve="CVE-2026-40001",
        jvn="JVNVU#90000001",
        cwe="CWE-787",
        description="A crafted Modbus/TCP packet writes past a stack buffer.",
        products=(
            Product("Nippon PLC", "NP-7 PLC", version_range="vers:generic/<4.2",
                    cpe="cpe:2.3:h:nippon_plc:np-7:*:*:*:*:*:*:*:*"),
            Product("Nippon PLC", "NP-7 PLC", version="4.2"),
        ),
    )  # fmt: skip


def open_case(w: World) -> str:
    return cvd.create(
        w.node,
        title="NP-7 PLC remote code execution",
        vulnerabilities=[plc_vulnerability()],
        reporter="BSI",
        coordinators=["NISC"],
        vendors=[
            Vendor("Nippon PLC", party="Nippon PLC PSIRT"),
            Vendor("Other PLC Co", email="psirt@other-plc.example",
                   pgp="0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567"),
        ],
        why="BSI found it while testing a water utility's PLCs",
    )  # fmt: skip
