"""Consents: onward release waits for the originator's signed permission; revoking ends it."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.core import agreements as core
from kizuna.core.consents import CONSENT_TYPE, consent_object, sign_consent
from kizuna.core.policy import WITHHOLD
from kizuna.core.signing import public_key_of
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import Forbidden, InvalidInput, OriginatorMismatch
from kizuna.services import agreements, consents, explain, ingest, parties
from kizuna.services.node import Node, new_private_key

STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"


@pytest.fixture
def bsi_key() -> bytes:
    return new_private_key()


@pytest.fixture
def hub(sqlite_node: Node, bsi_key: bytes) -> Node:
    """CERT-EU's node with an active CERT-EU–NISC agreement, holding a BSI object."""
    nisc_key = new_private_key()
    parties.add_party(
        sqlite_node,
        "BSI",
        jurisdiction="DE",
        kind="government",
        scheme="DE",
        public_keys=(public_key_of(bsi_key),),
    )
    nisc = parties.add_party(
        sqlite_node,
        "NISC",
        jurisdiction="JP",
        kind="government",
        scheme="JP",
        public_keys=(public_key_of(nisc_key),),
    )
    draft = agreements.from_template(
        sqlite_node,
        {
            "title": "bilateral",
            "parties": ["CERT-EU", "NISC"],
            "valid_from": "2026-01-01T00:00:00Z",
        },
    )
    signed = core.sign_document(draft, sqlite_node.home_party.id, sqlite_node.private_key)
    signed = core.sign_document(signed, nisc.id, nisc_key)
    assert agreements.add(sqlite_node, signed).state == "active"
    return sqlite_node


def bsi_object(node: Node) -> dict[str, Any]:
    bsi = parties.find(node, "BSI")
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0a0a0a0a-0000-4000-8000-000000000001",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "created_by_ref": bsi.id,
        "pattern": "[ipv4-addr:value = '192.0.2.7']",
        "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
        "object_marking_refs": [STRICT],
    }
    # The home party imports BSI's object (received out of band): an onward release.
    assert (
        ingest.ingest(node, [obj], submitter=node.home_party, path="import")[0].status == "stored"
    )
    return obj


def decision(node: Node, object_id: str, to: str):  # type: ignore[no-untyped-def]
    return explain.explain(node, object_id, parties.find(node, to))[-1].decision


def test_amber_strict_waits_for_consent_then_goes(hub: Node, bsi_key: bytes) -> None:
    obj = bsi_object(hub)
    before = decision(hub, obj["id"], "NISC")
    assert before.outcome == WITHHOLD
    assert before.refusal is not None and before.refusal.rule == 5
    granted = consents.grant(
        hub,
        expires_us=hub.now() + 86_400_000_000,
        objects=[obj["id"]],
        parties=["NISC"],
        originator="BSI",
        private_key=bsi_key,
    )
    after = decision(hub, obj["id"], "NISC")
    assert after.released
    assert any(v.rule == 5 and "consented" in v.sentence for v in after.verdicts)
    consents.revoke(hub, granted.id, bsi_key)
    assert decision(hub, obj["id"], "NISC").outcome == WITHHOLD


def test_an_expired_consent_counts_for_nothing(hub: Node, bsi_key: bytes) -> None:
    obj = bsi_object(hub)
    consents.grant(
        hub,
        expires_us=hub.now() + 5_000_000,
        objects=[obj["id"]],
        parties=["NISC"],
        originator="BSI",
        private_key=bsi_key,
    )
    assert decision(hub, obj["id"], "NISC").released
    hub.clock.advance(10)  # type: ignore[attr-defined]
    assert decision(hub, obj["id"], "NISC").outcome == WITHHOLD


