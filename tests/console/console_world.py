"""A node for the console's tests: CERT-EU at home, partners BSI and NISC under one active
agreement, a draft agreement awaiting CERT-EU's signature, objects of every kind the pages show
(one whose description holds a script), a consent request to answer, and people in every role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from agreement_world import signed_by
from kizuna.core import agreements as core
from kizuna.core import protocol
from kizuna.core.parties import Party
from kizuna.core.signing import public_key_of
from kizuna.services import agreements, ingest, parties, users
from kizuna.services.node import Node, new_private_key

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
PASSWORD = "correct horse battery staple"
SCRIPT = "<script>alert('owned')</script> and <img src=x onerror=alert(1)>"

# user name -> (party, roles)
PEOPLE = {
    "aiko": ("CERT-EU", ("analyst", "publisher")),
    "ana": ("CERT-EU", ("analyst",)),
    "ken": ("CERT-EU", ("auditor",)),
    "hans": ("BSI", ("analyst", "publisher")),
}


def sid(stix_type: str, n: int) -> str:
    return f"{stix_type}--00000000-0000-4000-8000-{n:012d}"


def indicator(n: int, marking: str, value: str, creator: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", n),
        "created": "2026-02-01T00:00:00.000Z",
        "modified": extra.pop("modified", "2026-02-01T00:00:00.000Z"),
        "created_by_ref": creator,
        "name": extra.pop("name", f"indicator {value}"),
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
        "labels": extra.pop("labels", ["malicious-activity"]),
        "object_marking_refs": [marking],
        **extra,
    }


@dataclass
class World:
    node: Node
    party: dict[str, Party]
    keys: dict[str, bytes]
    draft: str  # an agreement CERT-EU has not signed yet
    offline: str  # an agreement NISC has not signed yet
    request: str  # BSI's consent request to CERT-EU
    objects: dict[str, str]  # role in the story -> object id


def build(node: Node) -> World:
    home = node.home_party
    keys = {name: new_private_key() for name in ("BSI", "NISC")}
    party = {"CERT-EU": home}
    for name, (j, s) in {"BSI": ("DE", "DE"), "NISC": ("JP", "JP")}.items():
        party[name] = parties.add_party(
            node,
            name,
            jurisdiction=j,
            kind="government",
            scheme=s,
            public_keys=(public_key_of(keys[name]),),
        )
    active = agreements.from_template(
        node,
        {
            "title": "Trilateral",
            "parties": ["CERT-EU", "BSI", "NISC"],
            "valid_from": "2026-01-01T00:00:00Z",
        },
    )
    assert agreements.add(node, signed_by(node, active, keys)).state == "active"
    draft = agreements.from_template(
        node,
        {
            "title": "Bilateral draft",
            "parties": ["CERT-EU", "BSI"],
            "valid_from": "2026-01-01T00:00:00Z",
        },
    )
    agreements.add(node, core.sign_document(draft, party["BSI"].id, keys["BSI"]))
    # CERT-EU and NISC: signed at home, waiting for NISC's signature made offline.
    offline = agreements.from_template(
        node,
        {"title": "EU-Japan", "parties": ["CERT-EU", "NISC"], "valid_from": "2026-01-01T00:00:00Z"},
    )
    agreements.add(node, core.sign_document(offline, home.id, node.private_key))
    objects = {
        "script": sid("indicator", 1),
        "clear": sid("indicator", 2),
        "amber": sid("indicator", 3),
        "red": sid("indicator", 4),
        "cve": sid("vulnerability", 5),
    }
    stix = [
        indicator(1, CLEAR, "198.51.100.1", home.id, description=SCRIPT, name="scripted"),
        indicator(2, GREEN, "198.51.100.2", home.id, name="green one"),
        indicator(
            2,
            GREEN,
            "198.51.100.22",
            home.id,
            name="green one",
            modified="2026-02-02T00:00:00.000Z",
        ),
        indicator(3, AMBER, "198.51.100.3", home.id, name="amber one", labels=["apt"]),
        indicator(4, RED, "198.51.100.4", home.id, name="red one"),
        {
            "type": "vulnerability",
            "spec_version": "2.1",
            "id": objects["cve"],
            "created": "2026-02-01T00:00:00.000Z",
            "modified": "2026-02-01T00:00:00.000Z",
            "created_by_ref": home.id,
            "name": "CVE-2026-12345",
            "external_references": [{"source_name": "cve", "external_id": "CVE-2026-12345"}],
            "object_marking_refs": [CLEAR],
        },
        {
            "type": "sighting",
            "spec_version": "2.1",
            "id": sid("sighting", 6),
            "created": "2026-02-03T00:00:00.000Z",
            "modified": "2026-02-03T00:00:00.000Z",
            "created_by_ref": home.id,
            "sighting_of_ref": objects["clear"],
            "count": 3,
            "object_marking_refs": [CLEAR],
        },
    ]
    for outcome in ingest.ingest(node, stix, submitter=home, path="import"):
        assert outcome.status == "stored", outcome
    request = protocol.consent_request(
        sid("x-kizuna-consent-request", 7),
        party["BSI"].id,
        home.id,
        [objects["amber"]],
        party["NISC"].id,
        "2026-02-04T00:00:00.000Z",
        "NISC's SOC sees the same campaign",
    )
    [outcome] = ingest.ingest(node, [request], submitter=party["BSI"], path="api")
    assert outcome.status == "stored", outcome
    for name, (p, roles) in PEOPLE.items():
        users.add(node, name, party=p, roles=roles, password=PASSWORD)
    return World(node, party, keys, str(draft["id"]), str(offline["id"]), request["id"], objects)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def log_in(http: TestClient, user: str, password: str = PASSWORD) -> TestClient:
    token = csrf_of(http.get("/login").text)
    r = http.post(
        "/login",
        data={"csrf": token, "user": user, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return http
