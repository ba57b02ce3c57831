"""Real data round-trips: every STIX bundle under ``shared/data/stix/`` imports and reads back.

Each bundle is imported with ``services.importer.import_paths`` (all of them, in path order,
into one node) and every object comes back through the gate, as the home party, as the same
JSON value. Objects that upstream got wrong are refused one by one with a reason; they are
listed below with why. An independent oracle, run over the same files in the same order,
predicts what is stored, what is unchanged and what conflicts (DESIGN.md: same id and
``modified`` with different content is refused).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.core.taxii import Filters
from kizuna.services import export, importer
from kizuna.services.node import Node, init_node
from shared_data import require_shared_data
from support import backend_url

# Upstream objects that break STIX 2.1, refused with a reason: (file under stix/, id) -> why.
ATTACK_ICS_18 = "mitre-attack-stix-data/ics-attack/ics-attack-18.1.json"
EMPTY_REF = "is not a STIX identifier"
KNOWN_INVALID: dict[tuple[str, str], tuple[str, str]] = {
    (ATTACK_ICS_18, f"x-mitre-data-component--{suffix}"): (
        EMPTY_REF,
        'ATT&CK leaves "x_mitre_data_source_ref" empty; STIX 2.1 §2.9 makes every *_ref '
        "property hold an identifier",
    )
    for suffix in (
        "2b3bfe19-d59a-460d-93bb-2f546adc2d2c",
        "3d20385b-24ef-40e1-9f56-f39750379077",
        "4dcd8ba3-2075-4f8b-941e-39884ffaac08",
        "7b375092-3a61-448d-900a-77c9a4bde4dc",
        "da85d358-741a-410d-9433-20d6269a6170",
    )
}

# STIX 2.0 bundles are upgraded to 2.1 on import (a later issue than the node's; see
# core.stix.upgrade). Checked against STIX 2.1's "changes from 2.0", not against kizuna's code.
UPGRADED_FILES = {
    "oasis-cti-python-stix2/stix2/test/v21/stix2_data/malware/"
    "malware--b42378e0-f147-496f-992a-26a49705395b/20170531213215263882.json": (
        "a STIX 2.0 bundle among python-stix2's 2.1 test data"
    ),
}
_LABELS_BECOME = {"indicator": "indicator_types", "malware": "malware_types",
                  "report": "report_types", "threat-actor": "threat_actor_types",
                  "tool": "tool_types"}  # fmt: skip


def upgraded(obj: dict[str, Any]) -> dict[str, Any]:
    """What a STIX 2.0 object is in 2.1: spec_version, and labels as the type vocabulary."""
    out = {**obj, "spec_version": "2.1"}
    vocabulary = _LABELS_BECOME.get(obj["type"])
    if vocabulary and "labels" in out:
        out[vocabulary] = out.pop("labels")
    if obj["type"] == "malware":
        out.setdefault("is_family", True)
    if obj["type"] == "indicator":
        out.setdefault("pattern_type", "stix")
    return out


# Same (id, modified) as an object imported earlier, with other content: refused as a conflict.
# (file, id) -> why upstream did it. The oracle must predict exactly these.
KNOWN_CONFLICTS: dict[tuple[str, str], str] = {
    (
        "mitre-attack-stix-data/ics-attack/ics-attack-8.0.json",
        "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
    ): "MITRE re-worded its copyright statement over the years without a new created date",
    (
        "mitre-attack-stix-data/mobile-attack/mobile-attack-1.0.json",
        "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5",
    ): "the MITRE identity gained x_mitre_domains without a new modified",
    (
        "mitre-attack-stix-data/mobile-attack/mobile-attack-1.0.json",
        "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
    ): "the copyright statement again, as released with Mobile 1.0",
    (
        "oasis-cti-python-stix2/stix2/test/v21/stix2_data/identity/"
        "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5/20170601000000000000.json",
        "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5",
    ): "python-stix2's trimmed copy of the MITRE identity",
    (
        "oasis-cti-python-stix2/stix2/test/v21/stix2_data/marking-definition/"
        "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168.json",
        "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
    ): "python-stix2's copy of the MITRE statement, with a created_by_ref added",
    (
        "oasis-cti-stix-validator/stix2validator/test/v21/test_examples/identity_custom.json",
        "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f",
    ): "the validator's example adds a custom property to the spec's Franistan identity",
}

# The two big sets are imported on SQLite only: on PostgreSQL they would double the runtime,
# and the smaller sets already cover every object type, versions and markings there.
BIG = ("dogesec-feeds2stix", "mitre-cti-capec-2.1")


def find_bundles(root: Path) -> list[Path]:
    """Every JSON file under ``root`` whose top level is a STIX bundle, in path order."""
    out = []
    for path in sorted(root.rglob("*.json")):
        if path.name.startswith("invalid_") or "/schemas/" in path.as_posix():
            continue  # the validator's deliberately broken files; JSON schemas
        try:
            document = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if isinstance(document, dict) and document.get("type") == "bundle":
            out.append(path)
    return out


Key = tuple[str, int]


def key_of(obj: dict[str, Any]) -> Key:
    stamp = obj.get("modified") or obj.get("created")
    return obj["id"], parse_timestamp(stamp) if isinstance(stamp, str) else 0


@dataclass
class Oracle:
    """What importing the files in order must do, worked out without kizuna's ingest."""

    stored: dict[Key, Any] = field(default_factory=dict)
    unchanged: int = 0
    conflicts: set[tuple[str, str]] = field(default_factory=set)
    invalid: set[tuple[str, str]] = field(default_factory=set)

    def run(self, root: Path, bundles: list[Path]) -> None:
        for path in bundles:
            rel = path.relative_to(root).as_posix()
            document = orjson.loads(path.read_bytes())
            assert (document.get("spec_version") == "2.0") is (rel in UPGRADED_FILES), rel
            for obj in document["objects"]:
                where = (rel, obj["id"])
                if where in KNOWN_INVALID:
                    self.invalid.add(where)
                    continue
                if rel in UPGRADED_FILES:
                    obj = upgraded(obj)
                key = key_of(obj)
                if key not in self.stored:
                    self.stored[key] = obj
                elif self.stored[key] == obj:
                    self.unchanged += 1
                else:
                    self.conflicts.add(where)


