"""MISP import and export through misp-stix: ESET's real events, and misp-stix's own pairs."""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from kizuna.core.markings import TLP_MARKING_ID, handling_of
from kizuna.services import export, importer, misp
from kizuna.services.node import Node
from kizuna.storage import objects as store
from shared_data import require_shared_data

ESET = ("misp", "eset-malware-ioc")
MALFORMED = "pypi_backdoor/malicious_pypi_packages.misp-event.json"
NOT_MISP = "dnsbirthday/rqz-dnsduvel_blocklist.json"
# misp-stix folds a "pe"/"pe-section" object that a file object includes into that file object.
FOLDED = frozenset({"pe", "pe-section"})


def stored_objects(node: Node) -> dict[str, dict[str, Any]]:
    from sqlalchemy import select

    from kizuna.storage.schema import objects as table

    with node.db.read() as conn:
        rows = conn.execute(select(table.c.content).where(table.c.is_latest)).scalars().all()
    return {o["id"]: o for o in map(orjson.loads, rows)}


def eset_events(folder: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(folder.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if misp.is_misp(document):
            for event in misp.events_of(document, str(path)):
                yield path, event


@pytest.fixture(scope="module")
def eset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, importer.Report]]:
    """One node with every ESET event imported (module-wide: the import takes seconds)."""
    from kizuna.services.node import init_node
    from support import FakeClock, SeqIds

    folder = require_shared_data(*ESET)
    node = init_node(
        tmp_path_factory.mktemp("eset") / "node",
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        clock=FakeClock(),
        new_id=SeqIds("eset"),
    )
    report = importer.import_paths(node, [folder])
    yield node, report
    node.close()


def test_all_57_eset_events_import_and_the_malformed_file_is_refused(
    eset: tuple[Node, importer.Report],
) -> None:
    _, report = eset
    assert report.events == 57
    failed = {
        Path(f.where).relative_to(require_shared_data(*ESET)).as_posix(): f for f in report.failures
    }
    assert set(failed) == {MALFORMED, NOT_MISP}, report.failures[:5]
    assert "not JSON" in failed[MALFORMED].reason
    assert "nor MISP events" in failed[NOT_MISP].reason
    assert report.stored > 9000


def test_nothing_of_the_malformed_event_is_stored(eset: tuple[Node, importer.Report]) -> None:
    node, _ = eset
    text = (require_shared_data(*ESET) / MALFORMED).read_text(encoding="utf-8")
    event_uuid = text.split('"uuid": "', 1)[1].split('"', 1)[0]
    with node.db.read() as conn:
        assert not store.latest(conn, [f"grouping--{event_uuid}", f"report--{event_uuid}"])


