"""What time releases, over real loopback sockets (``kizuna serve`` subprocesses).

An embargo that ends must reach the parties it becomes releasable to, and an agreement that
starts must open its parties' views, though their pull cursors moved past those objects long
before; and neither may make a peer read the whole view again on every poll.
The clock here is the real one: the moments are a few seconds ahead, and the test waits for
them to pass (no timing is asserted).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faults import ids, sealed_by, versions
from federation_kit import PARTIES
from live_nodes import LiveNode, build
from scenario import STAMP, indicator, publish

from kizuna.core import agreements as core_agreements
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.services import agreements, sync
from kizuna.services.node import Node

pytestmark = pytest.mark.slow

NAMES = ["CERT-EU", "BSI", "NISC"]
CAST = {name: PARTIES[name] for name in NAMES}
OPEN = 60  # CERT-EU's GREEN indicators everyone entitled holds from the start


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Callable[[], dict[str, LiveNode]]]:
    made: list[LiveNode] = []

    def make() -> dict[str, LiveNode]:
        live = build(tmp_path, CAST, lambda nodes: None)
        made.extend(live.values())
        for node in live.values():
            node.start()
        for node in live.values():
            node.wait_ready()
        return live

    yield make
    for node in made:
        node.stop()


def agree(nodes: dict[str, Node], names: list[str], title: str, valid_from: int) -> str:
    """An agreement among ``names``, signed by each on its own key, stored on every node."""
    first = nodes[names[0]]
    document = agreements.from_template(
        first, {"title": title, "parties": names, "valid_from": format_timestamp(valid_from)}
    )
    for name in names:
        node = nodes[name]
        document = core_agreements.sign_document(document, node.home_party.id, node.private_key)
    for name in names:
        agreements.add(nodes[name], document)
    return str(document["id"])


def sync_round(live: dict[str, LiveNode]) -> dict[str, int]:
    """Every node pulls from its peers once; how many objects each pulled in all."""
    pulled = {}
    for live_node in live.values():
        with live_node.opened() as node:
            results = asyncio.run(sync.sync_all(node, timeout=30, backoff=0.05))
        for r in results:
            assert r.error is None, (live_node.name, r)
        pulled[live_node.name] = sum(r.pulled for r in results)
    return pulled


def wait_past(moment_us: int) -> None:
    while time.time() * 1e6 <= moment_us + 1000:
        time.sleep(0.05)


def test_an_embargo_that_ends_and_an_agreement_that_starts_reach_their_parties(
    cluster: Callable[[], dict[str, LiveNode]],
) -> None:
    live = cluster()
    eu_id = PARTIES["CERT-EU"][3]
    opened = {name: LiveNode.opened(node) for name, node in live.items()}
    nodes = {name: cm.__enter__() for name, cm in opened.items()}
    try:
        now = nodes["CERT-EU"].now()
        embargo_ends = now + 8_000_000
        nisc_starts = embargo_ends + 4_000_000
        agree(nodes, ["CERT-EU", "BSI"], "CERT-EU and BSI", now - 3_600_000_000)
        agree(nodes, ["CERT-EU", "BSI", "NISC"], "NISC joins", nisc_starts)
        green = TLP_MARKING_ID["green"]
        embargo = handling_marking(
            "marking-definition--e0000000-0000-4000-8000-00000000e001",
            STAMP,
            eu_id,
            embargo_until=format_timestamp(embargo_ends),
            embargo_participants=[],
            name="embargo for a few seconds",
        )
        held_back = [indicator("embargoed", n, eu_id, [green, embargo["id"]]) for n in range(3)]
        open_now = [indicator("open", n, eu_id, [green]) for n in range(OPEN)]
        publish(nodes["CERT-EU"], [embargo, *held_back, *open_now])
    finally:
        for cm in opened.values():
            cm.__exit__(None, None, None)
    embargoed = {o["id"] for o in held_back}
    opened_ids = {o["id"] for o in open_now}

    def holds(name: str) -> set[str]:
        with live[name].opened() as node:
            return ids(node, "indicator--")

    # Before the embargo ends: BSI holds the open objects only; NISC, whose agreement has not
    # started, holds nothing of CERT-EU's. Every cursor moves past the embargoed objects.
    sync_round(live)
    sync_round(live)
    assert time.time() * 1e6 < embargo_ends, "the first rounds must end before the embargo"
    assert holds("BSI") == opened_ids
    assert holds("NISC") == set()

    # The embargo ends: BSI receives the embargoed objects, without reading its view again.
    wait_past(embargo_ends)
    pulled = sync_round(live)
    assert time.time() * 1e6 < nisc_starts, "this round must end before NISC's agreement starts"
    assert holds("BSI") == opened_ids | embargoed
    assert holds("NISC") == set()
    # The re-dated objects and their seals re-enter the feed (from CERT-EU, and from BSI
    # relaying them once it has them): nothing like the whole view again.
    assert 0 < pulled["BSI"] <= 4 * len(embargoed), pulled
    with live["BSI"].opened() as bsi:
        for oid in embargoed:
            assert sealed_by(bsi, oid) == {eu_id}
        assert max(versions(bsi).values()) == 1

    # NISC's agreement starts: its parties' nodes read each other's views once again.
    wait_past(nisc_starts)
    sync_round(live)
    assert holds("NISC") == opened_ids | embargoed
    with live["NISC"].opened() as nisc:
        assert max(versions(nisc).values()) == 1
        for oid in embargoed:
            assert sealed_by(nisc, oid) == {eu_id}
    # Once NISC's copies have echoed back to their originator (the originator always
    # receives its own), a poll reads only what is new: nothing. No view is read again.
    sync_round(live)
    assert sync_round(live) == {"CERT-EU": 0, "BSI": 0, "NISC": 0}