def test_a_consent_for_another_object_or_party_does_not_apply(hub: Node, bsi_key: bytes) -> None:
    obj = bsi_object(hub)
    consents.grant(
        hub,
        expires_us=hub.now() + 86_400_000_000,
        objects=["indicator--0a0a0a0a-0000-4000-8000-000000000099"],
        parties=["NISC"],
        originator="BSI",
        private_key=bsi_key,
    )
    consents.grant(
        hub,
        expires_us=hub.now() + 86_400_000_000,
        objects=[obj["id"]],
        parties=["BSI"],
        originator="BSI",
        private_key=bsi_key,
    )
    assert decision(hub, obj["id"], "NISC").outcome == WITHHOLD


def test_a_class_consent_covers_every_object_of_its_type(hub: Node, bsi_key: bytes) -> None:
    obj = bsi_object(hub)
    consents.grant(
        hub,
        expires_us=hub.now() + 86_400_000_000,
        types=["indicator"],
        parties=["NISC"],
        originator="BSI",
        private_key=bsi_key,
    )
    assert decision(hub, obj["id"], "NISC").released


def test_only_the_originators_key_signs_its_consent(hub: Node) -> None:
    with pytest.raises(Forbidden, match="not a key of BSI"):
        consents.grant(
            hub,
            expires_us=hub.now() + 10**9,
            parties=["NISC"],
            originator="BSI",
            private_key=new_private_key(),
        )
    with pytest.raises(InvalidInput, match="its own key"):
        consents.grant(hub, expires_us=hub.now() + 10**9, parties=["NISC"], originator="BSI")


def test_a_consent_with_a_bad_signature_is_refused_at_ingest(hub: Node, bsi_key: bytes) -> None:
    bsi = parties.find(hub, "BSI")
    now = format_timestamp(hub.now())
    obj = consent_object(
        f"{CONSENT_TYPE}--0b0b0b0b-0000-4000-8000-000000000001",
        bsi.id,
        now,
        "2030-01-01T00:00:00Z",
        parties=[parties.find(hub, "NISC").id],
    )
    forged = sign_consent(obj, new_private_key())
    outcome = ingest.ingest(hub, [forged], submitter=bsi, path="api")[0]
    assert outcome.status == "failed"
    assert "signature" in str(outcome.error)
    good = sign_consent(obj, bsi_key)
    assert ingest.ingest(hub, [good], submitter=bsi, path="api")[0].status == "stored"


# --- only the originator consents (issue 12, section 5) ---------------------------------------


def test_a_consent_by_anyone_but_the_originator_is_refused(hub: Node) -> None:
    obj = bsi_object(hub)
    with pytest.raises(OriginatorMismatch, match="only its originator \\(source of record\\), BSI"):
        consents.grant(hub, expires_us=hub.now() + 10**10, objects=[obj["id"]], parties=["NISC"])
    assert consents.list_consents(hub) == []


def test_a_consent_that_arrives_naming_anothers_object_is_never_listed_valid(
    hub: Node, bsi_key: bytes
) -> None:
    """A consent signed by NISC for BSI's object (as a sync or a post would bring it): stored,
    since its signature is NISC's, but it counts for nothing and is listed as invalid."""
    obj = bsi_object(hub)
    nisc_key = new_private_key()
    nisc = parties.update_party(hub, "NISC", add_keys=(public_key_of(nisc_key),))
    now = format_timestamp(hub.now())
    forged = consent_object(
        "x-kizuna-consent--0a0a0a0a-0000-4000-8000-0000000000c1",
        nisc.id,
        now,
        format_timestamp(hub.now() + 10**10),
        objects=[obj["id"]],
        parties=[hub.home_party.id],
    )
    signed = sign_consent(forged, nisc_key)
    outcome = ingest.ingest(hub, [signed], submitter=nisc, path="sync")[0]
    assert outcome.status == "stored", outcome.error
    [listed] = consents.list_consents(hub)
    state = consents.states(hub, [listed])[listed.id]
    assert state == f"invalid: not the originator of {obj['id']}"
    mine = consents.grant(
        hub,
        expires_us=hub.now() + 10**10,
        objects=[obj["id"]],
        parties=["NISC"],
        originator="BSI",
        private_key=bsi_key,
    )
    assert consents.states(hub, [mine])[mine.id] == "valid"
