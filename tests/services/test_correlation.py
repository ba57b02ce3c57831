"""Correlation: observations against indicators, sightings back to the originator, warning lists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from kizuna.core.taxii import INBOX, RELEASED, Filters
from kizuna.services import correlation, importer, ingest, misp
from kizuna.services.node import Node
from kizuna.storage import objects as store
from shared_data import require_shared_data
from support import Member

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TAXII = {
    "Accept": "application/taxii+json;version=2.1",
    "Content-Type": "application/taxii+json;version=2.1",
}


def indicator(
    n: int, pattern: str, modified: str = "2026-06-01T00:00:00.000Z", **extra: object
) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--aa000000-0000-4000-8000-{n:012d}",
        "created": "2026-06-01T00:00:00.000Z",
        "modified": modified,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [CLEAR],
        **extra,
    }


def sightings(node: Node) -> dict[str, dict[str, Any]]:
    with node.db.read() as conn:
        rows = store.scan(conn, Filters(types=("sighting",)), None, 1000)
    return {orjson.loads(r.content)["sighting_of_ref"]: orjson.loads(r.content) for r in rows}


def test_a_match_records_a_sighting_and_the_next_one_updates_it(sqlite_node: Node) -> None:
    ind = indicator(1, "[ipv4-addr:value = '192.0.2.10']")
    ingest.ingest(sqlite_node, [ind], submitter=sqlite_node.home_party, path="import")
    matches, _ = correlation.match_values(sqlite_node, ["192.0.2.10", "192.0.2.11"])
    assert [m.indicator_id for m in matches] == [ind["id"]]
    first = sightings(sqlite_node)[ind["id"]]
    assert first["count"] == 1 and first["where_sighted_refs"] == [sqlite_node.home_party.id]
    assert len(first["observed_data_refs"]) == 1
    correlation.match_values(sqlite_node, ["192.0.2.10"])
    second = sightings(sqlite_node)[ind["id"]]
    assert second["id"] == first["id"] and second["count"] == 2
    assert second["modified"] > first["modified"] and second["first_seen"] == first["first_seen"]
    assert len(second["observed_data_refs"]) == 2
    assert correlation.match_values(sqlite_node, ["192.0.2.99"])[0] == []


def test_the_index_follows_revisions_revocations_and_expiry(sqlite_node: Node) -> None:
    home = sqlite_node.home_party
    ingest.ingest(
        sqlite_node,
        [indicator(2, "[domain-name:value = 'a.example']")],
        submitter=home,
        path="import",
    )
    assert correlation.match_values(sqlite_node, ["a.example"], sight=False)[0]
    revised = indicator(2, "[domain-name:value = 'b.example']", "2026-07-01T00:00:00.000Z")
    ingest.ingest(sqlite_node, [revised], submitter=home, path="import")
    assert not correlation.match_values(sqlite_node, ["a.example"], sight=False)[0]
    assert correlation.match_values(sqlite_node, ["b.example"], sight=False)[0]
    revoked = {**revised, "modified": "2026-08-01T00:00:00.000Z", "revoked": True}
    ingest.ingest(sqlite_node, [revoked], submitter=home, path="import")
    assert not correlation.match_values(sqlite_node, ["b.example"], sight=False)[0]
    expired = indicator(3, "[domain-name:value = 'c.example']", valid_until="2026-02-01T00:00:00Z")
    ingest.ingest(sqlite_node, [expired], submitter=home, path="import")
    assert not correlation.match_values(sqlite_node, ["c.example"], sight=False)[0]


def test_an_invalid_pattern_is_refused_at_ingest_with_its_position(sqlite_node: Node) -> None:
    bad = indicator(4, "[ipv4-addr:value = '192.0.2.1'")
    outcome = ingest.ingest(sqlite_node, [bad], submitter=sqlite_node.home_party, path="import")[0]
    assert outcome.status == "failed"
    assert bad["id"] in str(outcome.error) and "at character" in str(outcome.error)


def test_listed_values_are_flagged_never_dropped(sqlite_node: Node, tmp_path: Path) -> None:
    folder = tmp_path / "lists" / "public-dns"
    folder.mkdir(parents=True)
    (folder / "list.json").write_text(
        json.dumps(
            {
                "name": "Public DNS",
                "type": "cidr",
                "list": ["9.9.9.0/24"],
                "matching_attributes": ["ip-dst", "ip-src"],
            }
        )
    )
    sqlite_node.set_setting("warninglists", str(tmp_path))
    ind = indicator(5, "[ipv4-addr:value = '9.9.9.9']")
    ingest.ingest(sqlite_node, [ind], submitter=sqlite_node.home_party, path="import")
    [m] = correlation.match_values(sqlite_node, ["9.9.9.9"])[0]
    assert m.likely_benign == (("9.9.9.9", "Public DNS"),)
    ext = sightings(sqlite_node)[ind["id"]]["extensions"][correlation.CORRELATION_EXTENSION]
    assert ext["likely_benign"] == ["9.9.9.9 (Public DNS)"]


def test_a_partners_observation_over_taxii_reaches_the_originator_as_a_sighting(
    sqlite_node: Node, member: Callable[..., Member]
) -> None:
    bsi, nisc = member("BSI"), member("NISC", "JP", "government", "JP")
    ind = {**indicator(6, "[url:value = 'http://lure.example/x']"), "created_by_ref": bsi.party.id}
    posted = bsi.client.post(
        f"/taxii2/root/collections/{INBOX}/objects/", json={"objects": [ind]}, headers=TAXII
    )
    assert posted.json()["success_count"] == 1
    url = {
        "type": "url",
        "spec_version": "2.1",
        "id": "url--0f9b9d4c-3a8e-5c1d-9e2f-000000000001",
        "value": "http://lure.example/x",
    }
    seen = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--bb000000-0000-4000-8000-000000000001",
        "created": "2026-06-02T00:00:00.000Z",
        "modified": "2026-06-02T00:00:00.000Z",
        "created_by_ref": nisc.party.id,
        "first_observed": "2026-06-02T00:00:00Z",
        "last_observed": "2026-06-02T00:00:00Z",
        "number_observed": 3,
        "object_refs": [url["id"]],
        "object_marking_refs": [CLEAR],
    }
    posted = nisc.client.post(
        f"/taxii2/root/collections/{INBOX}/objects/", json={"objects": [url, seen]}, headers=TAXII
    )
    assert posted.json()["success_count"] == 2
    sighting = sightings(sqlite_node)[ind["id"]]
    # The partner's observation is not named (rule 7 would hold the sighting back from BSI).
    assert "observed_data_refs" not in sighting
    view = bsi.client.get(
        f"/taxii2/root/collections/{RELEASED}/objects/",
        params={"match[type]": "sighting"},
        headers=TAXII,
    )
    assert [o["sighting_of_ref"] for o in view.json()["objects"] if o["type"] == "sighting"] == [
        ind["id"]
    ]


@pytest.mark.parametrize("value", ["not an ip", ""])
def test_values_that_are_no_observable_are_reported(sqlite_node: Node, value: str) -> None:
    matches, bad = correlation.match_values(sqlite_node, [value])
    assert matches == []
    assert bad == (
        [(value, f"{value!r} is not an IP address, domain, URL, e-mail address or hash")]
        if value
        else []
    )


# --- values given as a list, against the patterns MISP writes (issue 12, section 5) -----------


def test_values_match_misp_indicators_in_the_roles_misp_gives_them(sqlite_node: Node) -> None:
    ip_dst = indicator(
        20,
        "[network-traffic:dst_ref.type = 'ipv4-addr'"
        " AND network-traffic:dst_ref.value = '5.6.7.8']",
    )
    domain_ip = indicator(
        21,
        "[domain-name:value = 'circl.lu'"
        " AND domain-name:resolves_to_refs[*].value = '149.13.33.14']",
    )
    sender = indicator(22, "[email-message:from_ref.value = 'donald.duck@disney.com']")
    ingest.ingest(
        sqlite_node, [ip_dst, domain_ip, sender], submitter=sqlite_node.home_party, path="import"
    )
    values = ["5.6.7.8", "circl.lu|149.13.33.14", "donald.duck@disney.com"]
    matches, bad = correlation.match_values(sqlite_node, values)
    assert bad == []
    assert {(m.shown, m.indicator_id) for m in matches} == {
        ("5.6.7.8", ip_dst["id"]),
        ("circl.lu|149.13.33.14", domain_ip["id"]),
        ("donald.duck@disney.com", sender["id"]),
    }
    # One sighting each; what is stored is the values observed, not the roles read into them.
    assert set(sightings(sqlite_node)) == {ip_dst["id"], domain_ip["id"], sender["id"]}
    with sqlite_node.db.read() as conn:
        stored = store.scan(conn, Filters(types=("network-traffic", "email-message")), None, 10)
    assert stored == []


def test_warning_list_flags_name_the_value_of_their_own_indicator(
    sqlite_node: Node, tmp_path: Path
) -> None:
    folder = tmp_path / "lists" / "public-dns"
    folder.mkdir(parents=True)
    (folder / "list.json").write_text(
        json.dumps({"name": "Public DNS", "type": "cidr", "list": ["9.9.9.0/24"]})
    )
    sqlite_node.set_setting("warninglists", str(tmp_path))
    dns = indicator(30, "[ipv4-addr:value = '9.9.9.9']")
    c2 = indicator(31, "[ipv4-addr:value = '198.51.100.66']")
    ingest.ingest(sqlite_node, [dns, c2], submitter=sqlite_node.home_party, path="import")
    matches, _ = correlation.match_values(sqlite_node, ["9.9.9.9", "198.51.100.66"])
    flags = {m.indicator_id: (m.shown, m.likely_benign) for m in matches}
    assert flags == {
        dns["id"]: ("9.9.9.9", (("9.9.9.9", "Public DNS"),)),
        c2["id"]: ("198.51.100.66", ()),
    }
    seen = sightings(sqlite_node)
    assert "extensions" not in seen[c2["id"]]
    ext = seen[dns["id"]]["extensions"][correlation.CORRELATION_EXTENSION]
    assert ext["likely_benign"] == ["9.9.9.9 (Public DNS)"]


def test_every_eset_indicator_is_matched_by_its_misp_value(sqlite_node: Node) -> None:
    """ESET's MISP events, imported (misp-stix writes their patterns): each attribute that
    became an indicator is matched when its value is given as a plain line."""
    eset = require_shared_data("misp", "eset-malware-ioc")
    files = [
        eset / "glupteba" / "glupteba.misp-event.json",
        eset / "sednit" / "2018-11-20_Zebrocy.json",
    ]
    assert importer.import_paths(sqlite_node, files).failures == []
    with sqlite_node.db.read() as conn:
        held = {v.id for v in store.scan(conn, Filters(types=("indicator",)), None, 10_000)}
    attributes = [
        a
        for f in files
        for event in misp.events_of(orjson.loads(f.read_bytes()), str(f))
        for a in event.get("Attribute", [])
        if f"indicator--{a['uuid']}" in held and a["type"] in VALUE_TYPES
    ]
    assert {"ip-dst", "domain|ip", "domain"} <= {a["type"] for a in attributes}
    wanted = {(a["value"], f"indicator--{a['uuid']}") for a in attributes}
    matches, bad = correlation.match_values(sqlite_node, [v for v, _ in wanted], sight=False)
    assert bad == []
    assert wanted <= {(m.shown, m.indicator_id) for m in matches}


VALUE_TYPES = frozenset(
    {"ip-dst", "ip-src", "domain", "domain|ip", "url", "email-src", "email-dst", "ip-dst|port",
     "md5", "sha1", "sha256", "filename|sha1", "filename|md5", "filename|sha256"}
)  # fmt: skip


def misp_event_of(org: str, *attributes: tuple[str, bool]) -> dict[str, Any]:
    """A public MISP event of ``org`` with (domain, to_ids) attributes."""
    import uuid

    org_uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, org))
    return {
        "Event": {
            "uuid": str(uuid.uuid4()),
            "info": f"event of {org}",
            "date": "2026-11-01",
            "timestamp": "1790000000",
            "distribution": "3",
            "Tag": [{"name": "tlp:clear"}],
            "Orgc": {"name": org, "uuid": org_uuid},
            "Org": {"name": org, "uuid": org_uuid},
            "Attribute": [
                {
                    "uuid": str(uuid.uuid4()),
                    "type": "domain",
                    "category": "Network activity",
                    "value": value,
                    "to_ids": to_ids,
                    "timestamp": "1790000000",
                    "distribution": "5",
                }
                for value, to_ids in attributes
            ],
        }
    }


def test_an_event_never_sights_its_own_indicators(sqlite_node: Node, tmp_path: Path) -> None:
    """misp-stix makes a ``to_ids`` attribute an indicator and an observed-data (same uuid); a
    producer lists observables beside its indicators. Neither is a sighting (issue 16.3)."""
    own = misp_event_of("Vendor A", ("self.example", True), ("self.example", False))
    (tmp_path / "a.json").write_text(json.dumps(own), encoding="utf-8")
    report = importer.import_paths(sqlite_node, [tmp_path / "a.json"])
    assert not report.failures
    assert sightings(sqlite_node) == {}
    # The same producer restating the value in a later event observes nothing either.
    again = misp_event_of("Vendor A", ("self.example", False))
    (tmp_path / "b.json").write_text(json.dumps(again), encoding="utf-8")
    importer.import_paths(sqlite_node, [tmp_path / "b.json"])
    assert sightings(sqlite_node) == {}
    # Another organisation's observation is one.
    other = misp_event_of("Vendor B", ("self.example", False))
    (tmp_path / "c.json").write_text(json.dumps(other), encoding="utf-8")
    importer.import_paths(sqlite_node, [tmp_path / "c.json"])
    assert len(sightings(sqlite_node)) == 1
    # ...and so is the home party's own (kizuna match).
    matches, _ = correlation.match_values(sqlite_node, ["self.example"])
    assert matches