database = backend_url  # module-wide here: one import per backend


@dataclass
class Imported:
    node: Node
    root: Path
    bundles: list[Path]
    report: importer.Report
    oracle: Oracle
    seconds: float
    own: set[Key]  # what a fresh node holds already: its identity, kizuna's definitions


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def imported(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Imported]:
    root = require_shared_data("stix")
    bundles = find_bundles(root)
    if request.param == "postgresql":
        bundles = [b for b in bundles if b.relative_to(root).parts[0] not in BIG]
    with database(request.param) as url:
        node = init_node(
            tmp_path_factory.mktemp("real-data"),
            party_name="CERT-EU",
            jurisdiction="EU",
            kind="csirt",
            scheme="EU",
            database_url=url,
        )
        try:
            own = set(read_back(node))
            start = time.perf_counter()
            report = importer.import_paths(node, bundles)
            seconds = time.perf_counter() - start
            oracle = Oracle()
            oracle.run(root, bundles)
            yield Imported(node, root, bundles, report, oracle, seconds, own)
        finally:
            node.close()


def test_the_data_sets_are_all_there(imported: Imported) -> None:
    sets = {b.relative_to(imported.root).parts[0] for b in imported.bundles}
    expected = {"mitre-attack-stix-data", "oasis-cti-documentation", "oasis-cti-python-stix2",
                "oasis-cti-stix-common-objects", "oasis-cti-stix-validator",
                "oasis-cti-stix2-json-schemas"}  # fmt: skip
    if imported.node.db.is_sqlite:
        expected |= set(BIG)
    assert sets == expected
    assert imported.report.files == len(imported.bundles)


def test_every_refusal_is_known_and_has_its_reason(imported: Imported) -> None:
    refused: dict[tuple[str, str], str] = {}
    for f in imported.report.failures:
        file = f.where.rsplit("#", 1)[0]
        assert f.id is not None, f"a whole file was refused: {f}"
        refused[(Path(file).relative_to(imported.root).as_posix(), f.id)] = f.reason
    assert imported.oracle.conflicts == {k for k in KNOWN_CONFLICTS if k[0] in _files(imported)}
    expected_invalid = {k for k in KNOWN_INVALID if k[0] in _files(imported)}
    assert imported.oracle.invalid == expected_invalid
    assert refused.keys() == imported.oracle.conflicts | expected_invalid
    for where, reason in refused.items():
        if where in KNOWN_INVALID:
            assert KNOWN_INVALID[where][0] in reason, (where, reason)
        else:
            assert "already stored with different content" in reason, (where, reason)


def _files(imported: Imported) -> set[str]:
    return {b.relative_to(imported.root).as_posix() for b in imported.bundles}


def test_counts_match_the_oracle(imported: Imported) -> None:
    assert imported.report.stored == len(imported.oracle.stored)
    assert imported.report.unchanged == imported.oracle.unchanged


def read_back(node: Node) -> dict[Key, Any]:
    """Every stored version, through the gate, as the home party."""
    back: dict[Key, Any] = {}
    for r in export.releases(node, node.home_party, Filters(versions=("all",))):
        obj = orjson.loads(r.content)
        assert r.id == obj["id"]
        back[key_of(obj)] = obj
    return back


def test_everything_reads_back_as_the_same_json_value(imported: Imported) -> None:
    back = read_back(imported.node)
    assert any(oid == imported.node.home_party.id for oid, _ in imported.own)
    assert back.keys() - imported.own == imported.oracle.stored.keys()
    wrong = [k for k, obj in imported.oracle.stored.items() if back[k] != obj]
    assert not wrong, f"{len(wrong)} objects changed on the way, e.g. {wrong[:3]}"


def test_import_is_idempotent_and_reasonably_fast(imported: Imported) -> None:
    small = [b for b in imported.bundles if b.relative_to(imported.root).parts[0] not in BIG]
    # resume=False: read every file again, past the journal of finished files.
    again = importer.import_paths(imported.node, small, resume=False)
    assert again.stored == 0
    assert again.unchanged + len(again.failures) == sum(
        len(orjson.loads(b.read_bytes())["objects"]) for b in small
    )
    total = imported.report.stored + imported.report.unchanged + len(imported.report.failures)
    assert total / imported.seconds > 500, f"{total} objects in {imported.seconds:.1f} s"
