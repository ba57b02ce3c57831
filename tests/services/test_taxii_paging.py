"""TAXII paging through the gate (services.taxii.page), on each backend.

DESIGN.md: pages are filtered by the gate before ``limit`` applies, so ``more`` and ``next`` stay
truthful, and ``added_after`` paging never skips or repeats an object. Hypothesis mixes objects
released to a partner with withheld ones in any order and pages through them at any limit.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from kizuna.core.parties import Party
from kizuna.core.taxii import Filters, Query, decode_cursor
from kizuna.services import ingest, parties, taxii
from kizuna.services.node import Node, init_node
from kizuna.storage.schema import objects as objects_table

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """One node per module and backend; every test works on ids of its own."""
    url = None
    engine = None
    schema = "t_" + uuid.uuid4().hex[:12]
    if request.param == "postgresql":
        base = os.environ.get("KIZUNA_TEST_DATABASE_URL")
        if not base:
            pytest.skip("PostgreSQL tests need KIZUNA_TEST_DATABASE_URL")
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        in_schema = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        url = in_schema.render_as_string(hide_password=False)
    made = init_node(
        Path(tmp_path_factory.mktemp("paging")),
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        database_url=url,
    )
    try:
        yield made
    finally:
        made.close()
        if engine is not None:
            with engine.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            engine.dispose()


@pytest.fixture(scope="module")
def partner(node: Node) -> Party:
    return parties.add_party(node, "BSI", jurisdiction="DE", kind="government", scheme="DE")


def indicator(oid: str, released: bool) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '192.0.2.1']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [CLEAR if released else AMBER],
    }


def store(node: Node, pattern: list[bool]) -> tuple[list[str], list[str], Filters, int]:
    """Store home objects, released to the partner where ``pattern`` says.

    Returns their ids and the released ones' in ``date_added`` order (a batch's versions take
    random dates in its window), filters for indicators, and the ``added_after`` mark that
    leaves out everything stored before them.
    """
    with node.db.read() as conn:
        mark = conn.execute(select(func.max(objects_table.c.date_added))).scalar_one()
    ids = [f"indicator--{uuid.uuid4()}" for _ in pattern]
    objs = [indicator(i, r) for i, r in zip(ids, pattern, strict=True)]
    dated: list[tuple[int, str, bool]] = []
    for start in range(0, len(objs), 500):
        outcomes = ingest.ingest(
            node, objs[start : start + 500], submitter=node.home_party, path="import"
        )
        assert all(o.status == "stored" and o.date_added for o in outcomes)
        flags = pattern[start : start + 500]
        dated += [(o.date_added or 0, str(o.id), r) for o, r in zip(outcomes, flags, strict=True)]
    dated.sort()
    in_order = [i for _, i, _ in dated]
    released = [i for _, i, r in dated if r]
    return in_order, released, Filters(types=("indicator",), spec_versions=("2.1",)), int(mark)


def walk(node: Node, party: Party, filters: Filters, mark: int, limit: int) -> list[list[str]]:
    """Every page's object ids (seals left out), checking more/next on the way."""
    pages: list[list[str]] = []
    cursor: int | None = None
    while True:
        p = taxii.page(node, party, filters, Query(filters, mark, limit, cursor))
        objects = [r.id for r in p.releases]
        assert len(objects) <= limit
        assert (p.next is not None) is p.more
        if p.more:
            assert objects, "more must come with objects"
        pages.append(objects)
        if not p.more:
            return pages
        assert p.next is not None
        cursor = decode_cursor(p.next)
        assert len(pages) < 10_000


def decisions(node: Node, outcome: str) -> float:
    total = 0.0
    for metric in node.metrics.registry.collect():
        if metric.name == "kizuna_gate_decisions":
            for s in metric.samples:
                if s.name.endswith("_total") and s.labels["outcome"] == outcome:
                    total += s.value
    return total


@settings(
    max_examples=min(settings().max_examples, 60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(pattern=st.lists(st.booleans(), max_size=40), limit=st.integers(1, 12))
def test_pages_hold_every_released_object_once_in_order(
    node: Node, partner: Party, pattern: list[bool], limit: int
) -> None:
    ids, released, filters, mark = store(node, pattern)
    pages = walk(node, partner, filters, mark, limit)
    assert [i for page in pages for i in page] == released
    # more is truthful: after a page that says more, some released object is still to come.
    assert all(page for page in pages[:-1])
    # The home party sees everything, in full pages.
    home_pages = walk(node, node.home_party, filters, mark, limit)
    assert [i for page in home_pages for i in page] == ids
    assert all(len(page) == limit for page in home_pages[:-1])


def test_a_long_run_of_withheld_objects_is_skipped_unread(node: Node, partner: Party) -> None:
    """More withheld rows than one scan reads (services.taxii._MAX_SCAN), then one released:
    the view index (services.view) knows their handling is withheld from the partner, so no
    poll reads them, let alone judges them one by one."""
    pattern = [True] + [False] * 6000 + [True] + [False] * 50
    _, released, filters, mark = store(node, pattern)
    before = decisions(node, "withhold")
    for _ in range(2):  # every poll, not only the first
        pages = walk(node, partner, filters, mark, 1)
        assert pages == [[i] for i in released] and len(released) == 2
    assert decisions(node, "withhold") - before == 0


def test_cursors_and_added_after_resume_exactly(node: Node, partner: Party) -> None:
    _, released, filters, mark = store(node, [True, False, True, True, False, True])
    first = taxii.page(node, partner, filters, Query(filters, mark, 1, None))
    assert [r.id for r in first.releases] == released[:1] and first.next is not None
    cursor = decode_cursor(first.next)
    resumed = taxii.page(node, partner, filters, Query(filters, mark, 10, cursor))
    assert [r.id for r in resumed.releases] == released[1:]
    added = first.releases[0].version.date_added
    after = taxii.page(node, partner, filters, Query(filters, added, 10, None))
    assert [r.id for r in after.releases] == released[1:]
    assert not after.more and after.next is None
