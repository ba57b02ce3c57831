"""Caches follow changes made by any process: two ``kizuna serve`` on one database (PostgreSQL,
and SQLite's one folder), a change made through one (or by a CLI command), and the other
refuses on the very next request: a revoked consent, a suspended agreement, a revoked token,
a lowered request limit. Each is first seen allowed on that other process, so its caches hold
the old answer when the change is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from processes import Served, run, serve, stopped_at_end
from stix_factory import INBOX_URL, RELEASED_URL, TLP

from kizuna.core import agreements as core_agreements
from kizuna.core.consents import sign_consent
from kizuna.core.signing import public_key_of
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.core.taxii import MEDIA_TAXII
from kizuna.services import agreements, consents, ingest, parties, tokens
from kizuna.services.node import init_node, new_private_key
from support import backend_url

pytestmark = pytest.mark.slow

STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
GREEN = TLP["green"]


@dataclass
class World:
    home: Path
    url: str | None
    agreement: str
    home_token: str
    bsi_token: str
    nisc_token: str
    nisc_token_id: str
    strict_id: str
    consent: dict[str, Any]
    bsi_key: bytes


def indicator(n: int, creator: str, marking: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--0a0a0a0a-0000-4000-8000-00000000000{n}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "created_by_ref": creator,
        "pattern": f"[ipv4-addr:value = '192.0.2.{n}']",
        "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
        "object_marking_refs": [marking],
    }


@pytest.fixture(params=["postgresql", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """CERT-EU's node, an active CERT-EU–NISC agreement, a BSI object (AMBER+STRICT) released
    to NISC under BSI's consent, and a GREEN object of CERT-EU's released under the agreement."""
    with backend_url(request.param) as url:
        home = tmp_path / "node"
        node = init_node(
            home,
            party_name="CERT-EU",
            jurisdiction="EU",
            kind="csirt",
            scheme="EU",
            database_url=url,
        )
        try:
            bsi_key, nisc_key = new_private_key(), new_private_key()
            bsi = parties.add_party(
                node, "BSI", jurisdiction="DE", kind="government", scheme="DE",
                public_keys=(public_key_of(bsi_key),),
            )  # fmt: skip
            nisc = parties.add_party(
                node, "NISC", jurisdiction="JP", kind="government", scheme="JP",
                public_keys=(public_key_of(nisc_key),),
            )  # fmt: skip
            draft = agreements.from_template(
                node,
                {"title": "bilateral", "parties": ["CERT-EU", "NISC"],
                 "valid_from": "2026-01-01T00:00:00Z"},
            )  # fmt: skip
            signed = core_agreements.sign_document(draft, node.home_party.id, node.private_key)
            signed = core_agreements.sign_document(signed, nisc.id, nisc_key)
            agreement = agreements.add(node, signed)
            assert agreement.state == "active"
            strict = indicator(1, bsi.id, STRICT)
            green = indicator(2, node.home_party.id, GREEN)
            for obj in (strict, green):
                outcome = ingest.ingest(node, [obj], submitter=node.home_party, path="import")
                assert outcome[0].status == "stored"
            granted = consents.grant(
                node,
                expires_us=node.now() + 86_400_000_000,
                objects=[strict["id"]],
                parties=["NISC"],
                originator="BSI",
                private_key=bsi_key,
            )
            with node.db.read() as conn:
                from kizuna.storage import objects as store

                consent = orjson.loads(store.latest(conn, [granted.id])[granted.id].content)
            nisc_token = tokens.create(node, nisc.id)
            yield World(
                home=home,
                url=url,
                agreement=agreement.id,
                home_token=tokens.create(node, node.home_party.id).value,
                bsi_token=tokens.create(node, bsi.id).value,
                nisc_token=nisc_token.value,
                nisc_token_id=nisc_token.id,
                strict_id=strict["id"],
                consent=consent,
                bsi_key=bsi_key,
            )
        finally:
            node.close()


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    with stopped_at_end() as started:
        yield started


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": MEDIA_TAXII, "Content-Type": MEDIA_TAXII}


def released_to_nisc(base: str, world: World) -> set[str] | int:
    """The indicator ids NISC reads from ``base``, or the status of a refusal."""
    r = httpx.get(base + RELEASED_URL + "objects/", headers=auth(world.nisc_token), timeout=30)
    if r.status_code != 200:
        return r.status_code
    return {o["id"] for o in r.json().get("objects", []) if o["type"] == "indicator"}


def test_a_change_on_one_process_is_refused_at_once_on_another(
    world: World, servers: list[Served], tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    servers.append(serve(world.home, world.url, log))
    servers.append(serve(world.home, world.url, log))
    a, b = servers[0].url, servers[1].url
    green = "indicator--0a0a0a0a-0000-4000-8000-000000000002"
    assert released_to_nisc(b, world) == {world.strict_id, green}

    # BSI revokes its consent through A: B withholds BSI's object from NISC at once.
    revoked = {k: v for k, v in world.consent.items() if k != "signature"}
    revoked["revoked"] = True
    revoked["modified"] = format_timestamp(1_800_000_000_000_000)
    r = httpx.post(
        a + "/api/consents",
        content=orjson.dumps(sign_consent(revoked, world.bsi_key)),
        headers={"Authorization": f"Bearer {world.bsi_token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert released_to_nisc(b, world) == {green}

    # The home party suspends the agreement through A: B releases nothing more to NISC.
    r = httpx.post(
        f"{a}/api/agreements/{world.agreement}/suspend",
        headers={"Authorization": f"Bearer {world.home_token}"},
    )
    assert r.status_code == 200, r.text
    assert released_to_nisc(b, world) == set()

    # The operator revokes NISC's token with the CLI, a process of its own: B refuses it.
    run(world.home, world.url, "token", "revoke", world.nisc_token_id)
    assert released_to_nisc(b, world) == 401

    # The operator lowers the request size limit with the CLI: B refuses a larger body.
    body = orjson.dumps({"objects": [indicator(3, "identity--x", GREEN)], "pad": "x" * 3000})
    inbox = INBOX_URL + "objects/"
    r = httpx.post(b + inbox, content=body, headers=auth(world.home_token))
    assert r.status_code == 202, r.text
    run(world.home, world.url, "settings", "max_content_length", "2000")
    r = httpx.post(b + inbox, content=body, headers=auth(world.home_token))
    assert r.status_code == 413, r.text
