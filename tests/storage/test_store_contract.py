"""The storage contract, run against SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from kizuna.core.taxii import Filters, Query
from kizuna.errors import VersionConflict
from kizuna.services import ingest, taxii
from kizuna.services.node import Node
from kizuna.storage import migrate
from kizuna.storage import objects as store

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def indicator(n: int, modified: str = "2026-01-01T00:00:00.000Z") -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": f"[ipv4-addr:value = '10.0.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [CLEAR],
    }


def stored(node: Node, **filters: object) -> list[store.StoredVersion]:
    with node.db.read() as conn:
        return store.scan(conn, Filters(**filters), None, 10_000)  # type: ignore[arg-type]


def test_schema_is_at_head(node: Node) -> None:
    assert migrate.current(node.db) == migrate.head()


def test_store_and_read_back_same_json_value(node: Node) -> None:
    objs = [indicator(n) for n in range(5)]
    outcomes = ingest.ingest(node, objs, submitter=node.home_party, path="import")
    assert [o.status for o in outcomes] == ["stored"] * 5
    back = {v.id: orjson.loads(v.content) for v in stored(node, types=("indicator",))}
    assert back == {o["id"]: o for o in objs}


def test_same_version_same_content_is_unchanged(node: Node) -> None:
    ingest.ingest(node, [indicator(1)], submitter=node.home_party, path="import")
    again = ingest.ingest(node, [indicator(1)], submitter=node.home_party, path="import")
    assert again[0].status == "unchanged"
    assert len(stored(node, types=("indicator",))) == 1


def test_same_version_different_content_is_a_conflict(node: Node) -> None:
    ingest.ingest(node, [indicator(1)], submitter=node.home_party, path="import")
    changed = indicator(1)
    changed["name"] = "changed"
    outcome = ingest.ingest(node, [changed], submitter=node.home_party, path="import")[0]
    assert outcome.status == "failed"
    assert isinstance(outcome.error, VersionConflict)
    assert "new modified timestamp" in str(outcome.error)
    [kept] = stored(node, types=("indicator",))
    assert "name" not in orjson.loads(kept.content)


def test_conflict_inside_one_batch_keeps_the_first(node: Node) -> None:
    a, b = indicator(1), indicator(1)
    b["name"] = "other"
    outcomes = ingest.ingest(node, [a, b], submitter=node.home_party, path="import")
    assert [o.status for o in outcomes] == ["stored", "failed"]


def test_date_added_is_unique_and_strictly_increasing(node: Node) -> None:
    for batch in range(3):
        ingest.ingest(
            node,
            [indicator(batch * 10 + n) for n in range(10)],
            submitter=node.home_party,
            path="import",
        )
    dates = [v.date_added for v in stored(node, versions=("all",))]
    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)


def test_versions_latest_and_first_flags(node: Node) -> None:
    v1 = indicator(7, "2026-01-01T00:00:00.000Z")
    v3 = indicator(7, "2026-03-01T00:00:00.000Z")
    v2 = indicator(7, "2026-02-01T00:00:00.000Z")
    for v in (v1, v3, v2):  # arrive out of order
        assert (
            ingest.ingest(node, [v], submitter=node.home_party, path="import")[0].status == "stored"
        )
    [last] = stored(node, versions=("last",), types=("indicator",))
    [first] = stored(node, versions=("first",), types=("indicator",))
    assert orjson.loads(last.content)["modified"] == v3["modified"]
    assert orjson.loads(first.content)["modified"] == v1["modified"]
    assert len(stored(node, versions=("all",), types=("indicator",))) == 3


def test_invalid_objects_fail_alone(node: Node) -> None:
    bad = copy.deepcopy(indicator(2))
    del bad["pattern_type"]
    outcomes = ingest.ingest(
        node, [indicator(1), bad, indicator(3)], submitter=node.home_party, path="import"
    )
    assert [o.status for o in outcomes] == ["stored", "failed", "stored"]
    assert "pattern_type" in str(outcomes[1].error)


def test_paging_through_every_object(node: Node) -> None:
    ingest.ingest(node, [indicator(n) for n in range(25)], submitter=node.home_party, path="import")
    seen: list[str] = []
    cursor = None
    filters = Filters(types=("indicator",))
    while True:
        page = taxii.page(node, node.home_party, filters, Query(filters, None, 10, cursor))
        seen.extend(r.id for r in page.releases)
        if not page.more:
            break
        assert page.next is not None
        from kizuna.core.taxii import decode_cursor

        cursor = decode_cursor(page.next)
    assert len(seen) == 25 == len(set(seen))


@pytest.mark.parametrize("count", [0, 1])
def test_delete_versions_fixes_flags(node: Node, count: int) -> None:
    v1 = indicator(9, "2026-01-01T00:00:00.000Z")
    v2 = indicator(9, "2026-02-01T00:00:00.000Z")
    ingest.ingest(node, [v1, v2], submitter=node.home_party, path="import")
    latest = stored(node, versions=("last",), types=("indicator",))
    with node.db.write() as conn:
        store.delete_versions(conn, [latest[0].date_added])
    [remaining] = stored(node, versions=("last",), types=("indicator",))
    assert orjson.loads(remaining.content)["modified"] == v1["modified"]
    assert count in (0, 1)
