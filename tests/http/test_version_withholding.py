"""Raising TLP in a new version withholds the older, laxer versions from those it excludes.

Issue 12: a recipient the newest version of an object excludes gets no version of it, through
any TAXII read (objects with ``match[version]``, one object by version, its versions list, the
manifest) or ``explain``. A revocation is a version like any other.
"""

from __future__ import annotations

from typing import Any

import pytest
from stix_factory import RELEASED_URL, TAXII_HEADERS, envelope, indicator, without_seals
from taxii_harness import Caller, Taxii

from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.core.taxii import INBOX, MEDIA_TAXII
from kizuna.services import explain

INBOX_URL = f"/taxii2/root/collections/{INBOX}/"
OLD = "2026-01-01T00:00:00.000Z"
NEW = "2026-02-01T00:00:00.000Z"


def post(who: Caller, obj: dict[str, Any]) -> None:
    r = who.client.post(INBOX_URL + "objects/", content=envelope(obj), headers=TAXII_HEADERS)
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text


def read(who: Caller, path: str, **params: str) -> list[tuple[str, int]]:
    """(id, version) of everything one TAXII read shows the caller."""
    r = who.client.get(RELEASED_URL + path, params=params, headers={"Accept": MEDIA_TAXII})
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    body = r.json()
    if "versions" in body:
        return [(path, parse_timestamp(v)) for v in body["versions"]]
    rows = without_seals(body.get("objects", []))
    return [(o["id"], parse_timestamp(o.get("modified") or o["version"])) for o in rows]


def every_read(who: Caller, object_id: str) -> dict[str, list[tuple[str, int]]]:
    """What each read shows of the object's versions."""
    seen = {
        "objects all": read(who, "objects/", **{"match[version]": "all"}),
        "objects first": read(who, "objects/", **{"match[version]": "first"}),
        "object by old version": read(who, f"objects/{object_id}/", **{"match[version]": OLD}),
        "object all": read(who, f"objects/{object_id}/", **{"match[version]": "all"}),
        "versions": read(who, f"objects/{object_id}/versions/"),
        "manifest all": read(who, "manifest/", **{"match[version]": "all"}),
    }
    mine = (object_id, f"objects/{object_id}/versions/")
    return {name: [row for row in rows if row[0] in mine] for name, rows in seen.items()}


@pytest.fixture
def parties(taxii: Taxii) -> tuple[Caller, Caller]:
    """BSI, which posts, and ACSC, which shares no agreement with it."""
    return taxii.join("BSI"), taxii.join("ACSC", jurisdiction="AU", scheme="AU")


def versions(bsi: Caller, second_tlp: str, **second: Any) -> dict[str, Any]:
    """A TLP:CLEAR object of BSI's, then a second version of it (``second_tlp``)."""
    post(bsi, indicator("raised", tlp="clear", created_by=bsi.party.id, modified=OLD))
    newer = indicator("raised", tlp=second_tlp, created_by=bsi.party.id, modified=NEW)
    post(bsi, {**newer, **second})
    return newer


@pytest.mark.parametrize("revoked", [False, True], ids=["raised", "raised-and-revoked"])
def test_a_recipient_the_newest_version_excludes_gets_no_version(
    taxii: Taxii, parties: tuple[Caller, Caller], revoked: bool
) -> None:
    bsi, acsc = parties
    obj = versions(bsi, "amber", **({"revoked": True} if revoked else {}))
    seen = every_read(acsc, obj["id"])
    assert {read: rows for read, rows in seen.items() if rows} == {}
    # The originator still sees both versions, so the reads above could show them.
    assert len(every_read(bsi, obj["id"])["versions"]) == 2
    decided = explain.explain(taxii.node, obj["id"], acsc.party)
    assert [e.decision.released for e in decided] == [False, False]
    old = decided[0].decision
    assert old.refusal is not None and old.refusal.rule == 4
    assert "newest version" in old.refusal.sentence


@pytest.mark.parametrize("revoked", [False, True], ids=["same-tlp", "revoked-same-tlp"])
def test_a_recipient_the_newest_version_includes_gets_every_version(
    parties: tuple[Caller, Caller], revoked: bool
) -> None:
    bsi, acsc = parties
    obj = versions(bsi, "clear", **({"revoked": True} if revoked else {}))
    seen = every_read(acsc, obj["id"])
    assert len(seen["versions"]) == len(seen["object all"]) == 2
    assert seen["object by old version"] == [(obj["id"], parse_timestamp(OLD))]


def test_a_laxer_newest_version_does_not_release_a_stricter_old_one(
    parties: tuple[Caller, Caller],
) -> None:
    """Each version is still decided on its own: lowering TLP frees only the new version."""
    bsi, acsc = parties
    post(bsi, indicator("lowered", tlp="amber", created_by=bsi.party.id, modified=OLD))
    newer = indicator("lowered", tlp="clear", created_by=bsi.party.id, modified=NEW)
    post(bsi, newer)
    listed = every_read(acsc, newer["id"])["versions"]
    assert listed == [(f"objects/{newer['id']}/versions/", parse_timestamp(NEW))]