def expected_uuids(event: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The uuids of the attributes and objects that each become a STIX object of their own."""
    attributes = {a["uuid"] for a in event.get("Attribute") or () if not a.get("deleted")}
    objects = event.get("Object") or []
    by_uuid = {o["uuid"]: o for o in objects}
    folded = {
        ref["referenced_uuid"]
        for o in objects
        for ref in o.get("ObjectReference") or ()
        if o["name"] in ("file", "pe")
        and by_uuid.get(ref.get("referenced_uuid"), {}).get("name") in FOLDED
    }
    return attributes, {o["uuid"] for o in objects if not o.get("deleted")} - folded


def test_each_eset_event_has_an_object_per_attribute(eset: tuple[Node, importer.Report]) -> None:
    """Counts per event: every attribute and MISP object is a STIX object (under its uuid)."""
    node, _ = eset
    stored = stored_objects(node)
    by_uuid: dict[str, list[str]] = {}
    for oid in stored:
        by_uuid.setdefault(oid.split("--", 1)[1], []).append(oid)
    events = 0
    for path, event in eset_events(require_shared_data(*ESET)):
        events += 1
        attributes, objects = expected_uuids(event)
        container = [
            i for i in by_uuid.get(event["uuid"], ()) if i.split("--")[0] in ("grouping", "report")
        ]
        assert len(container) == 1, path
        members = set(stored[container[0]]["object_refs"])
        for kind, uuids in (("attribute", attributes), ("object", objects)):
            missing = [u for u in uuids if not by_uuid.get(u)]
            assert not missing, f"{path}: {len(missing)} {kind}s without a STIX object"
            # ...and each is in the event's container.
            outside = [u for u in uuids if not any(i in members for i in by_uuid[u])]
            assert not outside, f"{path}: {len(outside)} {kind}s outside the event"
        sdo_count = sum(1 for u in attributes | objects for i in by_uuid[u]
                        if i.split("--")[0] in ("indicator", "observed-data", "vulnerability",
                                                "x-misp-attribute", "x-misp-object", "campaign",
                                                "attack-pattern", "course-of-action", "identity",
                                                "malware", "tool", "threat-actor", "intrusion-set",
                                                "location", "note", "report"))  # fmt: skip
        assert sdo_count >= len(attributes | objects), path
    assert events == 57


def test_handling_survives_as_markings(eset: tuple[Node, importer.Report]) -> None:
    """TLP tags, distribution and the node's default are on every object of the event."""
    node, _ = eset
    stored = stored_objects(node)
    resolve = stored.get
    checked = 0
    for path, event in eset_events(require_shared_data(*ESET)):
        container = stored.get(f"grouping--{event['uuid']}") or stored[f"report--{event['uuid']}"]
        tags = {t["name"] for t in event.get("Tag") or ()}
        attributes, objects = expected_uuids(event)
        own = [r for r in container["object_refs"] if r.split("--", 1)[1] in attributes | objects]
        # (Galaxy clusters and the author's identity are shared between events: their latest
        # version carries the handling of the event that wrote it last.)
        for oid in [container["id"], *own]:
            h = handling_of(stored[oid], resolve)
            assert not h.unresolved, (path, oid)
            if "tlp:white" in tags and event["distribution"] == "3":
                assert h.tlp == "clear"
            else:
                assert h.tlp in ("amber", "amber+strict"), (path, oid, h)  # never CLEAR by default
            if event["distribution"] == "0":
                assert h.recipients == frozenset({node.home_party.id})
            checked += 1
        assert "tlp:white" not in (container.get("labels") or ())  # a marking, not a label
    assert checked > 7000


def test_reimporting_stores_nothing_twice(eset: tuple[Node, importer.Report]) -> None:
    node, _ = eset
    again = importer.import_paths(node, [require_shared_data(*ESET)])
    assert (again.stored, again.skipped) == (0, 57)
    fresh = importer.import_paths(node, [require_shared_data(*ESET) / "turla"], resume=False)
    assert fresh.stored == 0 and fresh.unchanged > 0 and not fresh.failures


def test_misp_export_of_eset_loads_back(eset: tuple[Node, importer.Report]) -> None:
    """What kizuna exports as MISP is MISP events kizuna (and misp-stix) read again."""
    node, _ = eset
    exported = misp.export_events(node, node.home_party)
    events = exported["response"]
    assert len(events) >= 57
    by_uuid = {e["Event"]["uuid"]: e["Event"] for e in events}
    for _, event in eset_events(require_shared_data(*ESET) / "sshdoor"):
        back = by_uuid[event["uuid"]]
        assert {a["value"] for a in back["Attribute"]} >= {
            a["value"] for a in event["Attribute"] if a["type"] != "text"
        }
        assert "tlp:amber" in {t["name"] for t in back.get("Tag", ())}
        assert back["distribution"] in ("0", "1")


# ---- misp-stix's own MISP ↔ STIX pairs ----

MAPPING = ("misp", "misp-stix", "documentation", "mapping")
BASE_EVENT = ("misp", "misp-stix", "extracted", "test_events.literals.json")


def mapping(name: str) -> dict[str, Any]:
    path = require_shared_data(*MAPPING) / name
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def base_event() -> dict[str, Any]:
    literals = json.loads(require_shared_data(*BASE_EVENT).read_text(encoding="utf-8"))
    return copy.deepcopy(literals["_BASE_EVENT"]["Event"])


def truncated(value: Any) -> bool:
    """The documentation shortens binary data to "…[...]…": such pairs cannot round-trip."""
    return "[...]" in json.dumps(value)


def direct_round_trip(event: dict[str, Any]) -> dict[str, Any]:
    """MISP → STIX 2.1 → MISP with misp-stix alone (what MISP itself gets)."""
    from misp_stix_converter import MISPtoSTIX21Parser
    from misp_stix_converter.tools import get_stix2_parser, is_stix2_from_misp, load_stix2_content

    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event({"Event": event})
    objects = orjson.loads(parser.bundle.serialize())["objects"]
    bundle = load_stix2_content(
        {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    )
    cls, args = get_stix2_parser(is_stix2_from_misp(objects), 0, None, None, None, False, False,
                                 True, event["Orgc"]["uuid"], 0, None)  # fmt: skip
    back = cls()
    back.load_stix_bundle(bundle)
    back.parse_stix_bundle(**args)
    converted: dict[str, Any] = orjson.loads(back.misp_event.to_json())
    return converted


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """What misp-stix's own tests compare: uuids, types, categories, values, object relations."""

    def attr(a: dict[str, Any]) -> tuple[Any, ...]:
        return (a.get("uuid"), a.get("type"), a.get("category"), str(a.get("value")),
                a.get("object_relation"), bool(a.get("to_ids")))  # fmt: skip

    return {
        "attributes": sorted(map(attr, event.get("Attribute") or ())),
        "objects": sorted(
            (o.get("uuid"), o.get("name"), tuple(sorted(map(attr, o.get("Attribute") or ()))))
            for o in event.get("Object") or ()
        ),
    }


@pytest.fixture(scope="module")
def misp_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node whose home party is not the test events' organisation (module-wide: pairs differ)."""
    from kizuna.services.node import init_node
    from support import FakeClock, SeqIds

    node = init_node(
        tmp_path_factory.mktemp("pairs") / "node",
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        clock=FakeClock(),
        new_id=SeqIds("pairs"),
    )
    yield node
    node.close()


def via_kizuna(node: Node, event: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Import an event file into kizuna, then export that event, through the gate, as MISP."""
    # The documented pairs share uuids: give each its own (consistently), so none collide here.
    text = json.dumps(event)
    for element in [*(event.get("Attribute") or ()), *(event.get("Object") or ())]:
        for item in [element, *(element.get("Attribute") or ())]:
            text = text.replace(item["uuid"], str(uuid.uuid4()))
    event.clear()
    event.update(json.loads(text), uuid=str(uuid.uuid4()))
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"Event": event}), encoding="utf-8")
    report = importer.import_paths(node, [path])
    assert not report.failures, report.failures
    ids = {o["id"] for o in misp.convert(event, "pair", misp.directory(node)).objects}
    home = node.home_party
    released = [orjson.loads(r.content) for r in export.releases(node, home) if r.id in ids]
    found = [e for e in misp.events_for(released, node, home) if e["uuid"] == event["uuid"]]
    assert len(found) == 1
    return found[0]


def pairs(name: str) -> list[Any]:
    try:
        data = mapping(name)
    except pytest.skip.Exception:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="shared data absent"))]
    return [pytest.param(k, v, id=k) for k, v in data.items()]


def wrap(kind: str, misp_side: Any) -> dict[str, Any]:
    event = base_event()
    items = misp_side if isinstance(misp_side, list) else [misp_side]
    event["Attribute" if kind == "attributes" else "Object"] = copy.deepcopy(items)
    return event


@pytest.mark.parametrize(("name", "pair"), pairs("misp_attributes_to_stix21.json"))
def test_misp_stix_attribute_pairs_round_trip(
    misp_node: Node,
    tmp_path: Path,
    name: str,
    pair: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through kizuna and back, each documented attribute comes out as MISP's own round trip
    does, and as misp-stix documents its STIX → MISP import (type, category, value, uuid)."""
    caplog.set_level(logging.ERROR)
    if truncated(pair["MISP"]):
        pytest.skip("the documentation shortens this pair's binary data")
    event = wrap("attributes", pair["MISP"])
    back = via_kizuna(misp_node, event, tmp_path)
    assert comparable(back) == comparable(direct_round_trip(copy.deepcopy(event)))
    documented = mapping("stix21_to_misp_attributes.json").get(name)
    if documented is None:
        return
    variants = [documented] if "MISP" in documented else list(documented.values())
    got = sorted((a["type"], a["category"], a["value"]) for a in back["Attribute"])
    assert any(
        got == sorted((m["type"], m["category"], m["value"])
                      for m in (v["MISP"] if isinstance(v["MISP"], list) else [v["MISP"]]))
        for v in variants
    )  # fmt: skip
    originals = {a["uuid"] for a in event["Attribute"]}
    assert {a["uuid"] for a in back["Attribute"]} <= originals


@pytest.mark.parametrize(("name", "pair"), pairs("misp_objects_to_stix21.json"))
def test_misp_stix_object_pairs_round_trip(
    misp_node: Node,
    tmp_path: Path,
    name: str,
    pair: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through kizuna and back, each documented MISP object comes out as MISP's own round trip."""
    caplog.set_level(logging.ERROR)
    if truncated(pair["MISP"]):
        pytest.skip("the documentation shortens this pair's binary data")
    event = wrap("objects", pair["MISP"])
    back = via_kizuna(misp_node, event, tmp_path)
    assert comparable(back) == comparable(direct_round_trip(copy.deepcopy(event)))


def test_misp_stix_test_events_import_as_documented(
    make_node: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """misp-stix's MISP test events become its STIX 2.1 test bundle (plus kizuna's markings)."""
    caplog.set_level(logging.ERROR)
    misp_node = make_node("MISP-Project")
    tests = require_shared_data("misp", "misp-stix", "tests")
    for number in (1, 2):
        report = importer.import_paths(misp_node, [tests / f"test_events_collection_{number}.json"])
        assert not report.failures and report.events == 2
    expected = {}
    for number in (1, 2):
        bundle = json.loads((tests / f"test_event{number}_stix21.json").read_text(encoding="utf-8"))
        expected.update({o["id"]: o for o in bundle["objects"]})
    stored = stored_objects(misp_node)

    def triple(r: dict[str, Any]) -> tuple[str, str, str]:
        return r["source_ref"], r["relationship_type"], r["target_ref"]

    # The test bundle predates misp-stix's deterministic relationship ids: compare those by ends.
    relationships = {triple(o) for o in stored.values() if o["type"] == "relationship"}
    for oid, obj in expected.items():
        if obj["type"] == "identity":
            continue  # the test events' organisation is this node's home party here
        if obj["type"] == "relationship":
            assert triple(obj) in relationships
            continue
        got = dict(stored[oid])
        if "object_refs" in obj:
            obj = {
                **obj,
                "object_refs": [r for r in obj["object_refs"] if "relationship--" not in r],
            }
            got["object_refs"] = [r for r in got["object_refs"] if "relationship--" not in r]
        marks = got.pop("object_marking_refs")
        # No distribution: "your organisation only"; no TLP tag: never CLEAR.
        assert TLP_MARKING_ID["amber+strict"] in marks
        assert handling_of(stored[oid], stored.get).recipients == frozenset(
            {misp_node.home_party.id}
        )
        assert got == obj


def test_eset_sights_none_of_its_own_indicators(eset: tuple[Node, importer.Report]) -> None:
    """ESET's events list each indicator's value as an observation too (1,044 self-sightings
    before issue 16.3): an import of one producer's events records no sighting."""
    node, _ = eset
    made = [o for o in stored_objects(node).values() if o["type"] == "sighting"]
    assert [o for o in made if o.get("created_by_ref") == node.home_party.id] == []
